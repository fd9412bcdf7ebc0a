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
  /** The text `body` was parsed from: sent as it is to a same-format upstream when nothing read `body`. */
  text?: string;
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

/**
 * One class for every request: the same object shape each time, the IR decoded on demand. Reading
 * or assigning `body` marks the client's text stale (a plugin may edit the object in place), so
 * only a body nobody looked at goes upstream as the text it came in (see {@link untouchedText}).
 */
class InboundRequest implements GatewayRequest {
  readonly format: WireFormat;
  readonly operation: Operation;
  model: string;
  readonly stream: boolean;
  readonly headers: IncomingHttpHeaders;
  readonly query: Record<string, string>;
  #body: Record<string, unknown>;
  #text: string | undefined;
  #codec: Codec | undefined;
  #ir: IRRequest | undefined = undefined;
  #rewritten = false;

  constructor(init: RequestInit, codec: Codec | undefined) {
    this.format = init.format;
    this.operation = init.operation;
    this.model = init.model;
    this.stream = init.stream;
    this.#body = init.body;
    this.#text = init.text;
    this.headers = init.headers;
    this.query = init.query;
    this.#codec = codec;
  }

  get body(): Record<string, unknown> {
    this.#text = undefined;
    return this.#body;
  }

  set body(v: Record<string, unknown>) {
    this.#text = undefined;
    this.#body = v;
  }

  get ir(): IRRequest {
    if (!this.#codec) throw new GatewayError('unsupported', `no codec for format "${this.format}"`, { status: 500 });
    return (this.#ir ??= this.#codec.decodeRequest(this.#body, { model: this.model, stream: this.stream }));
  }

  /** @internal See {@link untouchedText}. */
  untouched(model: string): string | undefined {
    return this.#text !== undefined && !this.#rewritten && this.#body.model === model ? this.#text : undefined;
  }

  get rewritten(): boolean {
    return this.#rewritten;
  }

  rewrite(edit: (ir: IRRequest) => void): void {
    edit(this.ir);
    this.#rewritten = true;
  }
}


/**
 * The client's body text, when it can go to a same-format upstream as it is: nothing read or
 * replaced `body` (so no edit was made in place), nothing rewrote the request, and the body's
 * `model` is already `model`. Undefined otherwise (the body is then serialized).
 *
 * @example
 * ```ts
 * const text = untouchedText(call.request, call.target.model); // no JSON.stringify of the body
 * ```
 */
export function untouchedText(req: GatewayRequest, model: string): string | undefined {
  return req instanceof InboundRequest ? req.untouched(model) : undefined;
}
