/**
 * The request end of an inference exchange: the {@link GatewayRequest} plugins see, one class for
 * every request, with the IR decoded only when something reads it.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Codec } from './codec.ts';
import { GatewayError } from './errors.ts';
import type { IRRequest, Operation, WireFormat } from './ir.ts';
import type { GatewayRequest } from './plugin.ts';

/** Fields of a new request. */
export interface RequestInit {
  format: WireFormat;
  operation: Operation;
  model: string;
  stream: boolean;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  query: Record<string, string>;
}

/**
 * Builds the request object plugins see; `ir` is decoded on first access only.
 *
 * @example
 * ```ts
 * const request = createRequest({ format: 'openai', operation: 'chat', model, stream, body, headers, query }, codec);
 * ```
 */
export function createRequest(init: RequestInit, codec: Codec | undefined): GatewayRequest {
  return new InboundRequest(init, codec);
}

/** One class for every request: the same object shape each time, the IR decoded on demand. */
class InboundRequest implements GatewayRequest {
  readonly format: WireFormat;
  readonly operation: Operation;
  model: string;
  readonly stream: boolean;
  body: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
  readonly query: Record<string, string>;
  #codec: Codec | undefined;
  #ir: IRRequest | undefined = undefined;
  #rewritten = false;

  constructor(init: RequestInit, codec: Codec | undefined) {
    this.format = init.format;
    this.operation = init.operation;
    this.model = init.model;
    this.stream = init.stream;
    this.body = init.body;
    this.headers = init.headers;
    this.query = init.query;
    this.#codec = codec;
  }

  get ir(): IRRequest {
    if (!this.#codec) throw new GatewayError('unsupported', `no codec for format "${this.format}"`, { status: 500 });
    return (this.#ir ??= this.#codec.decodeRequest(this.body, { model: this.model, stream: this.stream }));
  }

  get rewritten(): boolean {
    return this.#rewritten;
  }

  rewrite(edit: (ir: IRRequest) => void): void {
    edit(this.ir);
    this.#rewritten = true;
  }
}

