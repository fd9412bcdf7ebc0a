/**
 * Folds IR stream events into a complete IR response — for plugins that must remember what was
 * streamed (conversation history, session context, logging) without buffering the stream itself.
 *
 * @module
 */
import type { IRPart, IRResponse, IRStreamEvent } from '../../core/ir.ts';

/** An accumulator: feed events as they pass, read the response at the end. */
export interface Accumulator {
  push(ev: IRStreamEvent): void;
  /** The response so far (complete once a `finish` went by). */
  result(): IRResponse;
  /** Whether the stream ended successfully (a finish and no error). */
  readonly ok: boolean;
}

/**
 * Creates an accumulator.
 *
 * @example
 * ```ts
 * const acc = accumulate();
 * mapEvents(ctx, (ev) => { acc.push(ev); return ev; });
 * ctx.state.onDone(() => acc.ok && save(acc.result()));
 * ```
 */
export function accumulate(): Accumulator {
  const res: IRResponse = { id: '', model: '', created: Math.floor(Date.now() / 1000), content: [], finishReason: 'stop' };
  let finished = false;
  let failed = false;
  const calls = new Map<number, Extract<IRPart, { type: 'tool_call' }>>();
  const last = () => res.content[res.content.length - 1];
  return {
    get ok() {
      return finished && !failed;
    },
    result: () => res,
    push(ev) {
      switch (ev.type) {
        case 'start':
          res.id = ev.id;
          res.model = ev.model;
          if (ev.created) res.created = ev.created;
          break;
        case 'text_delta': {
          const l = last();
          if (l?.type === 'text') l.text += ev.text;
          else res.content.push({ type: 'text', text: ev.text, ...(ev.thoughtSignature ? { thoughtSignature: ev.thoughtSignature } : {}) });
          break;
        }
        case 'refusal_delta': {
          const l = last();
          if (l?.type === 'refusal') l.text += ev.text;
          else res.content.push({ type: 'refusal', text: ev.text });
          break;
        }
        case 'reasoning_delta': {
          const l = last();
          if (l?.type === 'reasoning' && !l.signature && !l.encrypted) l.text += ev.text;
          else res.content.push({ type: 'reasoning', text: ev.text });
          break;
        }
        case 'reasoning_end': {
          let l = last();
          if (l?.type !== 'reasoning') res.content.push((l = { type: 'reasoning', text: '' }));
          if (l.type === 'reasoning') Object.assign(l, { origin: ev.origin, signature: ev.signature, encrypted: ev.encrypted, id: ev.id });
          break;
        }
        case 'reasoning_redacted':
          res.content.push({ type: 'reasoning', text: '', origin: ev.origin, redacted: ev.data });
          break;
        case 'tool_call_start': {
          const part = { type: 'tool_call' as const, id: ev.id, name: ev.name, arguments: '', ...(ev.thoughtSignature ? { thoughtSignature: ev.thoughtSignature } : {}) };
          calls.set(ev.index, part);
          res.content.push(part);
          break;
        }
        case 'tool_call_delta': {
          const c = calls.get(ev.index);
          if (c) c.arguments += ev.arguments;
          break;
        }
        case 'tool_call_end': {
          const c = calls.get(ev.index);
          if (c && !c.arguments) c.arguments = '{}';
          break;
        }
        case 'usage':
          res.usage = ev.usage;
          break;
        case 'finish':
          res.finishReason = ev.reason;
          res.stopSequence = ev.stopSequence;
          finished = true;
          break;
        case 'error':
          failed = true;
          break;
      }
    },
  };
}

/**
 * The events a stream of `res` would have had: the inverse of {@link accumulate}, used to
 * synthesize a stream from a complete response.
 *
 * @example
 * ```ts
 * return { type: 'ir-stream', events: responseEvents(response) };
 * ```
 */
export async function* responseEvents(res: IRResponse): AsyncGenerator<IRStreamEvent> {
  yield { type: 'start', id: res.id, model: res.model, created: res.created, ...(res.usage ? { usage: { inputTokens: res.usage.inputTokens } } : {}) };
  let index = 0;
  for (const p of res.content) {
    if (p.type === 'text') yield { type: 'text_delta', text: p.text, ...(p.thoughtSignature ? { thoughtSignature: p.thoughtSignature } : {}) };
    else if (p.type === 'refusal') yield { type: 'refusal_delta', text: p.text };
    else if (p.type === 'reasoning') {
      if (p.redacted !== undefined && p.origin) {
        yield { type: 'reasoning_redacted', origin: p.origin, data: p.redacted };
        continue;
      }
      if (p.text) yield { type: 'reasoning_delta', text: p.text };
      if (p.origin) yield { type: 'reasoning_end', origin: p.origin, signature: p.signature, encrypted: p.encrypted, id: p.id };
    } else if (p.type === 'tool_call') {
      yield { type: 'tool_call_start', index, id: p.id, name: p.name, ...(p.thoughtSignature ? { thoughtSignature: p.thoughtSignature } : {}) };
      yield { type: 'tool_call_delta', index, arguments: p.arguments };
      yield { type: 'tool_call_end', index: index++ };
    }
  }
  yield { type: 'finish', reason: res.finishReason, ...(res.stopSequence !== undefined ? { stopSequence: res.stopSequence } : {}) };
  if (res.usage) yield { type: 'usage', usage: res.usage };
}
