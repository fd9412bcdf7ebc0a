/**
 * Tool-call items of a client Responses stream (WIRE-FORMATS §2.2): a `function_call` item streams
 * its JSON arguments as `function_call_arguments.delta` events and ends with `.done`. A call of a
 * tool the client declared as freeform (`custom`, custom.ts) is a `custom_tool_call` item instead:
 * its IR arguments (`{"input":"…"}`) are buffered, and when the call ends its raw input goes out as
 * one `custom_tool_call_input.delta` plus `custom_tool_call_input.done` — never as
 * `function_call_arguments.*`. Event numbering is the caller's.
 *
 * @module
 */
import type { SSEMessage } from '../../core/codec.ts';
import { customInput } from './custom.ts';
import { itemId, type Json } from './wire.ts';

/** Numbers and frames one stream event. */
export type Emit = (type: string, data: Json) => SSEMessage;

/** One open call item. */
export interface OpenCall {
  id: string;
  index: number;
  callId: string;
  /** The client-side name fields (`name`, and `namespace` for a namespace tool). */
  name: Json;
  /** The IR arguments (JSON text) received so far. */
  args: string;
  custom: boolean;
}

/**
 * Opens the item of a call at output `index`: `output_item.added` with empty arguments / input.
 *
 * @example
 * ```ts
 * const { call, events } = openCall(ev, { respId, index: 2, callId: 'call_1', name: { name: 'apply_patch' }, custom: true });
 * ```
 */
export function openCall(
  ev: Emit,
  at: { respId: string; index: number; callId: string; name: Json; custom: boolean },
): { call: OpenCall; events: SSEMessage[] } {
  const call: OpenCall = {
    id: itemId(at.custom ? 'ctc_' : 'fc_', at.respId, at.index),
    index: at.index,
    callId: at.callId,
    name: at.name,
    args: '',
    custom: at.custom,
  };
  return { call, events: [ev('response.output_item.added', { output_index: call.index, item: callItem(call, 'in_progress', '') })] };
}

/**
 * A fragment of the call's IR arguments: a `function_call_arguments.delta`, or nothing yet for a
 * freeform call (its input is only known once the JSON is complete).
 */
export function callDelta(ev: Emit, c: OpenCall, args: string): SSEMessage[] {
  if (!args) return [];
  c.args += args;
  if (c.custom) return [];
  return [ev('response.function_call_arguments.delta', { item_id: c.id, output_index: c.index, delta: args })];
}

/**
 * Ends the call with item `status`: the final arguments / input events and `output_item.done`.
 * Returns the finished item for the terminal event's `output`.
 */
export function closeCall(ev: Emit, c: OpenCall, status: string): { item: Json; events: SSEMessage[] } {
  const events: SSEMessage[] = [];
  const at = { item_id: c.id, output_index: c.index };
  let item: Json;
  if (c.custom) {
    const input = customInput(c.args);
    events.push(ev('response.custom_tool_call_input.delta', { ...at, delta: input }));
    events.push(ev('response.custom_tool_call_input.done', { ...at, input }));
    item = callItem(c, status, input);
  } else {
    if (!c.args) {
      c.args = '{}'; // a call without arguments still sends valid JSON text
      events.push(ev('response.function_call_arguments.delta', { ...at, delta: c.args }));
    }
    events.push(ev('response.function_call_arguments.done', { ...at, name: c.name.name, arguments: c.args }));
    item = callItem(c, status, c.args);
  }
  events.push(ev('response.output_item.done', { output_index: c.index, item }));
  return { item, events };
}

/** The call's item: `arguments` for a function call, `input` for a freeform one. */
function callItem(c: OpenCall, status: string, text: string): Json {
  if (c.custom) return { id: c.id, type: 'custom_tool_call', status, call_id: c.callId, ...c.name, input: text };
  return { id: c.id, type: 'function_call', status, call_id: c.callId, ...c.name, arguments: text };
}
