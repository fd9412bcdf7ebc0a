/**
 * Relaying a streamed result to the client: passthrough (upstream messages untouched, a tap
 * decoder reading usage and errors) or conversion (decode → IR events → encode), what one
 * upstream read brought going out as one write, and failures after the first byte becoming the
 * client format's in-stream error event.
 *
 * @module
 */
import type { Codec, EncodeOptions, SSEMessage } from './codec.ts';
import { GatewayError, publicMessage, toGatewayError } from './errors.ts';
import type { IRError, IRStreamEvent, IRUsage, WireFormat } from './ir.ts';
import type { GatewayResult } from './plugin.ts';
import { formatSSE, hasBatches } from './sse.ts';

/** Codecs by wire format, collected from the pipeline's format plugins. */
export type CodecRegistry = ReadonlyMap<WireFormat, Codec>;

/** Converts any error into the IR error shape, with a client-safe message. */
export function toIRError(err: unknown): IRError {
  const e = toGatewayError(err);
  return { status: e.status, message: publicMessage(e), code: e.code };
}

/**
 * The codec of a format, or a 500 when the pipeline has none.
 *
 * @example
 * ```ts
 * codecFor(ctx.state.codecs, 'anthropic').decodeResponse(body);
 * ```
 */
export function codecFor(codecs: CodecRegistry, format: WireFormat): Codec {
  const c = codecs.get(format);
  if (!c) throw new GatewayError('unsupported', `no codec for format "${format}"`, { status: 500 });
  return c;
}

/** What a relay reports while the stream runs. */
export interface StreamHooks {
  usage(u: IRUsage): void;
  error(e: IRError): void;
}

/** A streamed result as IR events, whatever form it is in. */
export function toEvents(result: Extract<GatewayResult, { type: 'sse' | 'ir-stream' }>, codecs: CodecRegistry): AsyncIterable<IRStreamEvent> {
  return result.type === 'ir-stream' ? result.events : decodeEvents(result, codecs);
}

async function* decodeEvents(result: Extract<GatewayResult, { type: 'sse' }>, codecs: CodecRegistry): AsyncGenerator<IRStreamEvent> {
  const dec = codecFor(codecs, result.format).createStreamDecoder();
  for await (const m of result.messages) yield* dec.push(m);
  yield* dec.end();
}

/** Same format: relay messages untouched; a tap decoder reads usage and catches truncation. */
export async function* passthroughStream(messages: AsyncIterable<SSEMessage>, codec: Codec, hooks: StreamHooks, hidden?: (m: SSEMessage) => boolean) {
  const tap = codec.createStreamDecoder();
  const observe = (events: IRStreamEvent[]) => {
    for (const ev of events) {
      if (ev.type === 'usage') hooks.usage(ev.usage);
      if (ev.type === 'error') hooks.error(ev.error);
    }
    return events.find((e) => e.type === 'error');
  };
  let failed = false;
  let last: SSEMessage | undefined;
  const relay = (m: SSEMessage): string => {
    if (observe(tap.push(m))) failed = true; // the upstream's own error event: relayed as is
    if (hidden?.(m)) return '';
    last = m;
    return formatSSE(m);
  };
  try {
    if (hasBatches(messages)) {
      // what one upstream read brought goes out as one write
      for await (const batch of messages.batches()) {
        let out = '';
        for (const m of batch) out += relay(m);
        if (out) yield out;
      }
    } else {
      for await (const m of messages) {
        const out = relay(m);
        if (out) yield out;
      }
    }
  } catch (err) {
    const e = toIRError(err);
    hooks.error(e);
    yield codec.renderStreamError(e, last).map(formatSSE).join('');
    return;
  }
  const tail = observe(tap.end());
  if (tail && !failed && tail.type === 'error') yield codec.renderStreamError(tail.error, last).map(formatSSE).join('');
}

/**
 * A streamed result as batches of IR events: everything one upstream read brought, decoded at
 * once, when the parsed stream is still unwrapped; one event per batch otherwise.
 */
export async function* eventBatches(result: Extract<GatewayResult, { type: 'sse' | 'ir-stream' }>, codecs: CodecRegistry): AsyncGenerator<IRStreamEvent[]> {
  if (result.type === 'sse' && hasBatches(result.messages)) {
    const dec = codecFor(codecs, result.format).createStreamDecoder();
    for await (const batch of result.messages.batches()) {
      const events: IRStreamEvent[] = [];
      for (const m of batch) {
        try {
          for (const ev of dec.push(m)) events.push(ev);
        } catch (err) {
          if (events.length) yield events; // what decoded before the bad message still goes out
          throw err;
        }
      }
      if (events.length) yield events;
    }
    const tail = dec.end();
    if (tail.length) yield tail;
    return;
  }
  for await (const ev of toEvents(result, codecs)) yield [ev];
}

/** Different formats (or IR events): encode each batch of events for the client as one write. */
export async function* convertStream(
  batches: AsyncIterable<IRStreamEvent[]>,
  codec: Codec,
  opts: EncodeOptions,
  hooks: StreamHooks,
) {
  const enc = codec.createStreamEncoder(opts);
  try {
    for await (const events of batches) {
      let out = '';
      for (const ev of events) {
        if (ev.type === 'usage') hooks.usage(ev.usage);
        if (ev.type === 'error') hooks.error(ev.error);
        for (const m of enc.push(ev)) out += formatSSE(m);
        if (ev.type === 'error') {
          if (out) yield out;
          return; // nothing follows an error event
        }
      }
      if (out) yield out;
    }
  } catch (err) {
    const e = toIRError(err);
    hooks.error(e);
    const out = enc.push({ type: 'error', error: e });
    yield out.map(formatSSE).join('');
    return;
  }
  const out = enc.end();
  if (out.length) yield out.map(formatSSE).join('');
}
