/**
 * Anthropic Messages streams. This file: upstream SSE → IR events (§2.3). The client-side encoder
 * lives in stream-encode.ts and is re-exported here.
 *
 * @module
 */
import type { SSEMessage, StreamDecoder } from '../../core/codec.ts';
import type { IRStreamEvent } from '../../core/ir.ts';
import { newId } from '../shared/codec-util.ts';
import { type Json, decodeStopReason, decodeUsage, isObj, num, str } from './blocks.ts';
import { statusForType } from './error.ts';

export { createStreamEncoder } from './stream-encode.ts';

interface OpenBlock {
  kind: 'text' | 'thinking' | 'tool' | 'other';
  tool?: number;
  signature?: string;
  sawArgs?: boolean;
  startInput?: unknown;
}

const KNOWN = new Set(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
const USAGE_KEYS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens_details'];

/**
 * A stateful Anthropic SSE → IR decoder. Tool calls are numbered by appearance (not block index);
 * `message_delta` usage overwrites (never adds); `finish` is emitted at `message_stop`, so a stream
 * cut after `message_delta` still ends in a truncation error.
 */
export function createStreamDecoder(): StreamDecoder {
  const blocks = new Map<number, OpenBlock>();
  const usage: Json = {};
  let tools = 0;
  let stopReason: unknown;
  let stopSequence: unknown;
  let started = false;
  let sentUsage = false;
  let over = false;

  function ensureStart(out: IRStreamEvent[], message?: Json): void {
    if (started) return;
    started = true;
    if (isObj(message?.usage)) Object.assign(usage, message.usage);
    const ev: IRStreamEvent = { type: 'start', id: str(message?.id) ?? newId('msg_'), model: str(message?.model) ?? '' };
    if (isObj(message?.usage)) ev.usage = decodeUsage(message.usage);
    out.push(ev);
  }

  function blockStart(data: Json, out: IRStreamEvent[]): void {
    const index = num(data.index) ?? blocks.size;
    const cb = isObj(data.content_block) ? data.content_block : {};
    if (cb.type === 'text') {
      blocks.set(index, { kind: 'text' });
      if (str(cb.text)) out.push({ type: 'text_delta', text: cb.text as string });
    } else if (cb.type === 'thinking') {
      blocks.set(index, { kind: 'thinking', signature: str(cb.signature) || undefined });
      if (str(cb.thinking)) out.push({ type: 'reasoning_delta', text: cb.thinking as string });
    } else if (cb.type === 'redacted_thinking') {
      blocks.set(index, { kind: 'other' });
      if (typeof cb.data === 'string') out.push({ type: 'reasoning_redacted', origin: 'anthropic', data: cb.data });
    } else if (cb.type === 'tool_use') {
      const tool = tools++;
      blocks.set(index, { kind: 'tool', tool, startInput: cb.input });
      out.push({ type: 'tool_call_start', index: tool, id: str(cb.id) ?? newId('toolu_'), name: str(cb.name) ?? '' });
    } else {
      blocks.set(index, { kind: 'other' });
    }
  }

  function blockDelta(data: Json, out: IRStreamEvent[]): void {
    const b = blocks.get(num(data.index) ?? -1);
    const d = isObj(data.delta) ? data.delta : {};
    if (d.type === 'text_delta' && str(d.text)) out.push({ type: 'text_delta', text: d.text as string });
    else if (d.type === 'thinking_delta' && str(d.thinking)) out.push({ type: 'reasoning_delta', text: d.thinking as string });
    else if (d.type === 'signature_delta' && b?.kind === 'thinking') b.signature = (b.signature ?? '') + (str(d.signature) ?? '');
    else if (d.type === 'input_json_delta' && b?.kind === 'tool' && str(d.partial_json)) {
      b.sawArgs = true;
      out.push({ type: 'tool_call_delta', index: b.tool!, arguments: d.partial_json as string });
    }
  }

  function blockStop(index: number, out: IRStreamEvent[]): void {
    const b = blocks.get(index);
    blocks.delete(index);
    if (b?.kind === 'thinking') {
      out.push(b.signature ? { type: 'reasoning_end', origin: 'anthropic', signature: b.signature } : { type: 'reasoning_end', origin: 'anthropic' });
    } else if (b?.kind === 'tool') {
      // Some Anthropic-compatible servers put the whole input in content_block_start and send no deltas.
      if (!b.sawArgs && isObj(b.startInput) && Object.keys(b.startInput).length) {
        out.push({ type: 'tool_call_delta', index: b.tool!, arguments: JSON.stringify(b.startInput) });
      }
      out.push({ type: 'tool_call_end', index: b.tool! });
    }
  }

  function finish(out: IRStreamEvent[]): void {
    for (const index of [...blocks.keys()]) blockStop(index, out);
    if (!sentUsage && Object.keys(usage).length) out.push({ type: 'usage', usage: decodeUsage(usage) });
    let reason = decodeStopReason(stopReason);
    if (reason === 'stop' && tools > 0) reason = 'tool_calls';
    out.push(stopReason === 'stop_sequence' ? { type: 'finish', reason, stopSequence: str(stopSequence) ?? null } : { type: 'finish', reason });
  }

  return {
    push(message: SSEMessage): IRStreamEvent[] {
      if (over) return [];
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return [];
      }
      if (!isObj(data)) return [];
      const out: IRStreamEvent[] = [];
      const type = str(data.type) ?? message.event;
      if (type === 'error') {
        over = true;
        const e = isObj(data.error) ? data.error : {};
        const code = str(e.type);
        const error = { status: statusForType(code), message: str(e.message) || 'upstream stream error', ...(code ? { code } : {}) };
        return [{ type: 'error', error }];
      }
      if (type === undefined || !KNOWN.has(type)) return out; // ping and unknown events (§4 #43)
      ensureStart(out, type === 'message_start' && isObj(data.message) ? data.message : undefined);
      switch (type) {
        case 'content_block_start':
          blockStart(data, out);
          break;
        case 'content_block_delta':
          blockDelta(data, out);
          break;
        case 'content_block_stop':
          blockStop(num(data.index) ?? -1, out);
          break;
        case 'message_delta': {
          const d = isObj(data.delta) ? data.delta : {};
          if (d.stop_reason !== undefined) stopReason = d.stop_reason;
          if (d.stop_sequence !== undefined) stopSequence = d.stop_sequence;
          if (isObj(data.usage)) {
            for (const k of USAGE_KEYS) if (data.usage[k] !== undefined && data.usage[k] !== null) usage[k] = data.usage[k];
            sentUsage = true;
            out.push({ type: 'usage', usage: decodeUsage(usage) });
          }
          break;
        }
        case 'message_stop':
          over = true;
          finish(out);
          break;
      }
      return out;
    },
    end(): IRStreamEvent[] {
      if (over) return [];
      over = true;
      return [{ type: 'error', error: { status: 502, message: 'upstream stream ended early', code: 'upstream_truncated' } }];
    },
  };
}
