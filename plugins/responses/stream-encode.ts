/**
 * IR stream events → client Responses SSE (WIRE-FORMATS §2.2, §2.5 "Upstream anything → client
 * Responses"): the stream's lifecycle. Output items are built in stream-items.ts.
 *
 * `response.created` + `response.in_progress` open the stream; one `sequence_number` counter from 0
 * spans every event. Items close at `finish`; the terminal `response.completed` /
 * `response.incomplete` (full output and usage) is held until `end()`. An error — or an end
 * without finish — yields `error` then `response.failed`, never a success terminal.
 *
 * @module
 */
import type { EncodeOptions, SSEMessage, StreamEncoder } from '../../core/codec.ts';
import type { FinishReason, IRError, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { clientCustomCalls } from './custom.ts';
import { streamErrorCode } from './error.ts';
import { createOutputItems } from './stream-items.ts';
import { clientCallName, responseEnvelope, responseId, statusForFinish, type Json } from './wire.ts';

/** Creates an encoder for one client Responses stream; `opts.model` is the model shown. */
export function createStreamEncoder(opts: EncodeOptions): StreamEncoder {
  let seq = 0;
  let respId = '';
  let created = 0;
  let started = false;
  let closed = false;
  let finish: FinishReason | undefined;
  let usage: IRUsage | undefined;

  const ev = (type: string, data: Json): SSEMessage => ({
    event: type,
    data: JSON.stringify({ type, sequence_number: seq++, ...data }),
  });
  const items = createOutputItems(ev, () => respId, clientCallName(opts), clientCustomCalls(opts));
  const envelope = (status: string, extra: Json = {}): Json =>
    responseEnvelope({ id: respId, created, model: opts.model, status, output: items.output.filter(Boolean), ...extra });

  const begin = (id?: string, createdAt?: number): SSEMessage[] => {
    if (started) return [];
    started = true;
    respId = responseId(id, () => newId('resp_'));
    created = createdAt ?? nowSeconds();
    const response = responseEnvelope({ id: respId, created, model: opts.model, status: 'in_progress', output: [] });
    return [ev('response.created', { response }), ev('response.in_progress', { response })];
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
        out.push(...items.closeAll(e.reason === 'length' ? 'incomplete' : 'completed'));
        return out;
      }
      out.push(...items.push(e));
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
