/**
 * Client side of a Responses request: `POST /v1/responses` body → IR.
 *
 * Accepted as-is from real clients (Codex CLI, §6): `instructions` plus `system`/`developer` input
 * messages (all become IR system blocks, in order), `input` as a string or an item array (message
 * items with or without `type`, `function_call`, `function_call_output`, `custom_tool_call`,
 * `custom_tool_call_output`, `reasoning`), ids on items, `namespace` tools (flattened to `ns__name`;
 * the client encoders split calls back into `namespace` + `name`, which Codex dispatches by),
 * freeform `custom` tools (custom.ts) and hosted tools such as `web_search` (no IR equivalent:
 * dropped; tools are decoded in request-tools.ts). Server-state fields (`previous_response_id`,
 * `store`, `include`, `conversation`) and cache/telemetry fields (`prompt_cache_key`,
 * `client_metadata`) are not part of the IR and are left to the gateway.
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
  IRToolResult,
  ReasoningEffort,
} from '../../core/ir.ts';
import { customArguments } from './custom.ts';
import { decodeToolChoice, decodeTools } from './request-tools.ts';
import { decodeContentPart, decodeReasoningItem, flatToolName, isObj, num, requireStr, str, type Json } from './wire.ts';
import { optNumber } from '../shared/codec-util.ts';

export { encodeRequest } from './request-encode.ts';

const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']);

/** Decodes a client Responses body into the IR; throws a 400 naming the field on malformed input. */
export function decodeRequest(body: Record<string, unknown>, opts: DecodeOptions = {}): IRRequest {
  if (!isObj(body)) throw invalidRequest('request body must be a JSON object');
  const model = opts.model ?? body.model;
  if (typeof model !== 'string' || model === '') throw invalidRequest('"model" must be a non-empty string', 'model');

  const system: IRText[] = [];
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions !== 'string') throw invalidRequest('"instructions" must be a string', 'instructions');
    if (body.instructions) system.push({ type: 'text', text: body.instructions });
  }
  const messages = decodeInput(body.input, body.previous_response_id != null, system);
  const req: IRRequest = { model, system, messages, stream: opts.stream ?? body.stream === true };

  const tools = decodeTools(body.tools);
  if (tools) req.tools = tools;
  const toolChoice = decodeToolChoice(body.tool_choice);
  if (toolChoice && tools) req.toolChoice = toolChoice; // a choice over hosted tools only has no IR meaning
  if (typeof body.parallel_tool_calls === 'boolean') req.parallelToolCalls = body.parallel_tool_calls;
  const maxTokens = optNumber(body, 'max_output_tokens');
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const temperature = optNumber(body, 'temperature');
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optNumber(body, 'top_p');
  if (topP !== undefined) req.topP = topP;
  const format = decodeFormat(body.text);
  if (format) req.responseFormat = format;
  const reasoning = decodeReasoningConfig(body.reasoning);
  if (reasoning) req.reasoning = reasoning;
  const user = str(body.safety_identifier) || str(body.user);
  if (user) req.user = user;
  if (isObj(body.metadata)) {
    const md = Object.entries(body.metadata).filter((e): e is [string, string] => typeof e[1] === 'string');
    if (md.length) req.metadata = Object.fromEntries(md);
  }
  return req;
}

/** `input` → IR messages; consecutive items of one role form one turn (tool results join as parts). */
function decodeInput(input: unknown, hasPrevious: boolean, system: IRText[]): IRMessage[] {
  if (input === undefined || input === null) {
    if (hasPrevious) return [];
    throw invalidRequest('"input" is required: a string or an array of input items', 'input');
  }
  if (typeof input === 'string') return input ? [{ role: 'user', content: [{ type: 'text', text: input }] }] : [];
  if (!Array.isArray(input)) throw invalidRequest('"input" must be a string or an array of input items', 'input');

  const messages: IRMessage[] = [];
  const names = new Map<string, string>();
  const push = (role: IRMessage['role'], parts: IRPart[]): void => {
    if (!parts.length) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...parts);
    else messages.push({ role, content: parts });
  };
  input.forEach((item: unknown, i) => {
    const at = `input[${i}]`;
    if (!isObj(item)) throw invalidRequest(`"${at}" must be an object`, at);
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    if (type === 'message') {
      const role = item.role;
      const parts = decodeMessageContent(item.content, role, at);
      if (role === 'system' || role === 'developer') system.push(...(parts as IRText[]));
      else push(role === 'assistant' ? 'assistant' : 'user', parts);
    } else if (type === 'function_call' || type === 'custom_tool_call') {
      const callId = requireStr(item.call_id, `${at}.call_id`);
      const name = flatToolName(requireStr(item.name, `${at}.name`), item.namespace);
      names.set(callId, name);
      const args = type === 'custom_tool_call' ? customArguments(item.input) : argsText(item.arguments);
      push('assistant', [{ type: 'tool_call', id: callId, name, arguments: args }]);
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      const callId = requireStr(item.call_id, `${at}.call_id`);
      const part: IRToolResult = { type: 'tool_result', callId, content: decodeToolOutput(item.output, at) };
      const name = names.get(callId) ?? (str(item.name) ? flatToolName(item.name as string, item.namespace) : undefined);
      if (name) part.name = name;
      push('user', [part]);
    } else if (type === 'reasoning') {
      const r = decodeReasoningItem(item);
      if (r) push('assistant', [r]);
    }
    // item_reference, hosted-tool calls and unknown items: no IR form, ignored.
  });
  return messages;
}

/** Tool-call arguments as JSON text: `""` → `"{}"`, an object (lenient clients) → its JSON. */
function argsText(v: unknown): string {
  if (typeof v === 'string') return v.trim() ? v : '{}';
  return isObj(v) ? JSON.stringify(v) : '{}';
}

/** A message item's `content` for its role; system/developer keep only their text parts. */
function decodeMessageContent(content: unknown, role: unknown, at: string): IRPart[] {
  if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
    throw invalidRequest(`"${at}.role" must be one of user, assistant, system, developer`, `${at}.role`);
  }
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw invalidRequest(`"${at}.content" must be a string or an array`, `${at}.content`);
  const parts: IRPart[] = [];
  content.forEach((p: unknown, j) => {
    if (!isObj(p)) throw invalidRequest(`"${at}.content[${j}]" must be an object`, `${at}.content[${j}]`);
    if (p.type === 'refusal' && role === 'assistant') {
      if (str(p.refusal)) parts.push({ type: 'refusal', text: p.refusal as string });
      return;
    }
    if (p.type === 'input_image' && !str(p.image_url) && str(p.file_id)) {
      throw invalidRequest(`"${at}.content[${j}]": input_image by file_id is not supported; send image_url`, `${at}.content[${j}].file_id`);
    }
    const part = decodeContentPart(p);
    if (part && (part.type === 'text' || role === 'user')) parts.push(part);
  });
  return parts;
}

/** `function_call_output.output`: a string, or `input_text`/`input_image`/`input_file` parts. */
function decodeToolOutput(output: unknown, at: string): IRToolResult['content'] {
  if (typeof output === 'string') return output;
  if (output === undefined || output === null) return '';
  if (Array.isArray(output)) {
    return output.flatMap((p: unknown, j) => {
      if (!isObj(p)) throw invalidRequest(`"${at}.output[${j}]" must be an object`, `${at}.output[${j}]`);
      const part = decodeContentPart(p);
      return part ? [part] : [];
    });
  }
  if (isObj(output) && typeof output.content === 'string') return output.content;
  return JSON.stringify(output);
}

function decodeFormat(text: unknown): IRResponseFormat | undefined {
  if (!isObj(text) || !isObj(text.format)) return undefined;
  const f = text.format;
  if (f.type === 'text') return { type: 'text' };
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type !== 'json_schema') return undefined;
  if (!isObj(f.schema)) throw invalidRequest('"text.format.schema" must be an object', 'text.format.schema');
  const out: IRResponseFormat = { type: 'json_schema', schema: f.schema };
  if (str(f.name)) out.name = f.name as string;
  if (str(f.description)) out.description = f.description as string;
  if (typeof f.strict === 'boolean') out.strict = f.strict;
  return out;
}

function decodeReasoningConfig(r: unknown): IRReasoningConfig | undefined {
  if (!isObj(r)) return undefined;
  const cfg: IRReasoningConfig = {};
  if (typeof r.effort === 'string' && EFFORTS.has(r.effort)) {
    cfg.effort = r.effort as ReasoningEffort;
    if (r.effort === 'none') cfg.enabled = false;
  }
  const summary = r.summary ?? r.generate_summary;
  if (summary === 'auto' || summary === 'concise' || summary === 'detailed') cfg.includeThoughts = true;
  return Object.keys(cfg).length ? cfg : undefined;
}
