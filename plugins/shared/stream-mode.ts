/**
 * Stream ⇄ non-stream synthesis for upstreams that can only do one: a provider declared
 * `streaming: 'none'` is always called without streaming and the gateway synthesizes a valid
 * stream from the full answer; `streaming: 'only'` is always called streaming and the gateway
 * aggregates the stream into a full answer. Either way the client gets what it asked for, in
 * its own format.
 *
 * @module
 */
import type { Codec } from '../../core/codec.ts';
import { UpstreamError } from '../../core/errors.ts';
import type { IRStreamEvent } from '../../core/ir.ts';
import type { GatewayRequest, GatewayResult, ProviderCall } from '../../core/plugin.ts';
import { accumulate, responseEvents } from './accumulate.ts';

/** What an upstream can do. `both` (the default) changes nothing. */
export type StreamingSupport = 'both' | 'none' | 'only';

/**
 * The options every HTTP provider factory takes beside its base URL and key.
 *
 * @example
 * ```ts
 * export interface MyOptions extends UpstreamOptions { baseURL?: string; apiKey?: string }
 * ```
 */
export interface UpstreamOptions {
  /** Extra headers on every upstream request. */
  headers?: Record<string, string>;
  /** Time allowed to start answering and between streamed chunks, in ms. @default 300_000 */
  timeoutMs?: number;
  /** Time allowed to open a connection, in ms. @default 10_000 */
  connectTimeoutMs?: number;
  /**
   * What the upstream supports: `none` (cannot stream — the gateway synthesizes streams from full
   * answers) or `only` (cannot answer without streaming — the gateway aggregates). @default 'both'
   */
  streaming?: StreamingSupport;
}

/** The same request, asking for `stream`, encoded from the IR (so the body's flags follow). */
function withStream(req: GatewayRequest, stream: boolean): GatewayRequest {
  const ir = { ...req.ir, stream, ...(stream ? { includeUsage: true } : {}) };
  return {
    format: req.format,
    operation: req.operation,
    model: req.model,
    stream,
    body: req.body,
    headers: req.headers,
    query: req.query,
    ir,
    rewritten: true,
    rewrite: (edit) => edit(ir),
  };
}

async function* decode(result: GatewayResult, codec: Codec): AsyncGenerator<IRStreamEvent> {
  if (result.type === 'ir-stream') return yield* result.events;
  if (result.type !== 'sse') return;
  const dec = codec.createStreamDecoder();
  for await (const m of result.messages) yield* dec.push(m);
  yield* dec.end();
}

/**
 * Runs a provider call, adapting streaming to what the upstream supports.
 *
 * @example
 * ```ts
 * call: (c) => adaptStreaming(c, opts.streaming, openaiCodec, send),
 * ```
 */
export function adaptStreaming(
  call: ProviderCall,
  support: StreamingSupport | undefined,
  codec: Codec,
  run: (call: ProviderCall) => Promise<GatewayResult>,
): Promise<GatewayResult> {
  if (!support || support === 'both' || call.request.operation !== 'chat') return run(call); // no async frame on the usual path
  return adapt(call, support, codec, run);
}

async function adapt(
  call: ProviderCall,
  support: StreamingSupport,
  codec: Codec,
  run: (call: ProviderCall) => Promise<GatewayResult>,
): Promise<GatewayResult> {
  const req = call.request;
  if (support === 'none' && req.stream) {
    const result = await run({ ...call, request: withStream(req, false) });
    const response = result.type === 'ir' ? result.response : result.type === 'json' ? codec.decodeResponse(result.body) : undefined;
    if (!response) return result;
    return { type: 'ir-stream', events: responseEvents(response) };
  }
  if (support === 'only' && !req.stream) {
    const result = await run({ ...call, request: withStream(req, true) });
    const acc = accumulate();
    for await (const ev of decode(result, codec)) {
      if (ev.type === 'error') {
        throw new UpstreamError(ev.error.code ?? 'upstream_error', `upstream "${call.name}" failed: ${ev.error.message}`, {
          status: ev.error.status,
          provider: call.name,
          upstreamStatus: ev.error.status,
        });
      }
      acc.push(ev);
    }
    if (!acc.ok) throw new UpstreamError('upstream_truncated', `upstream "${call.name}" ended its stream early`, { status: 502, provider: call.name });
    return { type: 'ir', response: acc.result() };
  }
  return run(call);
}
