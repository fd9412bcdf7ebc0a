/**
 * The two ends of an inference exchange: building the {@link GatewayRequest} (IR decoded lazily)
 * and writing a {@link GatewayResult} back in the client's format — passthrough when formats
 * match, decode → encode through the IR otherwise, streams relayed event by event.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Codec, SSEMessage } from './codec.ts';
import { GatewayError, publicMessage, toGatewayError } from './errors.ts';
import type { IRError, IRRequest, IRStreamEvent, IRUsage, Operation, WireFormat } from './ir.ts';
import type { GatewayContext, GatewayRequest, GatewayResult } from './plugin.ts';
import { formatSSE } from './sse.ts';

/** Codecs by wire format, collected from the pipeline's format plugins. */
export type CodecRegistry = ReadonlyMap<WireFormat, Codec>;

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
  let ir: IRRequest | undefined;
  let rewritten = false;
  return {
    ...init,
    get ir(): IRRequest {
      if (!codec) throw new GatewayError('unsupported', `no codec for format "${init.format}"`, { status: 500 });
      ir ??= codec.decodeRequest(this.body, { model: this.model, stream: init.stream });
      return ir;
    },
    get rewritten() {
      return rewritten;
    },
    rewrite(edit: (ir: IRRequest) => void) {
      edit(this.ir);
      rewritten = true;
    },
  };
}

/** Converts any error into the IR error shape, with a client-safe message. */
export function toIRError(err: unknown): IRError {
  const e = toGatewayError(err);
  return { status: e.status, message: publicMessage(e), code: e.code };
}

function codecFor(codecs: CodecRegistry, format: WireFormat): Codec {
  const c = codecs.get(format);
  if (!c) throw new GatewayError('unsupported', `no codec for format "${format}"`, { status: 500 });
  return c;
}

/**
 * Writes the result to the client in its own format. Non-stream bodies are set on `ctx.body`;
 * streams become a pull-based Node stream (back-pressure reaches the upstream socket).
 *
 * @example
 * ```ts
 * respond(ctx, ctx.state.result!, codecs);
 * ```
 */
export function respond(ctx: GatewayContext, result: GatewayResult, codecs: CodecRegistry): void {
  const req = ctx.state.request;
  const client = codecFor(codecs, req.format);
  // Only conversions read the IR here, and they have decoded it already (passthrough never does).
  const opts = () => ({ model: req.model, includeUsage: req.ir.includeUsage });
  for (const [k, v] of Object.entries(('headers' in result && result.headers) || {})) ctx.set(k, v);
  if (result.type === 'json' || result.type === 'ir') {
    if (result.type === 'json' && (result.format === req.format || req.operation !== 'chat')) {
      ctx.body = result.body;
      if (req.operation === 'chat') ctx.state.usage = safeUsage(() => codecFor(codecs, result.format).decodeResponse(result.body).usage);
      return;
    }
    const ir = result.type === 'ir' ? result.response : codecFor(codecs, result.format).decodeResponse(result.body);
    ctx.state.usage = ir.usage;
    ctx.body = client.encodeResponse(ir, opts());
    return;
  }
  ctx.set('content-type', 'text/event-stream; charset=utf-8');
  ctx.set('cache-control', 'no-cache');
  ctx.set('x-accel-buffering', 'no');
  ctx.req.socket.setNoDelay(true);
  const onUsage = (u: IRUsage) => (ctx.state.usage = u);
  const source =
    result.type === 'sse' && result.format === req.format
      ? passthroughStream(result.messages, client, onUsage)
      : convertStream(result.type === 'ir-stream' ? result.events : decodeEvents(result, codecs), client, opts(), onUsage);
  ctx.status = 200;
  ctx.body = Readable.from(source, { objectMode: false });
}

function safeUsage(read: () => IRUsage | undefined): IRUsage | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

async function* decodeEvents(result: Extract<GatewayResult, { type: 'sse' }>, codecs: CodecRegistry): AsyncGenerator<IRStreamEvent> {
  const dec = codecFor(codecs, result.format).createStreamDecoder();
  for await (const m of result.messages) yield* dec.push(m);
  yield* dec.end();
}

/** Same format: relay messages untouched; a tap decoder reads usage and catches truncation. */
async function* passthroughStream(messages: AsyncIterable<SSEMessage>, codec: Codec, onUsage: (u: IRUsage) => void) {
  const tap = codec.createStreamDecoder();
  const observe = (events: IRStreamEvent[]) => {
    for (const ev of events) if (ev.type === 'usage') onUsage(ev.usage);
    return events.find((e) => e.type === 'error');
  };
  let failed = false;
  try {
    for await (const m of messages) {
      if (observe(tap.push(m))) failed = true; // the upstream's own error event: relayed as is
      yield formatSSE(m);
    }
  } catch (err) {
    yield codec.renderStreamError(toIRError(err)).map(formatSSE).join('');
    return;
  }
  const tail = observe(tap.end());
  if (tail && !failed && tail.type === 'error') yield codec.renderStreamError(tail.error).map(formatSSE).join('');
}

/** Different formats (or IR events): encode each event for the client. */
async function* convertStream(
  events: AsyncIterable<IRStreamEvent>,
  codec: Codec,
  opts: { model: string; includeUsage?: boolean },
  onUsage: (u: IRUsage) => void,
) {
  const enc = codec.createStreamEncoder(opts);
  let errored = false;
  try {
    for await (const ev of events) {
      if (ev.type === 'usage') onUsage(ev.usage);
      if (ev.type === 'error') errored = true;
      const out = enc.push(ev);
      if (out.length) yield out.map(formatSSE).join('');
      if (errored) return;
    }
  } catch (err) {
    const out = enc.push({ type: 'error', error: toIRError(err) });
    yield out.map(formatSSE).join('');
    return;
  }
  const out = enc.end();
  if (out.length) yield out.map(formatSSE).join('');
}
