/**
 * IR → Anthropic Messages upstream body, with the fixes a real Anthropic endpoint needs:
 * alternation, tool-result placement, no empty blocks, sanitised tool ids, clamped sampling,
 * and the extended-thinking constraints (§4 #1, #6, #8, #9, #12, #18, #37).
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { IRMessage, IRPart, IRRequest, IRTool, IRToolChoice } from '../../core/ir.ts';
import { mergeConsecutive, opaqueUserId } from '../shared/codec-util.ts';
import { withUpstreamToolNames } from '../shared/tool-names.ts';
import { type Json, encodePart, isObj, withCache } from './blocks.ts';
import { DEFAULT_MAX_TOKENS, type ThinkingPlan, planThinking } from './thinking.ts';

/** The system instruction standing in for `json_object` mode, which Anthropic lacks (§3.6). */
export const JSON_ONLY_INSTRUCTION =
  'Respond only with a single valid JSON object. Do not add any text, explanation or code fences around it.';

/** The user turn prepended when a conversation opens with an assistant turn (§4 #9). */
export const OPENING_USER_TEXT = '(continue)';

/** Parts Anthropic can accept: non-blank text, replayable Anthropic reasoning, everything else. */
function keepPart(p: IRPart): boolean {
  if (p.type === 'text' || p.type === 'refusal') return p.text.trim() !== '';
  if (p.type === 'reasoning') return p.origin === 'anthropic' && Boolean(p.signature || p.redacted);
  return true;
}

function prepareMessages(messages: IRMessage[]): IRMessage[] {
  const kept = messages
    .map((m) => ({ role: m.role, content: m.content.filter(keepPart) }))
    .filter((m) => m.content.length > 0);
  const merged = mergeConsecutive(kept);
  if (merged[0]?.role === 'assistant') merged.unshift({ role: 'user', content: [{ type: 'text', text: OPENING_USER_TEXT }] });
  return merged;
}

/**
 * Whether the turn in progress is a tool loop whose assistant turn has no leading Anthropic
 * thinking block (history from another format): Anthropic rejects manual thinking then.
 */
function toolLoopWithoutThinking(messages: IRMessage[]): boolean {
  const last = messages[messages.length - 1];
  const prev = messages[messages.length - 2];
  if (!last || !prev || last.role !== 'user' || prev.role !== 'assistant') return false;
  if (!last.content.some((p) => p.type === 'tool_result')) return false;
  if (!prev.content.some((p) => p.type === 'tool_call')) return false;
  return prev.content[0]?.type !== 'reasoning';
}

function encodeMessages(messages: IRMessage[]): Json[] {
  const out = messages.map((m) => ({
    role: m.role,
    content: m.content.map((p) => encodePart(p, false)).filter((b): b is Json => b !== undefined),
  }));
  // A prefill may not end in whitespace ("final assistant content cannot end with trailing whitespace").
  const last = out[out.length - 1];
  const tail = last?.role === 'assistant' ? last.content[last.content.length - 1] : undefined;
  if (last && tail?.type === 'text' && typeof tail.text === 'string') {
    tail.text = tail.text.trimEnd();
    if (!tail.text) last.content.pop();
    if (!last.content.length) out.pop();
  }
  return out;
}

function encodeTool(t: IRTool): Json {
  const p = t.parameters;
  const schema = !isObj(p) || !Object.keys(p).length ? { type: 'object', properties: {} } : p.type === 'object' ? p : { type: 'object', ...p };
  const tool: Json = { name: t.name };
  if (t.description) tool.description = t.description;
  tool.input_schema = schema;
  if (t.strict !== undefined) tool.strict = t.strict;
  return withCache(tool, t.cacheControl);
}

/** IR tool choice → Anthropic; forced choices relax to `auto` under thinking (§3.4, §4 #18). */
function encodeToolChoice(c: IRToolChoice | undefined, parallel: boolean | undefined, thinking: boolean): Json | undefined {
  let choice: Json | undefined;
  if (!c) choice = parallel === false ? { type: 'auto' } : undefined;
  else if (c.type === 'none') return { type: 'none' };
  else if (c.type === 'auto') choice = { type: 'auto' };
  else if (c.type === 'required') choice = { type: 'any' };
  else if (c.type === 'tool') choice = { type: 'tool', name: c.name };
  else if (c.mode === 'required' && c.names.length === 1) choice = { type: 'tool', name: c.names[0] };
  else choice = { type: c.mode === 'required' ? 'any' : 'auto' };
  if (choice && thinking && choice.type !== 'auto') choice = { type: 'auto' };
  if (choice && parallel === false) choice.disable_parallel_tool_use = true;
  return choice;
}

function encodeSystem(ir: IRRequest): Json[] {
  const blocks = ir.system.filter((s) => s.text.trim() !== '').map((s) => withCache({ type: 'text', text: s.text }, s.cacheControl));
  if (ir.responseFormat?.type === 'json_object') blocks.push({ type: 'text', text: JSON_ONLY_INSTRUCTION });
  return blocks;
}

/**
 * IR → Anthropic Messages body. `n > 1` is rejected (no equivalent, §4 #20); `seed`, penalties and
 * IR `metadata` are dropped (§4 #22, #38); a trailing assistant turn is kept as a prefill (§4 #11).
 */
export function encodeRequest(req: IRRequest, opts: { model: string }): Record<string, unknown> {
  const ir = withUpstreamToolNames(req, 'anthropic');
  if (ir.n !== undefined && ir.n > 1) throw invalidRequest('"n" greater than 1 is not supported by Anthropic upstreams', 'n');
  const messages = prepareMessages(ir.messages);
  const prefill = messages[messages.length - 1]?.role === 'assistant';
  const history = { prefill, foreignToolLoop: toolLoopWithoutThinking(messages) };
  const plan: ThinkingPlan = planThinking(ir.reasoning, ir.maxTokens, opts.model, history);

  const body: Json = { model: opts.model, max_tokens: plan.maxTokens ?? ir.maxTokens ?? DEFAULT_MAX_TOKENS };
  const system = encodeSystem(ir);
  if (system.length) body.system = system;
  body.messages = encodeMessages(messages);

  const allowed = ir.toolChoice?.type === 'allowed' ? new Set(ir.toolChoice.names) : undefined;
  const tools = (ir.tools ?? []).filter((t) => !allowed || allowed.has(t.name)).map(encodeTool);
  if (tools.length) {
    body.tools = tools;
    const choice = encodeToolChoice(ir.toolChoice, ir.parallelToolCalls, plan.on);
    if (choice) body.tool_choice = choice;
  }
  if (plan.thinking) body.thinking = plan.thinking;
  if (!plan.on) {
    if (ir.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, ir.temperature));
    if (ir.topP !== undefined) body.top_p = ir.topP;
    if (ir.topK !== undefined) body.top_k = ir.topK;
  }
  if (ir.stop?.length) body.stop_sequences = ir.stop;
  if (ir.user) body.metadata = { user_id: opaqueUserId(ir.user) };

  const outputConfig: Json = {};
  if (plan.effort) outputConfig.effort = plan.effort;
  if (ir.responseFormat?.type === 'json_schema') outputConfig.format = { type: 'json_schema', schema: ir.responseFormat.schema };
  if (Object.keys(outputConfig).length) body.output_config = outputConfig;
  if (ir.stream) body.stream = true;
  return body;
}
