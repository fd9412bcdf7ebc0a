/**
 * IR events → Anthropic Messages SSE for the client (§2.3, §2.5 "Upstream Chat → client Anthropic").
 *
 * @module
 */
import type { EncodeOptions, SSEMessage, StreamEncoder } from '../../core/codec.ts';
import type { FinishReason, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import { type Json, clientToolId, encodeStopReason, encodeUsage, messageId } from './blocks.ts';
import { clientToolName } from '../shared/tool-names.ts';
import { renderStreamError } from './error.ts';

interface Block {
  kind: 'text' | 'thinking' | 'tool' | 'redacted';
  index?: number;
  done: boolean;
  pending: string[];
  id?: string;
  name?: string;
  signature?: string;
  data?: string;
}

function sse(type: string, payload: Json): SSEMessage {
  return { event: type, data: JSON.stringify({ type, ...payload }) };
}

const DELTA = { text: ['text_delta', 'text'], thinking: ['thinking_delta', 'thinking'], tool: ['input_json_delta', 'partial_json'] } as const;

function deltaEvent(b: Block, fragment: string): SSEMessage {
  const [type, key] = DELTA[b.kind as keyof typeof DELTA];
  return sse('content_block_delta', { index: b.index, delta: { type, [key]: fragment } });
}

function startBlock(b: Block): Json {
  switch (b.kind) {
    case 'text':
      return { type: 'text', text: '' };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'tool':
      return { type: 'tool_use', id: b.id, name: b.name, input: {} };
    case 'redacted':
      return { type: 'redacted_thinking', data: b.data };
  }
}

/**
 * A stateful IR → Anthropic SSE encoder. Blocks never interleave: the first unfinished block streams
 * live and later ones (e.g. interleaved parallel tool calls) are buffered and flushed in order.
 * `message_start` goes out at once (input tokens from the start event, else 0); `message_delta`
 * (stop reason and final usage) and `message_stop` are held until `end()`.
 */
export function createStreamEncoder(opts: EncodeOptions): StreamEncoder {
  const queue: Block[] = [];
  const tools = new Map<number, Block>();
  let nextIndex = 0;
  let started = false;
  let closed = false;
  let hasTools = false;
  let refused = false;
  let usage: Partial<IRUsage> | undefined;
  let finish: { reason: FinishReason; stopSequence?: string | null } | undefined;
  const nameOf = clientToolName(opts);

  function start(out: SSEMessage[], ev?: Extract<IRStreamEvent, { type: 'start' }>): void {
    if (started) return;
    started = true;
    if (ev?.usage) usage = ev.usage;
    const message = {
      id: messageId(ev?.id),
      type: 'message',
      role: 'assistant',
      model: opts.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...encodeUsage(ev?.usage), output_tokens: ev?.usage?.outputTokens ?? 0 },
    };
    out.push(sse('message_start', { message }));
  }

  function pump(out: SSEMessage[]): void {
    while (queue.length) {
      const b = queue[0]!;
      if (b.index === undefined) {
        b.index = nextIndex++;
        out.push(sse('content_block_start', { index: b.index, content_block: startBlock(b) }));
        const buffered = b.pending.join('');
        b.pending = [];
        if (buffered) out.push(deltaEvent(b, buffered));
      }
      if (!b.done) return;
      if (b.kind === 'thinking' && b.signature) {
        out.push(sse('content_block_delta', { index: b.index, delta: { type: 'signature_delta', signature: b.signature } }));
      }
      out.push(sse('content_block_stop', { index: b.index }));
      queue.shift();
    }
  }

  function add(b: Block): Block {
    const last = queue[queue.length - 1];
    if (last && last.kind !== 'tool') last.done = true;
    queue.push(b);
    return b;
  }

  function append(b: Block, fragment: string, out: SSEMessage[]): void {
    if (b === queue[0] && b.index !== undefined) out.push(deltaEvent(b, fragment));
    else b.pending.push(fragment);
  }

  function openOf(kind: 'text' | 'thinking'): Block {
    const last = queue[queue.length - 1];
    return last && last.kind === kind && !last.done ? last : add({ kind, done: false, pending: [] });
  }

  function content(ev: IRStreamEvent, out: SSEMessage[]): void {
    switch (ev.type) {
      case 'refusal_delta':
      case 'text_delta':
        if (ev.type === 'refusal_delta') refused = true;
        if (ev.text) append(openOf('text'), ev.text, out);
        break;
      case 'reasoning_delta':
        if (ev.text) append(openOf('thinking'), ev.text, out);
        break;
      case 'reasoning_end': {
        const last = queue[queue.length - 1];
        const open = last && last.kind === 'thinking' && !last.done ? last : undefined;
        const signature = ev.origin === 'anthropic' ? ev.signature : undefined;
        if (open) Object.assign(open, { done: true, signature });
        else if (signature) add({ kind: 'thinking', done: true, pending: [], signature });
        break;
      }
      case 'reasoning_redacted':
        if (ev.origin === 'anthropic') add({ kind: 'redacted', done: true, pending: [], data: ev.data });
        break;
      case 'tool_call_start':
        hasTools = true;
        tools.set(ev.index, add({ kind: 'tool', done: false, pending: [], id: clientToolId(ev.id), name: nameOf(ev.name) }));
        break;
      case 'tool_call_delta': {
        const b = tools.get(ev.index);
        if (b && !b.done && ev.arguments) append(b, ev.arguments, out);
        break;
      }
      case 'tool_call_end': {
        const b = tools.get(ev.index);
        if (b) b.done = true;
        break;
      }
      default:
        break;
    }
    pump(out);
  }

  function closeAll(out: SSEMessage[]): void {
    for (const b of queue) b.done = true;
    pump(out);
  }

  return {
    push(ev: IRStreamEvent): SSEMessage[] {
      if (closed) return [];
      const out: SSEMessage[] = [];
      if (ev.type === 'error') {
        closed = true;
        return renderStreamError(ev.error);
      }
      if (ev.type === 'start') start(out, ev);
      else if (ev.type === 'usage') usage = ev.usage;
      else if (finish) return out; // content after finish has nowhere to go
      else if (ev.type === 'finish') {
        start(out);
        finish = { reason: ev.reason, stopSequence: ev.stopSequence };
        closeAll(out);
      } else {
        start(out);
        content(ev, out);
      }
      return out;
    },
    end(): SSEMessage[] {
      if (closed) return [];
      closed = true;
      if (!finish) return renderStreamError({ status: 502, message: 'upstream stream ended early', code: 'upstream_truncated' });
      const out: SSEMessage[] = [];
      start(out);
      closeAll(out);
      const stopReason =
        refused && finish.reason === 'stop' && !hasTools ? 'refusal' : encodeStopReason(finish.reason, finish.stopSequence, hasTools);
      const delta = { stop_reason: stopReason, stop_sequence: stopReason === 'stop_sequence' ? finish.stopSequence : null };
      out.push(sse('message_delta', { delta, usage: encodeUsage(usage) }));
      out.push(sse('message_stop', {}));
      return out;
    },
  };
}
