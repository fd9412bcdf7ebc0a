/**
 * OpenAI Chat Completions streams: upstream `chat.completion.chunk` SSE → IR events, and IR
 * events → client chunks ending in `data: [DONE]` (WIRE-FORMATS §2.1).
 *
 * @module
 */
import type { EncodeOptions, SSEMessage, StreamDecoder, StreamEncoder } from '../../core/codec.ts';
import type { FinishReason, IRError, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { clientToolName } from '../shared/tool-names.ts';
import { errorFields, renderStreamError, statusOfError } from './error.ts';
import { decodeFinish, decodeUsage, encodeFinish, encodeUsage } from './response.ts';
import { isObj, type Json, num, str } from './wire.ts';

const TRUNCATED: IRError = { status: 502, message: 'upstream stream ended early', code: 'upstream_truncated' };

/** Creates a decoder for one upstream Chat Completions stream (choice 0; other choices are ignored). */
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

/** Creates an encoder that presents IR events as a Chat Completions stream for the client. */
export function createStreamEncoder(opts: EncodeOptions): StreamEncoder {
  let id = '';
  let created = 0;
  let headed = false;
  let closed = false;
  let sawCall = false;
  let reason: FinishReason | undefined;
  let usage: IRUsage | undefined;
  const nameOf = clientToolName(opts);

  // With include_usage, OpenAI sends `usage: null` on every chunk but the trailing usage chunk.
  const chunk = (choices: Json[], extra: Json = {}): SSEMessage => ({
    data: JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model: opts.model,
      choices,
      ...(opts.includeUsage ? { usage: null } : {}),
      ...extra,
    }),
  });
  const delta = (d: Json, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);
  const head = (out: SSEMessage[]) => {
    if (headed) return;
    headed = true;
    id ||= newId('chatcmpl-');
    created ||= nowSeconds();
    out.push(delta({ role: 'assistant', content: '', refusal: null }));
  };
  const emit = (out: SSEMessage[], d: Json) => {
    head(out);
    out.push(delta(d));
  };

  return {
    push(ev: IRStreamEvent): SSEMessage[] {
      if (closed) return [];
      const out: SSEMessage[] = [];
      switch (ev.type) {
        case 'start':
          if (!headed) {
            id = ev.id;
            created = ev.created ?? 0;
            if (ev.usage?.inputTokens !== undefined) usage = { inputTokens: ev.usage.inputTokens, outputTokens: ev.usage.outputTokens ?? 0 };
          }
          head(out);
          break;
        case 'text_delta':
          if (ev.text) emit(out, { content: ev.text });
          break;
        case 'refusal_delta':
          if (ev.text) emit(out, { refusal: ev.text });
          break;
        case 'reasoning_delta':
          // Vendor extension (DeepSeek-style `reasoning_content`); the OpenAI spec has no reasoning text.
          if (ev.text) emit(out, { reasoning_content: ev.text });
          break;
        case 'tool_call_start':
          sawCall = true;
          emit(out, { tool_calls: [{ index: ev.index, id: ev.id, type: 'function', function: { name: nameOf(ev.name), arguments: '' } }] });
          break;
        case 'tool_call_delta':
          if (ev.arguments) emit(out, { tool_calls: [{ index: ev.index, function: { arguments: ev.arguments } }] });
          break;
        case 'usage':
          usage = ev.usage;
          break;
        case 'finish':
          reason ??= ev.reason;
          break;
        case 'error':
          closed = true;
          out.push(...renderStreamError(ev.error));
          break;
        default:
          // reasoning_end / reasoning_redacted / tool_call_end: opaque tokens and block ends have no Chat form.
          break;
      }
      return out;
    },
    end(): SSEMessage[] {
      if (closed) return [];
      closed = true;
      if (reason === undefined) return renderStreamError(TRUNCATED);
      const out: SSEMessage[] = [];
      head(out);
      out.push(delta({}, encodeFinish(reason, sawCall)));
      if (opts.includeUsage && usage) out.push(chunk([], { usage: encodeUsage(usage) }));
      out.push({ data: '[DONE]' });
      return out;
    },
  };
}
