/**
 * Anthropic content blocks ↔ IR parts, shared by the request and response sides, plus the small
 * mappings both sides need (tool-use ids, stop reasons, usage).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { invalidRequest } from '../../core/errors.ts';
import type { FinishReason, IRDocument, IRImage, IRPart, IRText, IRUsage } from '../../core/ir.ts';
import { newId, parseArgs, stringifyArgs } from '../shared/codec-util.ts';
import { decodeDocument, decodeImage, encodeMedia } from './media.ts';
import { type Json, decodeCacheControl, isObj, num, str, withCache } from './wire.ts';

export { type Json, decodeCacheControl, isObj, num, str, withCache } from './wire.ts';

const TOOL_ID = /^[a-zA-Z0-9_-]+$/;

/**
 * Makes a tool-use id match Anthropic's `^[a-zA-Z0-9_-]+$` (§4 #6). Deterministic and idempotent,
 * so `tool_use.id` and `tool_result.tool_use_id` stay paired; a hash suffix keeps distinct ids
 * (`a:1` vs `a.1`) distinct after the invalid characters become `_`.
 */
export function sanitizeToolId(id: string): string {
  if (TOOL_ID.test(id)) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 10);
  return `${id.replace(/[^a-zA-Z0-9_-]/g, '_') || 'toolu'}_${hash}`;
}

/** A tool-use id for the client: sanitised, or minted in Anthropic's `toolu_` form when empty. */
export function clientToolId(id: string): string {
  return id ? sanitizeToolId(id) : newId('toolu_');
}

/** A message id in Anthropic's `msg_` form (§4 #42). */
export function messageId(id: string | undefined): string {
  if (!id) return newId('msg_');
  return id.startsWith('msg_') ? id : `msg_${id}`;
}

function decodeText(b: Json, where: string): IRText | undefined {
  if (typeof b.text !== 'string') throw invalidRequest(`${where}.text must be a string`, `${where}.text`);
  if (!b.text) return undefined;
  const cc = decodeCacheControl(b.cache_control);
  return cc ? { type: 'text', text: b.text, cacheControl: cc } : { type: 'text', text: b.text };
}

/** Decodes `tool_result.content` (string, or text/image/document blocks; others are ignored). */
function decodeResultContent(c: unknown, where: string): string | Array<IRText | IRImage | IRDocument> {
  if (c === undefined || c === null) return '';
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) throw invalidRequest(`${where} must be a string or an array`, where);
  const out: Array<IRText | IRImage | IRDocument> = [];
  c.forEach((x, i) => {
    if (!isObj(x)) return;
    const w = `${where}.${i}`;
    const p = x.type === 'text' ? decodeText(x, w) : x.type === 'image' ? decodeImage(x, w) : x.type === 'document' ? decodeDocument(x, w) : undefined;
    if (p) out.push(p);
  });
  return out;
}

/**
 * One wire content block → an IR part (undefined for empty text and for block types the IR cannot
 * carry, e.g. server-tool blocks). `names` maps tool-use ids seen so far to tool names.
 */
export function decodeBlock(b: unknown, where: string, names: Map<string, string>): IRPart | undefined {
  if (!isObj(b) || typeof b.type !== 'string') throw invalidRequest(`${where} must be an object with a "type"`, where);
  switch (b.type) {
    case 'text':
      return decodeText(b, where);
    case 'image':
      return decodeImage(b, where);
    case 'document':
      return decodeDocument(b, where);
    case 'tool_use': {
      if (typeof b.id !== 'string' || typeof b.name !== 'string') {
        throw invalidRequest(`${where} needs string "id" and "name"`, where);
      }
      names.set(b.id, b.name);
      return { type: 'tool_call', id: b.id, name: b.name, arguments: stringifyArgs(b.input) };
    }
    case 'tool_result': {
      if (typeof b.tool_use_id !== 'string') throw invalidRequest(`${where}.tool_use_id must be a string`, `${where}.tool_use_id`);
      const name = names.get(b.tool_use_id);
      const cc = decodeCacheControl(b.cache_control);
      return {
        type: 'tool_result',
        callId: b.tool_use_id,
        ...(name ? { name } : {}),
        content: decodeResultContent(b.content, `${where}.content`),
        ...(b.is_error === true ? { isError: true } : {}),
        ...(cc ? { cacheControl: cc } : {}),
      };
    }
    case 'thinking': {
      const text = str(b.thinking) ?? '';
      const signature = str(b.signature);
      // An empty signature marks thinking the gateway rendered from another format: not replayable.
      return signature ? { type: 'reasoning', text, origin: 'anthropic', signature } : { type: 'reasoning', text };
    }
    case 'redacted_thinking':
      return typeof b.data === 'string' ? { type: 'reasoning', text: '', origin: 'anthropic', redacted: b.data } : undefined;
    default:
      return undefined;
  }
}

/**
 * One IR part → a wire block, or undefined when Anthropic has no place for it. Reasoning is
 * emitted only when it carries Anthropic tokens, unless `foreignThinking` (client-side rendering:
 * other formats' reasoning text is shown as a thinking block with an empty signature).
 */
export function encodePart(p: IRPart, foreignThinking: boolean): Json | undefined {
  switch (p.type) {
    case 'text':
      return p.text ? withCache({ type: 'text', text: p.text }, p.cacheControl) : undefined;
    case 'refusal':
      return p.text ? { type: 'text', text: p.text } : undefined;
    case 'image':
    case 'document':
      return encodeMedia(p);
    case 'tool_call':
      return { type: 'tool_use', id: clientToolId(p.id), name: p.name, input: parseArgs(p.arguments) };
    case 'tool_result': {
      const block: Json = { type: 'tool_result', tool_use_id: clientToolId(p.callId) };
      if (typeof p.content === 'string') {
        if (p.content.trim()) block.content = p.content;
      } else {
        // Anthropic rejects whitespace-only text blocks anywhere, tool results included (§4 #12).
        const kept = p.content.filter((c) => c.type !== 'text' || c.text.trim() !== '');
        const content = kept.map((c) => encodePart(c, false)).filter((c): c is Json => c !== undefined);
        if (content.length) block.content = content;
      }
      if (p.isError) block.is_error = true;
      return withCache(block, p.cacheControl);
    }
    case 'reasoning':
      if (p.origin === 'anthropic' && p.redacted) return { type: 'redacted_thinking', data: p.redacted };
      if (p.origin === 'anthropic' && p.signature) return { type: 'thinking', thinking: p.text, signature: p.signature };
      return foreignThinking && p.text ? { type: 'thinking', thinking: p.text, signature: '' } : undefined;
  }
}

/** Anthropic `stop_reason` → IR finish reason (§3.8). */
export function decodeStopReason(s: unknown): FinishReason {
  switch (s) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'pause_turn':
      return 'pause';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * IR finish reason → Anthropic `stop_reason`. `error` (e.g. Gemini MALFORMED_FUNCTION_CALL)
 * becomes `end_turn` with whatever text came; a natural stop with tool calls becomes `tool_use`.
 */
export function encodeStopReason(reason: FinishReason, stopSequence: string | null | undefined, hasTools: boolean): string {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'pause':
      return 'pause_turn';
    default:
      if (hasTools) return 'tool_use';
      return stopSequence ? 'stop_sequence' : 'end_turn';
  }
}

/** Anthropic usage → IR usage: input includes cache reads and writes (§3.9). */
export function decodeUsage(u: Json): IRUsage {
  const cw = num(u.cache_creation_input_tokens);
  const cr = num(u.cache_read_input_tokens);
  const usage: IRUsage = { inputTokens: (num(u.input_tokens) ?? 0) + (cw ?? 0) + (cr ?? 0), outputTokens: num(u.output_tokens) ?? 0 };
  if (cr !== undefined) usage.cachedTokens = cr;
  if (cw !== undefined) usage.cacheWriteTokens = cw;
  const thinking = isObj(u.output_tokens_details) ? num(u.output_tokens_details.thinking_tokens) : undefined;
  if (thinking !== undefined) usage.reasoningTokens = thinking;
  return usage;
}

/** IR usage → Anthropic usage: `input_tokens` = total − cache reads − cache writes (§3.9). */
export function encodeUsage(u: Partial<IRUsage> | undefined): Json {
  const cached = u?.cachedTokens ?? 0;
  const written = u?.cacheWriteTokens ?? 0;
  const out: Json = {
    input_tokens: Math.max(0, (u?.inputTokens ?? 0) - cached - written),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    output_tokens: u?.outputTokens ?? 0,
  };
  if (u?.reasoningTokens !== undefined) out.output_tokens_details = { thinking_tokens: u.reasoningTokens };
  return out;
}
