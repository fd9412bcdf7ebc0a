/**
 * Non-streamed Responses answers: upstream `response` object → IR, and IR → client `response`.
 *
 * Finish reasons (§3.8): `completed` → stop, or tool_calls when `function_call` or
 * `custom_tool_call` items exist (§4 #26); `incomplete` + `max_output_tokens` → length,
 * + `content_filter` → content_filter; `failed` / `cancelled` → an error is thrown. Back to clients: length / content_filter → `incomplete` with
 * `incomplete_details`, everything else → `completed`. Calls of a freeform tool the client declared
 * as `custom` go to it as `custom_tool_call` items with the raw input (custom.ts).
 *
 * @module
 */
import type { EncodeOptions } from '../../core/codec.ts';
import { GatewayError } from '../../core/errors.ts';
import type { IRPart, IRReasoning, IRResponse, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { clientCustomCalls, customArguments, customInput, type IsCustomCall } from './custom.ts';
import {
  type CallName,
  clientCallName,
  decodeReasoningItem,
  decodeUsage,
  finishFromStatus,
  flatToolName,
  isObj,
  itemId,
  num,
  responseEnvelope,
  responseId,
  statusForCode,
  statusForFinish,
  str,
  type Json,
} from './wire.ts';

/** Decodes an upstream Responses body; a `failed`/`cancelled` response throws the upstream's error. */
export function decodeResponse(body: Record<string, unknown>): IRResponse {
  const status = body.status;
  if (status === 'failed' || status === 'cancelled' || status === 'queued' || status === 'in_progress') {
    const err = isObj(body.error) ? body.error : {};
    const code = str(err.code) || (status === 'failed' ? 'server_error' : `response_${status as string}`);
    const message = str(err.message) || `upstream response is ${status as string}`;
    throw new GatewayError(code, message, { status: status === 'failed' ? statusForCode(code) : 502 });
  }
  const content: IRPart[] = [];
  let hasToolCalls = false;
  for (const item of Array.isArray(body.output) ? body.output : []) {
    if (!isObj(item)) continue;
    if (item.type === 'reasoning') {
      const r = decodeReasoningItem(item);
      if (r) content.push(r);
    } else if (item.type === 'message' && Array.isArray(item.content)) {
      for (const p of item.content) {
        if (!isObj(p)) continue;
        if (p.type === 'output_text' && str(p.text)) content.push({ type: 'text', text: p.text as string });
        else if (p.type === 'refusal' && str(p.refusal)) content.push({ type: 'refusal', text: p.refusal as string });
      }
    } else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      hasToolCalls = true;
      const args = str(item.arguments);
      content.push({
        type: 'tool_call',
        id: str(item.call_id) || str(item.id) || newId('call_'),
        name: flatToolName(str(item.name) ?? '', item.namespace),
        arguments: item.type === 'custom_tool_call' ? customArguments(item.input) : args && args.trim() ? args : '{}',
      });
    }
    // hosted-tool items (web_search_call, …) have no IR form: ignored.
  }
  const res: IRResponse = {
    id: str(body.id) || newId('resp_'),
    model: str(body.model) ?? '',
    created: num(body.created_at) ?? nowSeconds(),
    content,
    finishReason: finishFromStatus(status, body.incomplete_details, hasToolCalls),
  };
  const usage = decodeUsage(body.usage);
  if (usage) res.usage = usage;
  return res;
}

/** Encodes an IR response as the client's Responses `response` object. */
export function encodeResponse(res: IRResponse, opts: EncodeOptions): Record<string, unknown> {
  const id = responseId(res.id, () => newId('resp_'));
  const { status, incomplete } = statusForFinish(res.finishReason);
  const output = outputItems(res.content, id, clientCallName(opts), clientCustomCalls(opts));
  const last = output[output.length - 1];
  if (status === 'incomplete' && last && last.type !== 'reasoning') last.status = 'incomplete';
  const error = status === 'failed' ? { code: 'server_error', message: 'the upstream model failed to complete the response' } : null;
  return responseEnvelope({ id, created: res.created, model: opts.model, status, output, usage: res.usage, incomplete, error });
}

/**
 * IR parts → output items: text/refusal runs become one message, tool calls `function_call` items
 * (`custom_tool_call` for the client's freeform tools).
 */
function outputItems(parts: IRPart[], respId: string, callName: CallName, isCustom: IsCustomCall): Json[] {
  const out: Json[] = [];
  let msg: Json[] | undefined;
  const closeMessage = (): void => {
    if (!msg) return;
    out.push({ id: itemId('msg_', respId, out.length), type: 'message', status: 'completed', role: 'assistant', content: msg });
    msg = undefined;
  };
  for (const p of parts) {
    if ((p.type === 'text' || p.type === 'refusal') && p.text) {
      msg ??= [];
      const prev = msg[msg.length - 1];
      if (p.type === 'refusal') msg.push({ type: 'refusal', refusal: p.text });
      else if (prev?.type === 'output_text') prev.text = `${prev.text as string}${p.text}`;
      else msg.push({ type: 'output_text', text: p.text, annotations: [] });
    } else if (p.type === 'tool_call') {
      closeMessage();
      if (isCustom(p.name)) {
        const id = itemId('ctc_', respId, out.length);
        out.push({ id, type: 'custom_tool_call', status: 'completed', call_id: p.id, ...callName(p.name), input: customInput(p.arguments) });
        continue;
      }
      out.push({
        id: itemId('fc_', respId, out.length),
        type: 'function_call',
        status: 'completed',
        call_id: p.id,
        ...callName(p.name),
        arguments: p.arguments || '{}',
      });
    } else if (p.type === 'reasoning') {
      const own = p.origin === 'responses';
      if (!p.text && !(own && p.encrypted)) continue;
      closeMessage();
      out.push(reasoningItem(own && p.id ? p.id : itemId('rs_', respId, out.length), p.text, own ? p.encrypted : undefined));
    }
  }
  closeMessage();
  return out;
}

/** A client `reasoning` item; encrypted content only when it came from a Responses upstream. */
export function reasoningItem(id: string, text: string, encrypted: IRReasoning['encrypted']): Json {
  const item: Json = { id, type: 'reasoning', summary: text ? [{ type: 'summary_text', text }] : [] };
  if (encrypted) item.encrypted_content = encrypted;
  return item;
}

/**
 * The usage of an upstream body alone (passthrough accounting).
 *
 * @example
 * ```ts
 * responseUsage(body)?.inputTokens;
 * ```
 */
export function responseUsage(body: Record<string, unknown>): IRUsage | undefined {
  return body.usage && typeof body.usage === 'object' ? decodeUsage(body.usage) : undefined;
}
