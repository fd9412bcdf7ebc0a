/**
 * Gemini wire helpers shared by the request, response and stream halves of the codec: JSON
 * narrowing, `Part` ↔ IR part conversion, schemas, usage and finish reasons.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { FinishReason, IRDocument, IRImage, IRPart, IRUsage } from '../../core/ir.ts';
import { newId, num, parseArgs, parseDataUrl } from '../shared/codec-util.ts';

/** A JSON object. */
export type Json = Record<string, unknown>;

/** The bypass value Gemini CLI sends when it has no real signature for a function call (Gemini 3). */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

/** True for a plain (non-array) object. */
export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a field by its camelCase name or, as Gemini's JSON parser also accepts, its snake_case one. */
export function pick(o: Json, camel: string): unknown {
  return o[camel] ?? o[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

/** The value when it is a string. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export { num };

/** Mints tool-call ids `call_<base>_<n>` for function calls that came without one (§4 #5). */
export function callIdMinter(base: string | undefined): () => string {
  const stem = base && /^[A-Za-z0-9_-]+$/.test(base) ? base : newId('', 9);
  let n = 0;
  return () => `call_${stem}_${n++}`;
}

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  heic: 'image/heic', heif: 'image/heif', pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown',
  html: 'text/html', csv: 'text/csv', mp3: 'audio/mpeg', wav: 'audio/wav', mp4: 'video/mp4',
};

function guessMime(url: string, fallback: string): string {
  const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  return (ext && MIME_BY_EXT[ext]) || fallback;
}

/** `inlineData` / `fileData` → IR image (image MIME types) or document (everything else). */
export function decodeMedia(p: Json): IRImage | IRDocument | undefined {
  const inline = pick(p, 'inlineData');
  if (isObj(inline)) {
    const mediaType = str(pick(inline, 'mimeType')) ?? 'application/octet-stream';
    const source = { kind: 'base64' as const, mediaType, data: str(inline.data) ?? '' };
    return mediaType.startsWith('image/') ? { type: 'image', source } : { type: 'document', source };
  }
  const file = pick(p, 'fileData');
  if (!isObj(file)) return undefined;
  const url = str(pick(file, 'fileUri'));
  if (!url) return undefined;
  const mediaType = str(pick(file, 'mimeType'));
  if (mediaType?.startsWith('image/')) return { type: 'image', source: { kind: 'url', url } };
  return { type: 'document', source: { kind: 'url', url, ...(mediaType ? { mediaType } : {}) } };
}

/**
 * IR image/document → `inlineData` or `fileData`. An http(s) URL becomes `fileData` with a MIME type
 * guessed from its extension: Gemini documents `fileUri` for Files API URIs only (§4 #36), but a pure
 * codec cannot download and inline; a provider that wants that must fetch before encoding.
 */
export function encodeMedia(p: IRImage | IRDocument): Json {
  const src = p.source;
  if (src.kind === 'base64') return { inlineData: { mimeType: src.mediaType, data: src.data } };
  const fallback = p.type === 'image' ? 'image/jpeg' : 'application/pdf';
  if (src.kind === 'url') {
    const inline = parseDataUrl(src.url);
    if (inline) return { inlineData: { mimeType: inline.mediaType, data: inline.data } };
    const mimeType = ('mediaType' in src && src.mediaType) || guessMime(src.url, fallback);
    return { fileData: { mimeType, fileUri: src.url } };
  }
  if (/^https?:\/\//.test(src.fileId)) return { fileData: { fileUri: src.fileId } };
  if (src.fileId.startsWith('files/')) {
    return { fileData: { fileUri: `https://generativelanguage.googleapis.com/v1beta/${src.fileId}` } };
  }
  throw invalidRequest(`file id "${src.fileId}" belongs to another provider and cannot be sent to Gemini`, 'messages');
}

/** A text, thought or media part → IR part; undefined for parts the IR has no place for. */
export function decodeBasicPart(p: Json): IRPart | undefined {
  const sig = str(pick(p, 'thoughtSignature'));
  const signed = sig ? { thoughtSignature: sig } : {};
  if (typeof p.text === 'string') {
    if (p.thought === true) {
      if (!p.text && !sig) return undefined;
      return { type: 'reasoning', text: p.text, origin: 'gemini', ...(sig ? { signature: sig } : {}) };
    }
    return p.text || sig ? { type: 'text', text: p.text, ...signed } : undefined;
  }
  const media = decodeMedia(p);
  if (media) return media;
  // A signature-only part (no data field) keeps its token on an empty text part.
  return sig && !pick(p, 'executableCode') && !pick(p, 'codeExecutionResult')
    ? { type: 'text', text: '', ...signed }
    : undefined;
}

/**
 * IR parts of an assistant turn → Gemini `model` parts. `forClient` shows reasoning text as thought
 * parts; upstream-bound history keeps only Gemini-signed thoughts (the API ignores unsigned ones).
 * Function calls always carry their id (Gemini CLI does the same; the API echoes it back).
 */
export function encodeModelParts(parts: IRPart[], forClient: boolean): Json[] {
  const out: Json[] = [];
  for (const p of parts) {
    if (p.type === 'text') {
      if (p.text || p.thoughtSignature) out.push({ text: p.text, ...sigOf(p.thoughtSignature) });
    } else if (p.type === 'refusal') {
      if (p.text) out.push({ text: p.text });
    } else if (p.type === 'reasoning') {
      const sig = p.origin === 'gemini' ? p.signature : undefined;
      if (sig || (forClient && p.text)) out.push({ text: p.text, thought: true, ...sigOf(sig) });
    } else if (p.type === 'tool_call') {
      const functionCall = { id: p.id, name: p.name, args: parseArgs(p.arguments) };
      out.push({ functionCall, ...sigOf(p.thoughtSignature) });
    } else if (p.type === 'image' || p.type === 'document') {
      out.push(encodeMedia(p));
    }
  }
  return out;
}

function sigOf(sig: string | undefined): Json {
  return sig ? { thoughtSignature: sig } : {};
}

/** `usageMetadata` → IR usage (§3.9): input includes cached and tool-use prompt; output includes thoughts. */
export function decodeUsage(u: unknown): IRUsage | undefined {
  if (!isObj(u)) return undefined;
  const thoughts = num(u.thoughtsTokenCount);
  const cached = num(u.cachedContentTokenCount);
  return {
    inputTokens: (num(u.promptTokenCount) ?? 0) + (num(u.toolUsePromptTokenCount) ?? 0),
    outputTokens: (num(u.candidatesTokenCount) ?? 0) + (thoughts ?? 0),
    ...(cached !== undefined ? { cachedTokens: cached } : {}),
    ...(thoughts !== undefined ? { reasoningTokens: thoughts } : {}),
  };
}

/** IR usage → `usageMetadata` (candidates exclude thoughts, total is the sum). */
export function encodeUsage(u: IRUsage): Json {
  const thoughts = u.reasoningTokens ?? 0;
  return {
    promptTokenCount: u.inputTokens,
    candidatesTokenCount: Math.max(0, u.outputTokens - thoughts),
    totalTokenCount: u.inputTokens + u.outputTokens,
    ...(u.cachedTokens ? { cachedContentTokenCount: u.cachedTokens } : {}),
    ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
  };
}

const FILTERED = new Set([
  'SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII',
  'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION',
]);

/**
 * Gemini `finishReason` → IR (§3.8). `STOP` with function calls becomes `tool_calls` (§4 #26).
 * `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `LANGUAGE`, `OTHER` and
 * unknown values map to `stop`, keeping whatever text came (policy: no fake error for a 200).
 */
export function decodeFinish(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  const mapped: FinishReason = reason === 'MAX_TOKENS' ? 'length' : reason && FILTERED.has(reason) ? 'content_filter' : 'stop';
  return mapped === 'stop' && hasToolCalls ? 'tool_calls' : mapped;
}

/** IR finish reason → Gemini `finishReason`. */
export function encodeFinish(reason: FinishReason): string {
  return { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP', content_filter: 'SAFETY', pause: 'STOP', error: 'OTHER' }[reason];
}

/** The candidate a single-choice IR reads: `index` 0 (or unnumbered), else the first. */
export function firstCandidate(body: Json): Json | undefined {
  const list = Array.isArray(body.candidates) ? body.candidates.filter(isObj) : [];
  return list.find((c) => (num(c.index) ?? 0) === 0) ?? list[0];
}

/** The `parts` array of a candidate's content (empty when content is absent, e.g. after SAFETY). */
export function candidateParts(cand: Json | undefined): Json[] {
  const content = cand?.content;
  return isObj(content) && Array.isArray(content.parts) ? content.parts.filter(isObj) : [];
}
