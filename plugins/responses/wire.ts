/**
 * Shared pieces of the OpenAI Responses wire format: JSON narrowing, content-part and reasoning
 * item decoding, usage and finish-reason mapping, error-code → status mapping, and the `response`
 * envelope every client-facing answer (body and stream events) is built from.
 *
 * @module
 */
import type { EncodeOptions } from '../../core/codec.ts';
import { invalidRequest } from '../../core/errors.ts';
import type { FinishReason, IRDocument, IRImage, IRReasoning, IRText, IRUsage } from '../../core/ir.ts';
import { num, openaiStyleUsage, parseDataUrl } from '../shared/codec-util.ts';
import { clientTools } from '../shared/tool-names.ts';

/** A JSON object of unknown shape. */
export type Json = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value when it is a string (possibly empty). */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A required non-empty string field of a client body; a 400 naming the field otherwise. */
export function requireStr(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw invalidRequest(`"${at}" must be a non-empty string`, at);
  return v;
}

export { num };

/**
 * The IR name of a tool inside a `namespace` tool (or a `function_call` carrying `namespace`).
 * Same rule as Codex's own "canonical flat name": `ns__name`, stray underscores at the joint trimmed.
 */
export function flatToolName(name: string, namespace?: unknown): string {
  if (typeof namespace !== 'string' || namespace === '') return name;
  return `${namespace.replace(/_+$/, '')}__${name.replace(/^_+/, '')}`;
}

/** A call's client-side name fields: `name`, plus `namespace` for a tool declared inside a namespace tool. */
export type CallName = (irName: string) => { name: string; namespace?: string };

/**
 * Maps an IR tool-call name to what the client declared: its own name (upstream encoders may have
 * renamed the tool, §4 #7) and, for a `namespace` tool, `namespace` + the name inside it. Codex
 * dispatches a call by both fields, so a flat `ns__name` would be an unknown tool to it.
 *
 * @example
 * ```ts
 * clientCallName(opts)('mcp__calendar__create_event'); // { namespace: 'mcp__calendar__', name: 'create_event' }
 * ```
 */
export function clientCallName(opts: Pick<EncodeOptions, 'tools'>): CallName {
  const lookup = clientTools(opts);
  return (irName) => {
    const t = lookup(irName);
    if (!t) return { name: irName };
    return t.namespaced ? { namespace: t.namespaced.namespace, name: t.namespaced.name } : { name: t.name };
  };
}

const DETAILS = new Set(['auto', 'low', 'high', 'original']);

/** An `input_image` / `input_file` / `input_text` / `output_text` part → IR; undefined when unsupported. */
export function decodeContentPart(p: Json): IRText | IRImage | IRDocument | undefined {
  switch (p.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return typeof p.text === 'string' && p.text !== '' ? { type: 'text', text: p.text } : undefined;
    case 'input_image': {
      const url = str(p.image_url);
      if (!url) return undefined;
      const data = parseDataUrl(url);
      const image: IRImage = {
        type: 'image',
        source: data ? { kind: 'base64', mediaType: data.mediaType, data: data.data } : { kind: 'url', url },
      };
      if (typeof p.detail === 'string' && DETAILS.has(p.detail)) image.detail = p.detail as IRImage['detail'];
      return image;
    }
    case 'input_file': {
      const filename = str(p.filename) || undefined;
      let doc: IRDocument | undefined;
      const fileData = str(p.file_data);
      if (fileData) {
        const data = parseDataUrl(fileData);
        doc = {
          type: 'document',
          source: data
            ? { kind: 'base64', mediaType: data.mediaType, data: data.data }
            : { kind: 'base64', mediaType: mediaTypeOf(filename), data: fileData },
        };
      } else if (str(p.file_id)) doc = { type: 'document', source: { kind: 'file', fileId: p.file_id as string } };
      else if (str(p.file_url)) doc = { type: 'document', source: { kind: 'url', url: p.file_url as string } };
      if (doc && filename) doc.filename = filename;
      return doc;
    }
    default:
      return undefined;
  }
}

/** Raw base64 `file_data` has no media type: guess from the file name, PDF otherwise. */
function mediaTypeOf(filename: string | undefined): string {
  const ext = filename?.split('.').pop()?.toLowerCase();
  const known: Record<string, string> = { txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', json: 'application/json' };
  return (ext && known[ext]) || 'application/pdf';
}

/**
 * A `reasoning` item → IR reasoning (origin `responses`). Summary parts join with a blank line; raw
 * `reasoning_text` content is used when there is no summary. Undefined when the item carries neither
 * text nor encrypted content (an id alone cannot be replayed statelessly).
 */
export function decodeReasoningItem(item: Json): IRReasoning | undefined {
  const texts = (list: unknown, type: string): string[] =>
    Array.isArray(list) ? list.filter((s) => isObj(s) && s.type === type && typeof s.text === 'string').map((s) => (s as Json).text as string) : [];
  let text = texts(item.summary, 'summary_text').join('\n\n');
  if (!text) text = texts(item.content, 'reasoning_text').join('\n\n');
  const encrypted = str(item.encrypted_content) || undefined;
  if (!text && !encrypted) return undefined;
  const out: IRReasoning = { type: 'reasoning', text, origin: 'responses' };
  if (str(item.id)) out.id = item.id as string;
  if (encrypted) out.encrypted = encrypted;
  return out;
}

/** Responses `usage` → IR usage (Responses already counts cached in input and reasoning in output). */
export function decodeUsage(u: unknown): IRUsage | undefined {
  if (!isObj(u)) return undefined;
  return openaiStyleUsage(u.input_tokens, u.output_tokens, u.input_tokens_details, u.output_tokens_details);
}

/** IR usage → Responses `usage`. */
export function encodeUsage(u: IRUsage): Json {
  const inputDetails: Json = { cached_tokens: u.cachedTokens ?? 0 };
  if (u.cacheWriteTokens !== undefined) inputDetails.cache_write_tokens = u.cacheWriteTokens;
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: inputDetails,
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

/** `status` + `incomplete_details.reason` → IR finish reason (tool calls inferred per §4 #26). */
export function finishFromStatus(status: unknown, incomplete: unknown, hasToolCalls: boolean): FinishReason {
  if (status === 'incomplete') {
    const reason = isObj(incomplete) ? incomplete.reason : undefined;
    return reason === 'content_filter' ? 'content_filter' : 'length';
  }
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/** Responses error `code`/`type` → the HTTP status it stands for. */
export function statusForCode(code: string | undefined): number {
  if (!code) return 500;
  if (code === 'rate_limit_exceeded' || code === 'insufficient_quota' || code === 'rate_limit_error') return 429;
  if (code === 'server_is_overloaded' || code === 'slow_down') return 503;
  if (code === 'vector_store_timeout') return 504;
  if (code === 'invalid_api_key') return 401;
  if (code === 'model_not_found') return 404;
  if (/^(invalid_|image_|unsupported_|empty_image|failed_to_download|context_length|string_above|bio_policy|misalignment|data_residency)/.test(code)) return 400;
  return 500;
}

/** IR finish reason → the client-facing `status` and `incomplete_details`. */
export function statusForFinish(reason: FinishReason | undefined): { status: string; incomplete: Json | null } {
  if (reason === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (reason === 'content_filter') return { status: 'incomplete', incomplete: { reason: 'content_filter' } };
  if (reason === 'error') return { status: 'failed', incomplete: null };
  return { status: 'completed', incomplete: null };
}

/** A `resp_…` id for the client: upstream Responses ids are kept, others are prefixed (stable, §4 #42). */
export function responseId(id: string | undefined, fallback: () => string): string {
  if (!id) return fallback();
  return id.startsWith('resp_') ? id : `resp_${id.replace(/[^A-Za-z0-9]/g, '')}`;
}

/** An output item id derived from the response id, so ids stay stable across one answer. */
export function itemId(prefix: 'msg_' | 'fc_' | 'ctc_' | 'rs_', respId: string, outputIndex: number): string {
  return `${prefix}${respId.slice('resp_'.length)}_${outputIndex}`;
}

/** The `response` object of a body or stream event, with neutral defaults for request echo fields. */
export function responseEnvelope(r: {
  id: string;
  created: number;
  model: string;
  status: string;
  output: Json[];
  usage?: IRUsage;
  incomplete?: Json | null;
  error?: Json | null;
}): Json {
  return {
    id: r.id,
    object: 'response',
    created_at: r.created,
    status: r.status,
    background: false,
    error: r.error ?? null,
    incomplete_details: r.incomplete ?? null,
    instructions: null,
    max_output_tokens: null,
    model: r.model,
    output: r.output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    usage: r.usage ? encodeUsage(r.usage) : null,
    user: null,
    metadata: {},
  };
}
