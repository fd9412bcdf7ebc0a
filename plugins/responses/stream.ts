/**
 * Upstream Responses SSE → IR stream events (WIRE-FORMATS §2.2).
 *
 * - `start` comes from `response.created` (or whatever event arrives first).
 * - Text, refusal and reasoning-summary deltas map one to one; a new summary part is separated by a
 *   blank line, matching how non-streamed summaries are joined.
 * - Function calls are numbered 0, 1, 2 … in order of `output_item.added`; the arguments text is
 *   taken from `.done` events only when no delta carried it.
 * - Freeform `custom_tool_call`s are numbered with them; their raw input
 *   (`response.custom_tool_call_input.delta/.done`) streams as the JSON text `{"input":"…"}`,
 *   escaped piece by piece, so the arguments equal `JSON.stringify({ input })` (custom.ts).
 * - A reasoning item is taken from `output_item.done` (its `encrypted_content` in `.added` may be
 *   incomplete) and closes with `reasoning_end` (origin `responses`).
 * - Usage is read only from the terminal event; `response.completed`/`.incomplete` give the finish.
 * - `error` (flat or nested payload) and `response.failed` become one IR `error`; a stream that ends
 *   without a terminal event yields a 502 `upstream_truncated` error.
 * - Hosted-tool progress, annotations, audio and unknown events are ignored (§4 #43).
 *
 * @module
 */
import type { SSEMessage, StreamDecoder } from '../../core/codec.ts';
import type { IRStreamEvent } from '../../core/ir.ts';
import { newId } from '../shared/codec-util.ts';
import { CUSTOM_ARGS_CLOSE, CUSTOM_ARGS_OPEN, customArguments, escapeInput } from './custom.ts';
import { errorFromPayload } from './error.ts';
import { decodeReasoningItem, decodeUsage, finishFromStatus, flatToolName, isObj, num, str, type Json } from './wire.ts';

export { createStreamEncoder } from './stream-encode.ts';

interface OpenTool {
  index: number;
  hasArgs: boolean;
  ended: boolean;
  /** A freeform call: `open` once its `{"input":"` text started, `done` once it is closed. */
  custom?: 'idle' | 'open' | 'done';
}

/** Creates a decoder for one upstream Responses stream. */
export function createStreamDecoder(): StreamDecoder {
  let started = false;
  let done = false;
  let toolCount = 0;
  const tools = new Map<string, OpenTool>();
  const streamedText = new Set<string>();
  const streamedReasoning = new Set<string>();

  // Items are keyed by output_index (present on every item event), falling back to the item id.
  const keyOf = (d: Json): string => {
    const index = num(d.output_index);
    if (index !== undefined) return `#${index}`;
    return str(d.item_id) || (isObj(d.item) ? (str(d.item.id) ?? '') : '');
  };

  const start = (r: Json | undefined): IRStreamEvent[] => {
    if (started) return [];
    started = true;
    const ev: IRStreamEvent = { type: 'start', id: str(r?.id) || newId('resp_'), model: str(r?.model) ?? '' };
    const created = num(r?.created_at);
    if (created !== undefined) ev.created = created;
    return [ev];
  };

  // A piece of a freeform call's input, inside the JSON string its arguments open.
  const customPiece = (tool: OpenTool, piece: string): IRStreamEvent[] => {
    if (tool.custom === 'done' || !piece) return [];
    const text = (tool.custom === 'open' ? '' : CUSTOM_ARGS_OPEN) + escapeInput(piece);
    tool.custom = 'open';
    tool.hasArgs = true;
    return [{ type: 'tool_call_delta', index: tool.index, arguments: text }];
  };

  // Ends a freeform call's arguments: closes the streamed JSON, or sends `input` whole when none streamed.
  const customEnd = (tool: OpenTool, input: unknown): IRStreamEvent[] => {
    const state = tool.custom;
    tool.custom = 'done';
    tool.hasArgs = true;
    if (state === 'open') return [{ type: 'tool_call_delta', index: tool.index, arguments: CUSTOM_ARGS_CLOSE }];
    return state === 'idle' ? [{ type: 'tool_call_delta', index: tool.index, arguments: customArguments(input) }] : [];
  };

  const openTool = (key: string, item: Json): IRStreamEvent[] => {
    const tool: OpenTool = { index: toolCount++, hasArgs: false, ended: false };
    tools.set(key, tool);
    const id = str(item.call_id) || str(item.id) || newId('call_');
    const events: IRStreamEvent[] = [{ type: 'tool_call_start', index: tool.index, id, name: flatToolName(str(item.name) ?? '', item.namespace) }];
    if (item.type === 'custom_tool_call') {
      tool.custom = 'idle';
      events.push(...customPiece(tool, str(item.input) ?? ''));
    } else if (str(item.arguments)) {
      tool.hasArgs = true;
      events.push({ type: 'tool_call_delta', index: tool.index, arguments: item.arguments as string });
    }
    return events;
  };

  const itemDone = (key: string, item: Json): IRStreamEvent[] => {
    const out: IRStreamEvent[] = [];
    if (item.type === 'custom_tool_call') {
      if (!tools.has(key)) out.push(...openTool(key, item));
      const t = tools.get(key)!;
      out.push(...customEnd(t, item.input));
      if (!t.ended) out.push({ type: 'tool_call_end', index: t.index });
      t.ended = true;
    } else if (item.type === 'function_call') {
      const tool = tools.get(key);
      if (!tool) out.push(...openTool(key, item));
      else if (!tool.hasArgs && str(item.arguments)) {
        tool.hasArgs = true;
        out.push({ type: 'tool_call_delta', index: tool.index, arguments: item.arguments as string });
      }
      const t = tools.get(key)!;
      if (!t.ended) out.push({ type: 'tool_call_end', index: t.index });
      t.ended = true;
    } else if (item.type === 'reasoning') {
      const r = decodeReasoningItem(item);
      if (r?.text && !streamedReasoning.has(key)) out.push({ type: 'reasoning_delta', text: r.text });
      if (r || streamedReasoning.has(key)) {
        const end: IRStreamEvent = { type: 'reasoning_end', origin: 'responses' };
        if (str(item.id)) end.id = item.id as string;
        if (r?.encrypted) end.encrypted = r.encrypted;
        out.push(end);
      }
    } else if (item.type === 'message' && !streamedText.has(key) && Array.isArray(item.content)) {
      for (const p of item.content) {
        if (!isObj(p)) continue;
        if (p.type === 'output_text' && str(p.text)) out.push({ type: 'text_delta', text: p.text as string });
        if (p.type === 'refusal' && str(p.refusal)) out.push({ type: 'refusal_delta', text: p.refusal as string });
      }
    }
    return out;
  };

  const handle = (type: string, d: Json): IRStreamEvent[] => {
    const key = keyOf(d);
    const delta = str(d.delta);
    switch (type) {
      case 'response.output_text.delta':
        if (!delta) return [];
        streamedText.add(key);
        return [{ type: 'text_delta', text: delta }];
      case 'response.refusal.delta':
        if (!delta) return [];
        streamedText.add(key);
        return [{ type: 'refusal_delta', text: delta }];
      case 'response.reasoning_summary_part.added':
        return (num(d.summary_index) ?? 0) > 0 && streamedReasoning.has(key) ? [{ type: 'reasoning_delta', text: '\n\n' }] : [];
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        if (!delta) return [];
        streamedReasoning.add(key);
        return [{ type: 'reasoning_delta', text: delta }];
      case 'response.output_item.added':
        return isObj(d.item) && (d.item.type === 'function_call' || d.item.type === 'custom_tool_call') ? openTool(key, d.item) : [];
      case 'response.function_call_arguments.delta': {
        const tool = tools.get(key);
        if (!tool || !delta) return [];
        tool.hasArgs = true;
        return [{ type: 'tool_call_delta', index: tool.index, arguments: delta }];
      }
      case 'response.custom_tool_call_input.delta': {
        const tool = tools.get(key);
        return tool?.custom && delta ? customPiece(tool, delta) : [];
      }
      case 'response.custom_tool_call_input.done': {
        const tool = tools.get(key);
        return tool?.custom ? customEnd(tool, d.input) : [];
      }
      case 'response.function_call_arguments.done': {
        const tool = tools.get(key);
        if (!tool || tool.hasArgs || !str(d.arguments)) return [];
        tool.hasArgs = true;
        return [{ type: 'tool_call_delta', index: tool.index, arguments: d.arguments as string }];
      }
      case 'response.output_item.done':
        return isObj(d.item) ? itemDone(key, d.item) : [];
      case 'response.completed':
      case 'response.incomplete': {
        done = true;
        const r = isObj(d.response) ? d.response : {};
        const out: IRStreamEvent[] = [];
        const usage = decodeUsage(r.usage);
        if (usage) out.push({ type: 'usage', usage });
        const status = str(r.status) || (type === 'response.incomplete' ? 'incomplete' : 'completed');
        out.push({ type: 'finish', reason: finishFromStatus(status, r.incomplete_details, toolCount > 0) });
        return out;
      }
      case 'response.failed': {
        done = true;
        const r = isObj(d.response) ? d.response : {};
        const err = isObj(r.error) ? errorFromPayload(r.error, false) : { status: 500, message: 'upstream response failed' };
        return [{ type: 'error', error: err }];
      }
      default:
        return [];
    }
  };

  return {
    push(message: SSEMessage): IRStreamEvent[] {
      if (done) return [];
      let d: unknown;
      try {
        d = JSON.parse(message.data);
      } catch {
        return []; // "[DONE]" added by a proxy, keep-alive noise
      }
      if (!isObj(d)) return [];
      const type = str(d.type) || message.event || '';
      if (type === 'error') {
        done = true;
        return [{ type: 'error', error: errorFromPayload(d, true) }];
      }
      const out = start(isObj(d.response) ? d.response : undefined);
      out.push(...handle(type, d));
      return out;
    },
    end(): IRStreamEvent[] {
      if (done) return [];
      done = true;
      return [{ type: 'error', error: { status: 502, message: 'upstream stream ended early', code: 'upstream_truncated' } }];
    },
  };
}
