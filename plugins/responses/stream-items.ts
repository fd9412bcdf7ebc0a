/**
 * The output items of one client Responses stream (WIRE-FORMATS §2.2): IR content events open,
 * fill and close `message` (text: `content_part.*` + `output_text.*`; refusal: `refusal.*`),
 * `reasoning` (`reasoning_summary_part.*` + `reasoning_summary_text.*`) and tool-call items
 * (`function_call` / `custom_tool_call`, stream-calls.ts), each with its full `output_item.added` …
 * `output_item.done` sequence. Ids (`msg_`, `fc_`, `ctc_`, `rs_`) are fixed when an item opens; the
 * finished items are kept in `output` for the terminal event. Event numbering is the caller's (one
 * counter per stream).
 *
 * @module
 */
import type { SSEMessage } from '../../core/codec.ts';
import type { IRStreamEvent } from '../../core/ir.ts';
import type { IsCustomCall } from './custom.ts';
import { reasoningItem } from './response.ts';
import { callDelta, closeCall as endCall, type Emit, type OpenCall, openCall } from './stream-calls.ts';
import { type CallName, itemId, type Json } from './wire.ts';

interface OpenMessage {
  id: string;
  index: number;
  parts: Json[];
  cur?: { kind: 'output_text' | 'refusal'; text: string; index: number };
}
interface OpenReasoning {
  id: string;
  index: number;
  text: string;
  partOpen: boolean;
}

/** The item state of one stream, driven by IR content events. */
export interface OutputItems {
  /** The finished items, by output index (the `output` of the terminal event). */
  readonly output: Json[];
  /** Handles one content event (text, refusal, reasoning, tool call); others produce nothing. */
  push(e: IRStreamEvent): SSEMessage[];
  /** Closes every open item with `status` (at finish). */
  closeAll(status: string): SSEMessage[];
}

/**
 * Creates the item state for one stream. `ev` numbers and frames an event; `respId` is the
 * response id (known once the stream began); `callName` gives a call's client-side name fields;
 * `isCustom` tells the calls of the client's freeform tools.
 *
 * @example
 * ```ts
 * const items = createOutputItems(ev, () => respId, clientCallName(opts), clientCustomCalls(opts));
 * out.push(...items.push({ type: 'text_delta', text: 'Hi' }));
 * ```
 */
export function createOutputItems(ev: Emit, respId: () => string, callName: CallName, isCustom: IsCustomCall): OutputItems {
  const output: Json[] = [];
  let nextIndex = 0;
  let msg: OpenMessage | undefined;
  let rs: OpenReasoning | undefined;
  const calls = new Map<number, OpenCall>();

  const closePart = (): SSEMessage[] => {
    const c = msg?.cur;
    if (!msg || !c) return [];
    msg.cur = undefined;
    const at = { item_id: msg.id, output_index: msg.index, content_index: c.index };
    const part = c.kind === 'output_text' ? { type: 'output_text', text: c.text, annotations: [] } : { type: 'refusal', refusal: c.text };
    msg.parts.push(part);
    const textDone =
      c.kind === 'output_text'
        ? ev('response.output_text.done', { ...at, text: c.text, logprobs: [] })
        : ev('response.refusal.done', { ...at, refusal: c.text });
    return [textDone, ev('response.content_part.done', { ...at, part })];
  };

  const closeMessage = (status = 'completed'): SSEMessage[] => {
    if (!msg) return [];
    const out = closePart();
    const item = { id: msg.id, type: 'message', status, role: 'assistant', content: msg.parts };
    output[msg.index] = item;
    out.push(ev('response.output_item.done', { output_index: msg.index, item }));
    msg = undefined;
    return out;
  };

  const closeReasoning = (encrypted?: string): SSEMessage[] => {
    if (!rs) return [];
    const out: SSEMessage[] = [];
    const at = { item_id: rs.id, output_index: rs.index, summary_index: 0 };
    if (rs.partOpen) {
      out.push(ev('response.reasoning_summary_text.done', { ...at, text: rs.text }));
      out.push(ev('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text: rs.text } }));
    }
    const item = reasoningItem(rs.id, rs.text, encrypted);
    output[rs.index] = item;
    out.push(ev('response.output_item.done', { output_index: rs.index, item }));
    rs = undefined;
    return out;
  };

  const closeCall = (key: number, status = 'completed'): SSEMessage[] => {
    const c = calls.get(key);
    if (!c) return [];
    calls.delete(key);
    const { item, events } = endCall(ev, c, status);
    output[c.index] = item;
    return events;
  };

  const openPart = (kind: 'output_text' | 'refusal'): SSEMessage[] => {
    const out: SSEMessage[] = [];
    if (!msg) {
      out.push(...closeReasoning());
      const index = nextIndex++;
      msg = { id: itemId('msg_', respId(), index), index, parts: [] };
      const item = { id: msg.id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      out.push(ev('response.output_item.added', { output_index: index, item }));
    }
    if (msg.cur?.kind === kind) return out;
    out.push(...closePart());
    const index = msg.parts.length;
    msg.cur = { kind, text: '', index };
    const part = kind === 'output_text' ? { type: 'output_text', text: '', annotations: [] } : { type: 'refusal', refusal: '' };
    out.push(ev('response.content_part.added', { item_id: msg.id, output_index: msg.index, content_index: index, part }));
    return out;
  };

  const openReasoning = (): SSEMessage[] => {
    if (rs) return [];
    const out = closeMessage();
    const index = nextIndex++;
    rs = { id: itemId('rs_', respId(), index), index, text: '', partOpen: false };
    out.push(ev('response.output_item.added', { output_index: index, item: { id: rs.id, type: 'reasoning', summary: [] } }));
    return out;
  };

  const text = (kind: 'output_text' | 'refusal', delta: string): SSEMessage[] => {
    const out = openPart(kind);
    const m = msg!;
    m.cur!.text += delta;
    const at = { item_id: m.id, output_index: m.index, content_index: m.cur!.index };
    out.push(kind === 'output_text' ? ev('response.output_text.delta', { ...at, delta, logprobs: [] }) : ev('response.refusal.delta', { ...at, delta }));
    return out;
  };

  const reasoning = (delta: string): SSEMessage[] => {
    const out = openReasoning();
    const r = rs!;
    const at = { item_id: r.id, output_index: r.index, summary_index: 0 };
    if (!r.partOpen) {
      r.partOpen = true;
      out.push(ev('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } }));
    }
    r.text += delta;
    out.push(ev('response.reasoning_summary_text.delta', { ...at, delta }));
    return out;
  };

  const startCall = (key: number, callId: string, irName: string): SSEMessage[] => {
    const out = [...closeMessage(), ...closeReasoning()];
    const { call, events } = openCall(ev, { respId: respId(), index: nextIndex++, callId, name: callName(irName), custom: isCustom(irName) });
    calls.set(key, call);
    out.push(...events);
    return out;
  };

  return {
    output,
    push(e) {
      switch (e.type) {
        case 'text_delta':
          return e.text ? text('output_text', e.text) : [];
        case 'refusal_delta':
          return e.text ? text('refusal', e.text) : [];
        case 'reasoning_delta':
          return e.text ? reasoning(e.text) : [];
        case 'reasoning_end': {
          const encrypted = e.origin === 'responses' ? e.encrypted : undefined;
          if (!rs && !encrypted) return []; // nothing visible and no token this client could replay
          return [...openReasoning(), ...closeReasoning(encrypted)];
        }
        case 'tool_call_start':
          return startCall(e.index, e.id, e.name);
        case 'tool_call_delta': {
          const c = calls.get(e.index);
          return c ? callDelta(ev, c, e.arguments) : [];
        }
        case 'tool_call_end':
          return closeCall(e.index);
        default:
          return []; // reasoning_redacted: no visible text and not this format's token
      }
    },
    closeAll(status) {
      const out = [...closeMessage(status), ...closeReasoning()];
      for (const key of [...calls.keys()]) out.push(...closeCall(key, status));
      return out;
    },
  };
}
