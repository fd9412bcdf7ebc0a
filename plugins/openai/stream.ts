/**
 * OpenAI Chat Completions streams, upstream side: `chat.completion.chunk` SSE → IR events
 * (WIRE-FORMATS §2.1). The client side (IR → chunks) lives in `stream-encode.ts`.
 *
 * @module
 */
import type { SSEMessage, StreamDecoder } from '../../core/codec.ts';
import type { IRError, IRStreamEvent } from '../../core/ir.ts';
import { newId } from '../shared/codec-util.ts';
import { errorFields, statusOfError } from './error.ts';
import { decodeFinish, decodeUsage } from './response.ts';
import { isObj, type Json, num, str } from './wire.ts';

/**
 * The error a stream that ended without its terminator becomes (decoder and encoder alike).
 *
 * @example
 * ```ts
 * if (reason === undefined) return renderStreamError(TRUNCATED);
 * ```
 */
export const TRUNCATED: IRError = { status: 502, message: 'upstream stream ended early', code: 'upstream_truncated' };

/**
 * Creates a decoder for one upstream Chat Completions stream (choice 0; other choices are ignored).
 *
 * @example
 * ```ts
 * const dec = createStreamDecoder();
 * const events = [...messages.flatMap((m) => dec.push(m)), ...dec.end()];
 * ```
 */
export function createStreamDecoder(): StreamDecoder {
  let started = false;
  let finished = false;
  let done = false;
  let failed = false;
  let reasoningOpen = false;
  let next = 0;
  /** Upstream `tool_calls[].index` (or `'legacy'` for `function_call`) → IR tool call. */
  const calls = new Map<number | string, { index: number; id: string }>();
  const open: number[] = [];

  const closeReasoning = (out: IRStreamEvent[]) => {
    if (reasoningOpen) out.push({ type: 'reasoning_end', origin: 'openai' });
    reasoningOpen = false;
  };
  const finish = (out: IRStreamEvent[], reason: unknown) => {
    closeReasoning(out);
    for (const index of open) out.push({ type: 'tool_call_end', index });
    out.push({ type: 'finish', reason: decodeFinish(reason, next > 0) });
    open.length = 0;
    finished = true;
  };
  const toolDelta = (out: IRStreamEvent[], key: number | string, id: string | undefined, fn: Json) => {
    let call = calls.get(key);
    // A new id on a known index means a server that reuses index 0 for every call.
    if (!call || (id && id !== call.id)) {
      call = { index: next++, id: id ?? newId('call_') };
      calls.set(key, call);
      open.push(call.index);
      out.push({ type: 'tool_call_start', index: call.index, id: call.id, name: str(fn.name) ?? '' });
    }
    const args = str(fn.arguments);
    if (args) out.push({ type: 'tool_call_delta', index: call.index, arguments: args });
  };

  const onChoice = (out: IRStreamEvent[], choice: Json) => {
    const delta = isObj(choice.delta) ? choice.delta : {};
    // `reasoning_content` / `reasoning` deltas are vendor extensions of OpenAI-compatible servers.
    const reasoning = str(delta.reasoning_content) ?? str(delta.reasoning);
    if (reasoning) {
      reasoningOpen = true;
      out.push({ type: 'reasoning_delta', text: reasoning });
    }
    const text = str(delta.content);
    const refusal = str(delta.refusal);
    if (text || refusal || Array.isArray(delta.tool_calls) || isObj(delta.function_call)) closeReasoning(out);
    if (text) out.push({ type: 'text_delta', text });
    if (refusal) out.push({ type: 'refusal_delta', text: refusal });
    if (Array.isArray(delta.tool_calls)) {
      delta.tool_calls.forEach((tc, j) => {
        if (isObj(tc)) toolDelta(out, num(tc.index) ?? j, str(tc.id), isObj(tc.function) ? tc.function : {});
      });
    }
    if (isObj(delta.function_call)) toolDelta(out, 'legacy', undefined, delta.function_call);
    if (typeof choice.finish_reason === 'string') finish(out, choice.finish_reason);
  };

  return {
    push(message: SSEMessage): IRStreamEvent[] {
      if (failed || done) return [];
      const data = message.data.trim();
      const out: IRStreamEvent[] = [];
      if (data === '[DONE]') {
        // A bare `[DONE]` with no chunk before it is no answer at all: end() reports truncation.
        if (!started) return out;
        done = true;
        if (!finished) finish(out, null);
        return out;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        return out;
      }
      if (!isObj(chunk)) return out;
      if (isObj(chunk.error)) {
        failed = true;
        const { message: text, code } = errorFields(chunk.error);
        const error: IRError = { status: statusOfError(chunk.error), message: text ?? 'upstream stream error' };
        if (code) error.code = code;
        return [{ type: 'error', error }];
      }
      // Azure opens with a `prompt_filter_results` chunk that has no id and no choices.
      const hasChoices = Array.isArray(chunk.choices) && chunk.choices.length > 0;
      if (!started && !str(chunk.id) && !hasChoices && !isObj(chunk.usage)) return out;
      if (!started) {
        started = true;
        const created = num(chunk.created);
        out.push({ type: 'start', id: str(chunk.id) ?? newId('chatcmpl-'), model: str(chunk.model) ?? '', ...(created ? { created } : {}) });
      }
      if (!finished && Array.isArray(chunk.choices)) {
        const choice = chunk.choices.find((c) => isObj(c) && (num(c.index) ?? 0) === 0);
        if (isObj(choice)) onChoice(out, choice);
      }
      const usage = decodeUsage(chunk.usage);
      if (usage) out.push({ type: 'usage', usage });
      return out;
    },
    end(): IRStreamEvent[] {
      // A finish without `[DONE]` still carried the complete answer; only usage may be missing.
      if (failed || done || finished) return [];
      failed = true;
      return [{ type: 'error', error: TRUNCATED }];
    },
  };
}
