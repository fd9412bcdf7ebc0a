/**
 * Anthropic Messages requests: client body → IR (`decodeRequest`) and IR → upstream body
 * (`encodeRequest`, built in request-encode.ts).
 *
 * @module
 */
import type { DecodeOptions } from '../../core/codec.ts';
import { invalidRequest } from '../../core/errors.ts';
import type {
  IRMessage,
  IRPart,
  IRReasoningConfig,
  IRRequest,
  IRResponseFormat,
  IRText,
  IRTool,
  IRToolChoice,
  ReasoningEffort,
} from '../../core/ir.ts';
import { type Json, decodeBlock, decodeCacheControl, isObj, num, str } from './blocks.ts';
import { optNumber } from '../shared/codec-util.ts';

export { encodeRequest } from './request-encode.ts';

/** `system` (top level or a `role:"system"` message): a string or text blocks → IR system entries. */
function decodeSystem(v: unknown, where: string): IRText[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v ? [{ type: 'text', text: v }] : [];
  if (!Array.isArray(v)) throw invalidRequest(`"${where}" must be a string or an array of text blocks`, where);
  const out: IRText[] = [];
  v.forEach((b, i) => {
    if (!isObj(b) || b.type !== 'text' || typeof b.text !== 'string') {
      throw invalidRequest(`"${where}.${i}" must be a text block`, `${where}.${i}`);
    }
    if (!b.text) return;
    const cc = decodeCacheControl(b.cache_control);
    out.push(cc ? { type: 'text', text: b.text, cacheControl: cc } : { type: 'text', text: b.text });
  });
  return out;
}

function decodeContent(content: unknown, where: string, names: Map<string, string>): IRPart[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw invalidRequest(`"${where}" must be a string or an array`, where);
  const out: IRPart[] = [];
  content.forEach((b, i) => {
    const p = decodeBlock(b, `${where}.${i}`, names);
    if (p) out.push(p);
  });
  return out;
}

/** Custom tools become IR tools; server tools (`web_search_…`, `bash_…`) have no IR form and are dropped. */
function decodeTools(v: unknown): IRTool[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidRequest('"tools" must be an array', 'tools');
  const tools: IRTool[] = [];
  v.forEach((t, i) => {
    if (!isObj(t) || typeof t.name !== 'string') throw invalidRequest(`"tools.${i}.name" must be a string`, `tools.${i}.name`);
    const custom = t.type === undefined || t.type === null || t.type === 'custom';
    if (!custom) return;
    if (!isObj(t.input_schema)) throw invalidRequest(`"tools.${i}.input_schema" must be an object`, `tools.${i}.input_schema`);
    const tool: IRTool = { name: t.name, parameters: t.input_schema };
    if (typeof t.description === 'string') tool.description = t.description;
    if (typeof t.strict === 'boolean') tool.strict = t.strict;
    const cc = decodeCacheControl(t.cache_control);
    if (cc) tool.cacheControl = cc;
    tools.push(tool);
  });
  return tools;
}

function decodeToolChoice(v: unknown): { choice?: IRToolChoice; parallel?: boolean } {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw invalidRequest('"tool_choice" must be an object', 'tool_choice');
  const parallel = v.disable_parallel_tool_use === true ? false : undefined;
  switch (v.type) {
    case 'auto':
      return { choice: { type: 'auto' }, parallel };
    case 'any':
      return { choice: { type: 'required' }, parallel };
    case 'none':
      return { choice: { type: 'none' } };
    case 'tool':
      if (typeof v.name !== 'string') throw invalidRequest('"tool_choice.name" must be a string', 'tool_choice.name');
      return { choice: { type: 'tool', name: v.name }, parallel };
    default:
      throw invalidRequest('"tool_choice.type" must be one of auto, any, tool, none', 'tool_choice.type');
  }
}

const EFFORTS: readonly string[] = ['low', 'medium', 'high', 'xhigh', 'max'];

/**
 * `thinking` + `output_config.effort` → IR reasoning. Adaptive is `enabled` without a budget;
 * `display: "omitted"` turns `includeThoughts` off.
 */
function decodeReasoning(thinking: unknown, outputConfig: Json | undefined): IRReasoningConfig | undefined {
  const effort = str(outputConfig?.effort);
  const r: IRReasoningConfig = {};
  if (effort !== undefined && EFFORTS.includes(effort)) r.effort = effort as ReasoningEffort;
  if (isObj(thinking)) {
    if (thinking.type === 'disabled') r.enabled = false;
    else if (thinking.type === 'enabled' || thinking.type === 'adaptive') {
      r.enabled = true;
      const budget = num(thinking.budget_tokens);
      if (thinking.type === 'enabled' && budget !== undefined) r.budgetTokens = budget;
      r.includeThoughts = thinking.display !== 'omitted';
    }
  } else if (thinking !== undefined && thinking !== null) {
    throw invalidRequest('"thinking" must be an object', 'thinking');
  }
  return Object.keys(r).length ? r : undefined;
}

function decodeResponseFormat(outputConfig: Json | undefined): IRResponseFormat | undefined {
  const f = outputConfig?.format;
  if (!isObj(f) || f.type !== 'json_schema') return undefined;
  if (!isObj(f.schema)) throw invalidRequest('"output_config.format.schema" must be an object', 'output_config.format.schema');
  return { type: 'json_schema', schema: f.schema };
}

/**
 * Anthropic Messages body → IR. `role:"system"` messages (sent by Claude Code) join `system` after
 * the top-level blocks, in order. `max_tokens` is optional here because count_tokens bodies omit it.
 */
export function decodeRequest(body: Record<string, unknown>, opts: DecodeOptions = {}): IRRequest {
  if (!isObj(body)) throw invalidRequest('request body must be a JSON object');
  const model = opts.model ?? body.model;
  if (typeof model !== 'string' || !model) throw invalidRequest('"model" must be a non-empty string', 'model');
  if (!Array.isArray(body.messages)) throw invalidRequest('"messages" must be an array', 'messages');

  const system = decodeSystem(body.system, 'system');
  const messages: IRMessage[] = [];
  const names = new Map<string, string>();
  body.messages.forEach((m, i) => {
    const where = `messages.${i}`;
    if (!isObj(m)) throw invalidRequest(`"${where}" must be an object`, where);
    if (m.role === 'system') {
      system.push(...decodeSystem(m.content, `${where}.content`));
      return;
    }
    if (m.role !== 'user' && m.role !== 'assistant') {
      throw invalidRequest(`"${where}.role" must be "user", "assistant" or "system"`, `${where}.role`);
    }
    messages.push({ role: m.role, content: decodeContent(m.content, `${where}.content`, names) });
  });

  const outputConfig = isObj(body.output_config) ? body.output_config : undefined;
  const ir: IRRequest = { model, system, messages, stream: opts.stream ?? body.stream === true };
  const tools = decodeTools(body.tools);
  if (tools) ir.tools = tools;
  const { choice, parallel } = decodeToolChoice(body.tool_choice);
  if (choice) ir.toolChoice = choice;
  if (parallel !== undefined) ir.parallelToolCalls = parallel;

  const maxTokens = optNumber(body, 'max_tokens');
  if (maxTokens !== undefined) ir.maxTokens = maxTokens;
  const temperature = optNumber(body, 'temperature');
  if (temperature !== undefined) ir.temperature = temperature;
  const topP = optNumber(body, 'top_p');
  if (topP !== undefined) ir.topP = topP;
  const topK = optNumber(body, 'top_k');
  if (topK !== undefined) ir.topK = topK;

  const stop = body.stop_sequences;
  if (stop !== undefined && stop !== null) {
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
      throw invalidRequest('"stop_sequences" must be an array of strings', 'stop_sequences');
    }
    if (stop.length) ir.stop = stop as string[];
  }
  const reasoning = decodeReasoning(body.thinking, outputConfig);
  if (reasoning) ir.reasoning = reasoning;
  const responseFormat = decodeResponseFormat(outputConfig);
  if (responseFormat) ir.responseFormat = responseFormat;
  const user = isObj(body.metadata) ? str(body.metadata.user_id) : undefined;
  if (user) ir.user = user;
  return ir;
}
