/**
 * IR stream events → client Responses SSE (WIRE-FORMATS §2.2, §2.5 "Upstream anything → client
 * Responses").
 *
 * `response.created` + `response.in_progress` open the stream; each output unit is one item with its
 * full `output_item.added` … `output_item.done` sequence (text: `content_part.*` + `output_text.*`;
 * refusal: `refusal.*`; reasoning: `reasoning_summary_part.*` + `reasoning_summary_text.*`; calls:
 * `function_call_arguments.*`). One `sequence_number` counter from 0 spans every event; ids
 * (`resp_`, `msg_`, `fc_`, `rs_`) are fixed when an item opens. Items close at `finish`; the terminal
 * `response.completed` / `response.incomplete` (full output and usage) is held until `end()`. An
 * error — or an end without finish — yields `error` then `response.failed`, never a success terminal.
 *
 * @module
 */
import type { EncodeOptions, SSEMessage, StreamEncoder } from '../../core/codec.ts';
import type { FinishReason, IRError, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { streamErrorCode } from './error.ts';
import { reasoningItem } from './response.ts';
import { itemId, responseEnvelope, responseId, statusForFinish, type Json } from './wire.ts';

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
interface OpenCall {
  id: string;
  index: number;
  callId: string;
  name: string;
  args: string;
}

/** Creates an encoder for one client Responses stream; `opts.model` is the model shown. */
export function createStreamEncoder(opts: EncodeOptions): StreamEncoder {
  let seq = 0;
  let respId = '';
  let created = 0;
  let started = false;
  let closed = false;
  let finish: FinishReason | undefined;
  let usage: IRUsage | undefined;
  let nextIndex = 0;
  const output: Json[] = [];
  let msg: OpenMessage | undefined;
  let rs: OpenReasoning | undefined;
  const calls = new Map<number, OpenCall>();

  const ev = (type: string, data: Json): SSEMessage => ({
    event: type,
    data: JSON.stringify({ type, sequence_number: seq++, ...data }),
  });
  const envelope = (status: string, extra: Json = {}): Json =>
    responseEnvelope({ id: respId, created, model: opts.model, status, output: output.filter(Boolean), ...extra });

  const begin = (id?: string, createdAt?: number): SSEMessage[] => {
    if (started) return [];
    started = true;
    respId = responseId(id, () => newId('resp_'));
    created = createdAt ?? nowSeconds();
    const response = responseEnvelope({ id: respId, created, model: opts.model, status: 'in_progress', output: [] });
    return [ev('response.created', { response }), ev('response.in_progress', { response })];
  };

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
    const out: SSEMessage[] = [];
    const at = { item_id: c.id, output_index: c.index };
    if (!c.args) {
      c.args = '{}'; // a call without arguments still sends valid JSON text
      out.push(ev('response.function_call_arguments.delta', { ...at, delta: c.args }));
    }
    out.push(ev('response.function_call_arguments.done', { ...at, name: c.name, arguments: c.args }));
    const item = { id: c.id, type: 'function_call', status, call_id: c.callId, name: c.name, arguments: c.args };
    output[c.index] = item;
    out.push(ev('response.output_item.done', { output_index: c.index, item }));
    return out;
  };

  const openPart = (kind: 'output_text' | 'refusal'): SSEMessage[] => {
    const out: SSEMessage[] = [];
    if (!msg) {
      out.push(...closeReasoning());
      const index = nextIndex++;
      msg = { id: itemId('msg_', respId, index), index, parts: [] };
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
    rs = { id: itemId('rs_', respId, index), index, text: '', partOpen: false };
    out.push(ev('response.output_item.added', { output_index: index, item: { id: rs.id, type: 'reasoning', summary: [] } }));
    return out;
  };

  const fail = (err: IRError): SSEMessage[] => {
    closed = true;
    if (!respId) respId = newId('resp_');
    if (!created) created = nowSeconds();
    const code = streamErrorCode(err);
    return [
      ev('error', { code, message: err.message, param: null }),
      ev('response.failed', { response: envelope('failed', { error: { code, message: err.message }, usage }) }),
    ];
  };

  const content = (e: IRStreamEvent): SSEMessage[] => {
    switch (e.type) {
      case 'text_delta':
      case 'refusal_delta': {
        if (!e.text) return [];
        const kind = e.type === 'text_delta' ? 'output_text' : 'refusal';
        const out = openPart(kind);
        const cur = msg!.cur!;
        cur.text += e.text;
        const at = { item_id: msg!.id, output_index: msg!.index, content_index: cur.index };
        if (kind === 'output_text') out.push(ev('response.output_text.delta', { ...at, delta: e.text, logprobs: [] }));
        else out.push(ev('response.refusal.delta', { ...at, delta: e.text }));
        return out;
      }
      case 'reasoning_delta': {
        if (!e.text) return [];
        const out = openReasoning();
        const r = rs!;
        const at = { item_id: r.id, output_index: r.index, summary_index: 0 };
        if (!r.partOpen) {
          r.partOpen = true;
          out.push(ev('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } }));
        }
        r.text += e.text;
        out.push(ev('response.reasoning_summary_text.delta', { ...at, delta: e.text }));
        return out;
      }
      case 'reasoning_end': {
        const encrypted = e.origin === 'responses' ? e.encrypted : undefined;
        if (!rs && !encrypted) return []; // nothing visible and no token this client could replay
        return [...openReasoning(), ...closeReasoning(encrypted)];
      }
      case 'tool_call_start': {
        const out = [...closeMessage(), ...closeReasoning()];
        const index = nextIndex++;
        const c: OpenCall = { id: itemId('fc_', respId, index), index, callId: e.id, name: e.name, args: '' };
        calls.set(e.index, c);
        const item = { id: c.id, type: 'function_call', status: 'in_progress', call_id: c.callId, name: c.name, arguments: '' };
        out.push(ev('response.output_item.added', { output_index: index, item }));
        return out;
      }
      case 'tool_call_delta': {
        const c = calls.get(e.index);
        if (!c || !e.arguments) return [];
        c.args += e.arguments;
        return [ev('response.function_call_arguments.delta', { item_id: c.id, output_index: c.index, delta: e.arguments })];
      }
      case 'tool_call_end':
        return closeCall(e.index);
      default:
        return []; // reasoning_redacted: no visible text and not this format's token
    }
  };

  return {
    push(e: IRStreamEvent): SSEMessage[] {
      if (closed) return [];
      if (e.type === 'error') return fail(e.error);
      if (e.type === 'usage') {
        usage = e.usage;
        return [];
      }
      const out = e.type === 'start' ? begin(e.id, e.created) : begin();
      if (e.type === 'start') {
        const u = e.usage;
        if (u?.inputTokens !== undefined && !usage) usage = { ...u, inputTokens: u.inputTokens, outputTokens: u.outputTokens ?? 0 };
        return out;
      }
      if (finish) return out; // content after finish cannot be placed any more
      if (e.type === 'finish') {
        finish = e.reason;
        const status = e.reason === 'length' ? 'incomplete' : 'completed';
        out.push(...closeMessage(status), ...closeReasoning());
        for (const key of [...calls.keys()]) out.push(...closeCall(key, status));
        return out;
      }
      out.push(...content(e));
      return out;
    },
    end(): SSEMessage[] {
      if (closed) return [];
      if (!finish) return fail({ status: 502, message: 'upstream stream ended early', code: 'upstream_truncated' });
      closed = true;
      const out = begin();
      const { status, incomplete } = statusForFinish(finish);
      if (status === 'failed') {
        return [...out, ...fail({ status: 500, message: 'the upstream model failed to complete the response', code: 'server_error' })];
      }
      const type = status === 'incomplete' ? 'response.incomplete' : 'response.completed';
      out.push(ev(type, { response: envelope(status, { usage, incomplete }) }));
      return out;
    },
  };
}
