/**
 * Session context for `sticky`: what one exchange looked like (asked model, serving target,
 * status, the last user message and the answer's text, usage), captured without breaking
 * passthrough — a streamed answer is observed as it flows, never buffered or re-encoded.
 *
 * @module
 */
import type { IRStreamEvent, IRUsage } from '../../core/ir.ts';
import type { GatewayContext } from '../../core/plugin.ts';
import type { SSEMessage } from '../../core/codec.ts';

/** One recorded exchange of a session. */
export interface Exchange {
  /** Epoch ms when the request arrived. */
  at: number;
  requestId: string;
  /** The model name the client asked for. */
  model: string;
  /** The target that served it (absent when every attempt failed). */
  provider?: string;
  targetModel?: string;
  status: number;
  stream: boolean;
  /** The last user message (text only, truncated). */
  input: string;
  /** The answer's text (truncated). */
  output: string;
  usage?: IRUsage;
  error?: { status: number; code: string };
}

/**
 * Text of the last user message of a chat request ('' when there is none or it cannot be read).
 *
 * @example
 * ```ts
 * const input = lastUserText(ctx, 4000);
 * ```
 */
export function lastUserText(ctx: GatewayContext, maxChars: number): string {
  const req = ctx.state.request;
  if (req.operation !== 'chat') return '';
  try {
    const last = [...req.ir.messages].reverse().find((m) => m.role === 'user');
    return (last?.content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('').slice(0, maxChars);
  } catch {
    return ''; // a body the IR cannot read is the provider's business, not the recorder's
  }
}

/** Accumulates answer text up to a bound. */
export interface TextSink {
  text: string;
}

/**
 * Observes the answer in `ctx.state.result` (call after `await next()`): a JSON or IR answer is
 * read at once; a stream is wrapped so its text is collected while it flows to the client.
 *
 * @example
 * ```ts
 * await next();
 * const sink = tapAnswer(ctx, 4000); // sink.text is complete once the response has ended
 * ```
 */
export function tapAnswer(ctx: GatewayContext, maxChars: number): TextSink {
  const sink: TextSink = { text: '' };
  const add = (s: string) => {
    if (sink.text.length < maxChars) sink.text += s.slice(0, maxChars - sink.text.length);
  };
  const onEvent = (ev: IRStreamEvent) => {
    if (ev.type === 'text_delta' || ev.type === 'refusal_delta') add(ev.text);
  };
  const r = ctx.state.result;
  if (!r || ctx.state.request.operation !== 'chat') return sink;
  if (r.type === 'ir') {
    for (const p of r.response.content) if (p.type === 'text' || p.type === 'refusal') add(p.text);
  } else if (r.type === 'json') {
    try {
      const res = ctx.state.codecs.get(r.format)?.decodeResponse(r.body);
      for (const p of res?.content ?? []) if (p.type === 'text' || p.type === 'refusal') add(p.text);
    } catch {
      // not a chat body we can read: record no text
    }
  } else if (r.type === 'ir-stream') {
    ctx.state.result = { ...r, events: tap(r.events, (ev) => onEvent(ev)) };
  } else {
    const decoder = ctx.state.codecs.get(r.format)?.createStreamDecoder();
    if (decoder) ctx.state.result = { ...r, messages: tap(r.messages, (m: SSEMessage) => decoder.push(m).forEach(onEvent)) };
  }
  return sink;
}

async function* tap<T>(source: AsyncIterable<T>, observe: (item: T) => void): AsyncGenerator<T> {
  for await (const item of source) {
    try {
      observe(item);
    } catch {
      // observing must never break the stream the client is reading
    }
    yield item;
  }
}
