/**
 * The legacy `functions` answer shape (WIRE-FORMATS §4 #40). A Chat client that declared its tools
 * with `functions` instead of `tools` (IR `legacyFunctions`) reads `message.function_call` and
 * `finish_reason:"function_call"`, never `tool_calls`; these helpers give both Chat encoders
 * (`response.ts`, `stream-encode.ts`) that shape.
 *
 * Parallel calls: the legacy shape holds exactly one call. `decodeRequest` already asks the
 * upstream for one call at a time (`parallelToolCalls: false`), but an upstream without that switch
 * (Gemini) may still answer with several. The first call is then shown and the others are dropped:
 * - a legacy client cannot read `tool_calls` at all, so falling back to them would lose every call;
 * - a stream has already sent the first call when a second one starts, so "first wins" is the one
 *   rule the stream and non-stream encoders can both keep;
 * - the client's next turn carries only the call it saw (and its result), so the history it sends
 *   stays consistent for every upstream (none sees a call without a result).
 * Codecs are pure (no logger): the drop is documented here rather than logged.
 *
 * @module
 */
import type { IRStreamEvent } from '../../core/ir.ts';
import type { Json } from './wire.ts';

/** The IR index of the one call a legacy client is shown (IR tool calls are numbered from 0 in order). */
const SHOWN = 0;

/** A Chat `tool_calls` entry, as `encodeResponse` builds it. */
interface ChatToolCall {
  function: { name: string; arguments: string };
}

/**
 * `message.function_call` for a legacy client: the first of the Chat tool calls (id and type have
 * no legacy form), or `undefined` when there is none.
 *
 * @example
 * ```ts
 * legacyFunctionCall([{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }]);
 * // → { name: 'f', arguments: '{}' }
 * ```
 */
export function legacyFunctionCall(toolCalls: ChatToolCall[]): Json | undefined {
  const shown = toolCalls[SHOWN];
  return shown && { name: shown.function.name, arguments: shown.function.arguments };
}

/**
 * The stream `delta` a legacy client gets for a tool-call event: `function_call` with the name (and
 * empty arguments, as OpenAI streams it) on the start, argument fragments after; `undefined` for
 * the calls it is not shown and for empty fragments.
 *
 * @example
 * ```ts
 * legacyCallDelta({ type: 'tool_call_start', index: 0, id: 'call_1', name: 'f' }, (n) => n);
 * // → { function_call: { name: 'f', arguments: '' } }
 * legacyCallDelta({ type: 'tool_call_delta', index: 0, arguments: '{"a":' }, (n) => n);
 * // → { function_call: { arguments: '{"a":' } }
 * ```
 */
export function legacyCallDelta(
  ev: Extract<IRStreamEvent, { type: 'tool_call_start' | 'tool_call_delta' }>,
  nameOf: (name: string) => string,
): Json | undefined {
  if (ev.index !== SHOWN) return undefined;
  if (ev.type === 'tool_call_start') return { function_call: { name: nameOf(ev.name), arguments: '' } };
  return ev.arguments ? { function_call: { arguments: ev.arguments } } : undefined;
}
