/**
 * The answer end of an inference exchange: writing a {@link GatewayResult} back in the client's
 * format — passthrough when formats match, decode → encode through the IR otherwise (streams
 * through `relay.ts`; the request end is `request.ts`) — and the result transforms for plugins.
 *
 * @module
 */
import type { Codec, EncodeOptions } from './codec.ts';
import type { IRResponse, IRStreamEvent, IRUsage } from './ir.ts';
import { JsonAnswer } from './json-answer.ts';
import { setBytesBody } from './koa-app.ts';
import { sendStream } from './stream-out.ts';
import type { GatewayContext, GatewayResult } from './plugin.ts';
import { codecFor, convertStream, eventBatches, passthroughStream, toEvents, type CodecRegistry, type StreamHooks } from './relay.ts';

export type { CodecRegistry } from './relay.ts';

/**
 * Writes the result to the client in its own format. Non-stream bodies are set on `ctx.body`;
 * streams are written by the core once the pipeline unwinds, pulled as the client's socket
 * drains (back-pressure reaches the upstream socket; see `stream-out.ts`).
 *
 * @example
 * ```ts
 * respond(ctx, ctx.state.result!, codecs);
 * ```
 */
export function respond(ctx: GatewayContext, result: GatewayResult, codecs: CodecRegistry, opts: RespondOptions = {}): void {
  const req = ctx.state.request;
  const client = codecFor(codecs, req.format);
  // Only conversions read the IR here, and they have decoded it already (passthrough never does).
  const encodeOpts = (): EncodeOptions => ({ model: req.model, includeUsage: req.ir.includeUsage, tools: req.ir.tools, legacyFunctions: req.ir.legacyFunctions });
  const extra = 'headers' in result ? result.headers : undefined;
  if (extra) for (const k in extra) ctx.set(k, extra[k]!);
  if (result.type === 'json' || result.type === 'ir') {
    ctx.state.firstByteAt = Date.now();
    // Set before the body: Koa then skips its MIME lookup for JSON bodies.
    if (!ctx.res.hasHeader('content-type')) ctx.res.setHeader('content-type', JSON_TYPE);
    if (result.type === 'json' && (result.format === req.format || req.operation !== 'chat')) {
      // Upstream bytes nobody touched go out as they came; otherwise the (maybe edited) body.
      const bytes = result instanceof JsonAnswer ? result.untouchedBytes() : undefined;
      const body = bytes ? undefined : result.body;
      if (bytes) setBytesBody(ctx, bytes);
      else ctx.body = body;
      if (req.operation === 'chat') ctx.state.usage = safeUsage(codecFor(codecs, result.format), body ?? (result as JsonAnswer).usageSource());
      return;
    }
    const ir = result.type === 'ir' ? result.response : codecFor(codecs, result.format).decodeResponse(result.body);
    ctx.state.usage = ir.usage;
    ctx.body = client.encodeResponse(ir, encodeOpts());
    return;
  }
  ctx.set('content-type', 'text/event-stream; charset=utf-8');
  ctx.set('cache-control', 'no-cache');
  ctx.set('x-accel-buffering', 'no');
  ctx.req.socket.setNoDelay(true);
  const hooks: StreamHooks = {
    usage: (u) => (ctx.state.usage = u),
    error: (e) => (ctx.state.error = { status: e.status, code: e.code ?? 'stream_error' }),
  };
  const source =
    result.type === 'sse' && result.format === req.format
      ? passthroughStream(result.messages, client, hooks, result.hidden)
      : convertStream(eventBatches(result, codecs), client, encodeOpts(), hooks);
  ctx.status = 200;
  const beat = opts.keepAliveMs ? keepAlive(ctx, opts.keepAliveMs) : undefined;
  sendStream(ctx, stampFirstByte(source, ctx, beat));
}

/** Options for {@link respond}. */
export interface RespondOptions {
  /** SSE comment after this much silence in a stream (`server.sseKeepAliveMs`); 0 or absent: never. */
  keepAliveMs?: number;
}

/**
 * A timer that writes an SSE comment (`: keep-alive`) whenever the stream has been silent for
 * `ms`; each relayed chunk re-arms it. Comments are ignored by every SSE client (the official
 * SDKs included) and go between whole events, never inside one.
 */
function keepAlive(ctx: GatewayContext, ms: number): NodeJS.Timeout {
  const res = ctx.res;
  const timer = setTimeout(function beat() {
    if (res.writableEnded || res.destroyed) return;
    res.write(': keep-alive\n\n');
    timer.refresh();
  }, ms).unref();
  res.once('close', () => clearTimeout(timer));
  return timer;
}

async function* stampFirstByte(source: AsyncIterable<string>, ctx: GatewayContext, beat?: NodeJS.Timeout): AsyncGenerator<string> {
  try {
    for await (const chunk of source) {
      ctx.state.firstByteAt ??= Date.now();
      beat?.refresh();
      yield chunk;
    }
  } finally {
    clearTimeout(beat); // the last event is out: nothing more to keep alive
  }
}

/** Options for {@link mapEvents}. */
export interface MapEventsOptions {
  /** Called once when the source ends normally; its events go out last (e.g. held-back text). */
  flush?(): IRStreamEvent[];
}

/**
 * Transforms a streamed result event by event (after `await next()` in a plugin). Returning
 * `null` drops the event, an array replaces it with several; `flush` emits what a stateful
 * transform still holds when the source ends. Events flow one at a time (nothing is buffered
 * here). The stream is then re-encoded for the client, so passthrough no longer applies.
 * Non-stream results are left untouched (see {@link mapResponse}).
 *
 * @example
 * ```ts
 * await next();
 * mapEvents(ctx, (ev) => (ev.type === 'text_delta' ? { ...ev, text: ev.text.toUpperCase() } : ev));
 * ```
 */
export function mapEvents(
  ctx: GatewayContext,
  fn: (ev: IRStreamEvent) => IRStreamEvent | IRStreamEvent[] | null | undefined,
  opts: MapEventsOptions = {},
): void {
  const r = ctx.state.result;
  if (!r || (r.type !== 'sse' && r.type !== 'ir-stream')) return;
  const source = toEvents(r, ctx.state.codecs);
  ctx.state.result = {
    type: 'ir-stream',
    events: (async function* () {
      for await (const ev of source) {
        const out = fn(ev);
        if (out == null) continue;
        if (Array.isArray(out)) yield* out;
        else yield out;
      }
      if (opts.flush) yield* opts.flush();
    })(),
  };
}

/**
 * Transforms a non-stream chat result in the IR (after `await next()` in a plugin).
 *
 * @example
 * ```ts
 * await next();
 * mapResponse(ctx, (res) => ({ ...res, content: res.content.filter((p) => p.type !== 'reasoning') }));
 * ```
 */
export function mapResponse(ctx: GatewayContext, fn: (res: IRResponse) => IRResponse): void {
  const r = ctx.state.result;
  if (!r || ctx.state.request.operation !== 'chat') return;
  if (r.type === 'ir') ctx.state.result = { type: 'ir', response: fn(r.response) };
  else if (r.type === 'json') ctx.state.result = { type: 'ir', response: fn(codecFor(ctx.state.codecs, r.format).decodeResponse(r.body)) };
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The usage of a passthrough body, or nothing when the body cannot be read. */
function safeUsage(codec: Codec, body: Record<string, unknown>): IRUsage | undefined {
  try {
    return codec.responseUsage ? codec.responseUsage(body) : codec.decodeResponse(body).usage;
  } catch {
    return undefined;
  }
}
