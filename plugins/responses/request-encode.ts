/**
 * Upstream side of a Responses request: IR → `POST /v1/responses` body.
 *
 * Policies (WIRE-FORMATS §4):
 * - `stop` has no Responses field: rejected with 400 rather than silently dropped (#16, #38).
 * - `n > 1` has no Responses field: rejected with 400 (#20).
 * - `top_k`, `seed`, `presence_penalty`, `frequency_penalty`: no field; dropped silently (#22, #38).
 * - System blocks join (blank line between) into `instructions` (#34).
 * - Assistant text is sent as a plain string, or `output_text`/`refusal` parts when a refusal is
 *   present (#34); tool calls are separate `function_call` items; images default `detail:"auto"` (#35).
 * - Freeform tools (`IRTool.custom`) go back as `custom` tools; their calls as
 *   `custom_tool_call` items with the raw `input`, their results as `custom_tool_call_output`.
 * - `is_error` tool results are prefixed with `Error: ` (#13).
 * - Reasoning is replayed only when it came from Responses and carries `encrypted_content`, without
 *   its item id (ids would tie the turn to server-side state; §4 #17); then `store:false` and
 *   `include:["reasoning.encrypted_content"]` are set so the upstream accepts and returns it.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { IRMessage, IRPart, IRRequest, IRToolChoice, IRToolResult } from '../../core/ir.ts';
import { budgetToEffort, opaqueUserId, toDataUrl } from '../shared/codec-util.ts';
import { withUpstreamToolNames } from '../shared/tool-names.ts';
import { customInput, encodeCustomTool } from './custom.ts';
import type { Json } from './wire.ts';

/** Encodes the IR as a Responses request body for the upstream `model`. */
export function encodeRequest(ir: IRRequest, opts: { model: string }): Record<string, unknown> {
  const req = withUpstreamToolNames(ir, 'responses');
  if (req.stop?.length) throw invalidRequest('stop sequences are not supported by the Responses API upstream', 'stop');
  if (req.n !== undefined && req.n > 1) throw invalidRequest('n > 1 is not supported by the Responses API upstream', 'n');

  const body: Json = { model: opts.model };
  const instructions = req.system
    .map((s) => s.text)
    .filter(Boolean)
    .join('\n\n');
  if (instructions) body.instructions = instructions;
  const custom = new Set((req.tools ?? []).filter((t) => t.custom).map((t) => t.name));
  const { items, encrypted } = encodeMessages(req.messages, custom);
  body.input = items;
  if (encrypted) {
    body.store = false;
    body.include = ['reasoning.encrypted_content'];
  }
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => {
      if (t.custom) return encodeCustomTool(t);
      const tool: Json = { type: 'function', name: t.name };
      if (t.description) tool.description = t.description;
      tool.parameters = t.parameters;
      tool.strict = t.strict ?? false; // arbitrary schemas are rarely strict-compatible (§3.3)
      return tool;
    });
    if (req.toolChoice) body.tool_choice = encodeToolChoice(req.toolChoice, custom);
  }
  if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  if (req.maxTokens !== undefined) body.max_output_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  const format = req.responseFormat;
  if (format) {
    if (format.type === 'json_schema') {
      const f: Json = { type: 'json_schema', name: format.name ?? 'response', schema: format.schema };
      if (format.description) f.description = format.description;
      if (format.strict !== undefined) f.strict = format.strict;
      body.text = { format: f };
    } else body.text = { format: { type: format.type } };
  }
  const r = req.reasoning;
  if (r) {
    const out: Json = {};
    if (r.enabled === false) out.effort = 'none';
    else if (r.effort) out.effort = r.effort;
    else if (r.budgetTokens !== undefined) out.effort = budgetToEffort(r.budgetTokens);
    if (r.includeThoughts && out.effort !== 'none') out.summary = 'auto';
    if (Object.keys(out).length) body.reasoning = out;
  }
  if (req.user) body.safety_identifier = opaqueUserId(req.user);
  if (req.metadata && Object.keys(req.metadata).length) body.metadata = req.metadata;
  if (req.stream) body.stream = true;
  return body;
}

function encodeToolChoice(tc: IRToolChoice, custom: Set<string>): unknown {
  const kind = (name: string) => (custom.has(name) ? 'custom' : 'function');
  if (tc.type === 'tool') return { type: kind(tc.name), name: tc.name };
  if (tc.type === 'allowed') {
    return { type: 'allowed_tools', mode: tc.mode, tools: tc.names.map((name) => ({ type: kind(name), name })) };
  }
  return tc.type;
}

/** IR turns → Responses input items, in order; `custom` names the freeform tools. */
function encodeMessages(messages: IRMessage[], custom: Set<string>): { items: Json[]; encrypted: boolean } {
  const items: Json[] = [];
  const customCalls = new Set<string>();
  let encrypted = false;
  for (const m of messages) {
    let pending: Json[] = [];
    const flush = (): void => {
      if (!pending.length) return;
      if (m.role === 'user') items.push({ type: 'message', role: 'user', content: pending });
      else {
        const onlyText = pending.length === 1 && pending[0]!.type === 'output_text';
        items.push({ type: 'message', role: 'assistant', content: onlyText ? pending[0]!.text : pending });
      }
      pending = [];
    };
    for (const p of m.content) {
      if (m.role === 'user') {
        if (p.type === 'tool_result') {
          flush();
          const type = customCalls.has(p.callId) || (p.name !== undefined && custom.has(p.name)) ? 'custom_tool_call_output' : 'function_call_output';
          items.push({ type, call_id: p.callId, output: encodeToolOutput(p) });
        } else {
          const part = inputPart(p);
          if (part) pending.push(part);
        }
        continue;
      }
      if (p.type === 'text' && p.text) {
        const last = pending[pending.length - 1];
        if (last?.type === 'output_text') last.text = `${last.text as string}${p.text}`;
        else pending.push({ type: 'output_text', text: p.text, annotations: [] });
      } else if (p.type === 'refusal' && p.text) {
        pending.push({ type: 'refusal', refusal: p.text });
      } else if (p.type === 'tool_call') {
        flush();
        if (custom.has(p.name)) {
          customCalls.add(p.id);
          items.push({ type: 'custom_tool_call', call_id: p.id, name: p.name, input: customInput(p.arguments) });
        } else items.push({ type: 'function_call', call_id: p.id, name: p.name, arguments: p.arguments || '{}' });
      } else if (p.type === 'reasoning' && p.origin === 'responses' && p.encrypted) {
        flush();
        const summary = p.text ? [{ type: 'summary_text', text: p.text }] : [];
        items.push({ type: 'reasoning', summary, encrypted_content: p.encrypted });
        encrypted = true;
      }
    }
    flush();
  }
  return { items, encrypted };
}

/** A user-side part as an input content part; undefined for parts with no input form. */
function inputPart(p: IRPart): Json | undefined {
  switch (p.type) {
    case 'text':
      return p.text ? { type: 'input_text', text: p.text } : undefined;
    case 'image': {
      const s = p.source;
      const url = s.kind === 'url' ? s.url : toDataUrl(s.mediaType, s.data);
      return { type: 'input_image', image_url: url, detail: p.detail ?? 'auto' };
    }
    case 'document': {
      const s = p.source;
      if (s.kind === 'file') return { type: 'input_file', file_id: s.fileId };
      if (s.kind === 'url') return { type: 'input_file', file_url: s.url, ...(p.filename ? { filename: p.filename } : {}) };
      const ext = s.mediaType.split('/')[1]?.split(/[+;]/)[0] || 'bin';
      return { type: 'input_file', filename: p.filename ?? `document.${ext}`, file_data: toDataUrl(s.mediaType, s.data) };
    }
    default:
      return undefined;
  }
}

/** A tool result as `output`: text-only results become one string, others `input_*` parts. */
function encodeToolOutput(p: IRToolResult): string | Json[] {
  const prefix = p.isError ? 'Error: ' : '';
  if (typeof p.content === 'string') return prefix + p.content;
  if (p.content.every((c) => c.type === 'text')) return prefix + p.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  const parts = p.content.map(inputPart).filter((c): c is Json => c !== undefined);
  return p.isError ? [{ type: 'input_text', text: 'Error:' }, ...parts] : parts;
}
