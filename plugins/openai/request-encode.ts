/**
 * IR → OpenAI Chat Completions upstream request (`encodeRequest`).
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { IRDocument, IRImage, IRPart, IRRequest, IRText, IRToolChoice } from '../../core/ir.ts';
import { budgetToEffort, opaqueUserId, toDataUrl } from '../shared/codec-util.ts';
import { withUpstreamToolNames } from '../shared/tool-names.ts';
import type { Json } from './wire.ts';

/** Placeholder for a tool result whose only content is images/files (Chat `tool` messages are text only). */
const ATTACHMENT_NOTE = '[the tool result attachments follow in the next message]';

/** Encodes an IR request as a Chat Completions body for the upstream model `opts.model`. */
export function encodeRequest(ir: IRRequest, opts: { model: string }): Json {
  const req = withUpstreamToolNames(ir, 'openai');
  const out: Json = { model: opts.model, messages: encodeMessages(req) };
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: t.parameters,
        // WIRE-FORMATS §3.3: arbitrary schemas from other formats rarely meet strict mode's rules.
        strict: t.strict ?? false,
      },
    }));
    // OpenAI rejects tool_choice / parallel_tool_calls when no tools are sent.
    if (req.toolChoice) out.tool_choice = encodeToolChoice(req.toolChoice);
    if (req.parallelToolCalls !== undefined) out.parallel_tool_calls = req.parallelToolCalls;
  }
  if (req.maxTokens !== undefined) out.max_completion_tokens = req.maxTokens;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.topP !== undefined) out.top_p = req.topP;
  if (req.stop?.length) out.stop = req.stop;
  if (req.seed !== undefined) out.seed = req.seed;
  if (req.presencePenalty !== undefined) out.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) out.frequency_penalty = req.frequencyPenalty;
  if (req.n !== undefined) out.n = req.n;
  const rf = req.responseFormat;
  if (rf) {
    out.response_format =
      rf.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: rf.name ?? 'response',
              ...(rf.description ? { description: rf.description } : {}),
              schema: rf.schema,
              ...(rf.strict !== undefined ? { strict: rf.strict } : {}),
            },
          }
        : { type: rf.type };
  }
  const effort = encodeEffort(req);
  if (effort) out.reasoning_effort = effort;
  if (req.user) out.safety_identifier = opaqueUserId(req.user);
  if (req.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

/**
 * Effort policy: an explicit effort wins; a budget maps through `budgetToEffort`; "disabled"
 * without an effort is left to the model default, since only some models accept `none`.
 */
function encodeEffort(req: IRRequest): string | undefined {
  const r = req.reasoning;
  if (!r) return undefined;
  if (r.effort) return r.effort;
  if (r.enabled !== false && r.budgetTokens !== undefined && r.budgetTokens !== 0) return budgetToEffort(r.budgetTokens);
  return undefined;
}

function encodeToolChoice(tc: IRToolChoice): unknown {
  switch (tc.type) {
    case 'tool':
      return { type: 'function', function: { name: tc.name } };
    case 'allowed':
      return {
        type: 'allowed_tools',
        allowed_tools: { mode: tc.mode, tools: tc.names.map((name) => ({ type: 'function', function: { name } })) },
      };
    default:
      return tc.type;
  }
}

function encodeMessages(req: IRRequest): Json[] {
  const out: Json[] = [];
  const system = req.system.map((t) => t.text).filter(Boolean);
  if (system.length) out.push({ role: 'system', content: system.join('\n\n') });
  for (const m of req.messages) {
    if (m.role === 'assistant') {
      const a = encodeAssistant(m.content);
      if (a) out.push(a);
    } else {
      out.push(...encodeUser(m.content));
    }
  }
  return out;
}

/** A user turn becomes its `tool` messages first, then one user message with the rest (§4 #8, #14). */
function encodeUser(parts: IRPart[]): Json[] {
  const tools: Json[] = [];
  const rest: Json[] = [];
  for (const p of parts) {
    if (p.type === 'tool_result') {
      const items = typeof p.content === 'string' ? [{ type: 'text', text: p.content } as IRText] : p.content;
      let text = items.map((c) => (c.type === 'text' ? c.text : '')).join('');
      const media = items.filter((c) => c.type !== 'text');
      rest.push(...media.map(encodeMedia));
      if (!text && media.length) text = ATTACHMENT_NOTE;
      // Only Anthropic has `is_error`; Chat gets the flag as a prefix (§4 #13).
      tools.push({ role: 'tool', tool_call_id: p.callId, content: p.isError ? `Error: ${text}` : text });
    } else if (p.type === 'text') {
      if (p.text) rest.push({ type: 'text', text: p.text });
    } else if (p.type === 'image' || p.type === 'document') {
      rest.push(encodeMedia(p));
    }
  }
  if (!rest.length) return tools;
  const only = rest.length === 1 && rest[0]!.type === 'text' ? rest[0]!.text : undefined;
  return [...tools, { role: 'user', content: only ?? rest }];
}

function encodeMedia(p: IRImage | IRDocument): Json {
  if (p.type === 'image') {
    const url = p.source.kind === 'base64' ? toDataUrl(p.source.mediaType, p.source.data) : p.source.url;
    return { type: 'image_url', image_url: { url, ...(p.detail ? { detail: p.detail } : {}) } };
  }
  const src = p.source;
  if (src.kind === 'file') return { type: 'file', file: { file_id: src.fileId } };
  if (src.kind === 'url') throw invalidRequest('documents by URL cannot be sent to an OpenAI Chat upstream');
  const ext = src.mediaType === 'text/plain' ? 'txt' : (src.mediaType.split('/')[1] ?? 'bin');
  return { type: 'file', file: { filename: p.filename ?? `document.${ext}`, file_data: toDataUrl(src.mediaType, src.data) } };
}

/** Text and refusal parts stay in order; reasoning has no Chat field and is dropped (§3.2). */
function encodeAssistant(parts: IRPart[]): Json | undefined {
  const content: Json[] = [];
  const toolCalls: Json[] = [];
  for (const p of parts) {
    if (p.type === 'text' && p.text) content.push({ type: 'text', text: p.text });
    else if (p.type === 'refusal' && p.text) content.push({ type: 'refusal', refusal: p.text });
    else if (p.type === 'tool_call') {
      toolCalls.push({ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments || '{}' } });
    }
  }
  if (!content.length && !toolCalls.length) return undefined;
  const msg: Json = { role: 'assistant' };
  if (content.length === 1 && content[0]!.type === 'text') msg.content = content[0]!.text;
  else msg.content = content.length ? content : null;
  if (toolCalls.length) msg.tool_calls = toolCalls;
  return msg;
}
