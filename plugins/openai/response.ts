/**
 * OpenAI Chat Completions responses: upstream body → IR (`decodeResponse`), IR → client body
 * (`encodeResponse`), plus the finish-reason and usage mappings the stream codec shares.
 *
 * @module
 */
import type { EncodeOptions } from '../../core/codec.ts';
import { GatewayError } from '../../core/errors.ts';
import type { FinishReason, IRPart, IRResponse, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds, openaiStyleUsage } from '../shared/codec-util.ts';
import { withClientToolNames } from '../shared/tool-names.ts';
import { errorFields, statusOfError } from './error.ts';
import { legacyFunctionCall } from './legacy.ts';
import { isObj, type Json, num, str } from './wire.ts';

/** Chat `finish_reason` → IR; a natural stop with tool calls is reported as `tool_calls` (§4 #44). */
export function decodeFinish(reason: unknown, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

/**
 * IR → Chat `finish_reason`. Chat has no pause or error reason: both become `stop`. A `legacy`
 * (`functions`) client is told `function_call` where others are told `tool_calls` (§4 #40).
 *
 * @example
 * ```ts
 * encodeFinish('stop', true); // 'tool_calls'
 * encodeFinish('tool_calls', true, true); // 'function_call'
 * ```
 */
export function encodeFinish(reason: FinishReason, hasToolCalls: boolean, legacy = false): string {
  if (reason === 'length' || reason === 'content_filter') return reason;
  if (reason === 'tool_calls' || hasToolCalls) return legacy ? 'function_call' : 'tool_calls';
  return 'stop';
}

/** Chat `usage` → IR usage (both count cached input and reasoning output inside the totals). */
export function decodeUsage(u: unknown): IRUsage | undefined {
  if (!isObj(u)) return undefined;
  return openaiStyleUsage(u.prompt_tokens, u.completion_tokens, u.prompt_tokens_details, u.completion_tokens_details);
}

/** IR usage → Chat `usage`. */
export function encodeUsage(u: IRUsage): Json {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: {
      cached_tokens: u.cachedTokens ?? 0,
      ...(u.cacheWriteTokens !== undefined ? { cache_write_tokens: u.cacheWriteTokens } : {}),
    },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
  };
}

/** Decodes an upstream Chat completion (choice 0) into an IR response. */
export function decodeResponse(body: Json): IRResponse {
  const choices = Array.isArray(body.choices) ? body.choices.filter(isObj) : [];
  if (!choices.length && isObj(body.error)) {
    // Some OpenAI-compatible servers answer 200 with an error body.
    const { message, code } = errorFields(body.error);
    throw new GatewayError(code ?? 'upstream_error', message ?? 'upstream returned an error', {
      status: statusOfError(body.error),
    });
  }
  const choice = choices.find((c) => (num(c.index) ?? 0) === 0) ?? {};
  const msg = isObj(choice.message) ? choice.message : {};
  const content: IRPart[] = [];
  // `reasoning_content` (DeepSeek, vLLM, ...) and `reasoning` (OpenRouter, Ollama) are vendor extensions.
  const reasoning = str(msg.reasoning_content) ?? str(msg.reasoning);
  if (reasoning) content.push({ type: 'reasoning', text: reasoning });
  if (typeof msg.content === 'string') {
    if (msg.content) content.push({ type: 'text', text: msg.content });
  } else if (Array.isArray(msg.content)) {
    for (const p of msg.content) if (isObj(p) && str(p.text)) content.push({ type: 'text', text: p.text as string });
  }
  const refusal = str(msg.refusal);
  if (refusal) content.push({ type: 'refusal', text: refusal });
  if (Array.isArray(msg.tool_calls)) {
    for (const tc of msg.tool_calls) {
      if (!isObj(tc) || !isObj(tc.function)) continue;
      const f = tc.function;
      content.push({ type: 'tool_call', id: str(tc.id) ?? newId('call_'), name: str(f.name) ?? '', arguments: str(f.arguments) ?? '{}' });
    }
  }
  if (isObj(msg.function_call) && str(msg.function_call.name)) {
    const f = msg.function_call;
    content.push({ type: 'tool_call', id: newId('call_'), name: f.name as string, arguments: str(f.arguments) ?? '{}' });
  }
  const res: IRResponse = {
    id: str(body.id) ?? newId('chatcmpl-'),
    model: str(body.model) ?? '',
    created: num(body.created) ?? nowSeconds(),
    content,
    finishReason: decodeFinish(choice.finish_reason, content.some((p) => p.type === 'tool_call')),
  };
  const usage = decodeUsage(body.usage);
  if (usage) res.usage = usage;
  return res;
}

/**
 * Encodes an IR response as a Chat completion for the client (model shown as `opts.model`). With
 * `opts.legacyFunctions` the call goes out as `message.function_call` (first call only, see
 * `legacy.ts`) and the finish reason as `function_call`.
 *
 * @example
 * ```ts
 * encodeResponse(ir, { model: 'gpt-4o', tools: req.tools, legacyFunctions: req.legacyFunctions });
 * ```
 */
export function encodeResponse(ir: IRResponse, opts: EncodeOptions): Json {
  const res = withClientToolNames(ir, opts);
  const text = res.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
  const refusal = res.content.map((p) => (p.type === 'refusal' ? p.text : '')).join('');
  const reasoning = res.content.map((p) => (p.type === 'reasoning' ? p.text : '')).join('');
  const toolCalls = res.content.flatMap((p) =>
    p.type === 'tool_call'
      ? [{ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments || '{}' } }]
      : [],
  );
  const message: Json = {
    role: 'assistant',
    content: text || (toolCalls.length || refusal ? null : ''),
    refusal: refusal || null,
    annotations: [],
  };
  // `reasoning_content` is a vendor extension (DeepSeek-style), not part of the OpenAI spec.
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length) {
    if (opts.legacyFunctions) message.function_call = legacyFunctionCall(toolCalls);
    else message.tool_calls = toolCalls;
  }
  const out: Json = {
    id: res.id || newId('chatcmpl-'),
    object: 'chat.completion',
    created: res.created || nowSeconds(),
    model: opts.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: encodeFinish(res.finishReason, toolCalls.length > 0, opts.legacyFunctions) }],
  };
  if (res.usage) out.usage = encodeUsage(res.usage);
  return out;
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
