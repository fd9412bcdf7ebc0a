/**
 * Errors in the Responses format: HTTP error bodies (same shape as Chat Completions), the in-stream
 * `error` + `response.failed` pair, and decoding upstream error bodies.
 *
 * @module
 */
import type { SSEMessage } from '../../core/codec.ts';
import type { IRError } from '../../core/ir.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { isObj, responseEnvelope, statusForCode, str, type Json } from './wire.ts';

/** OpenAI `error.type` for a status (§3.10). */
function typeFor(status: number, code: string | undefined): string {
  if (code === 'insufficient_quota') return 'insufficient_quota';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * The OpenAI-style `code` for an error: rate limits and overloads use OpenAI's own codes (clients
 * such as Codex key retries on them); other codes pass through.
 */
export function openaiCode(err: IRError): string | undefined {
  if (err.status === 402 || err.code === 'insufficient_quota') return 'insufficient_quota';
  if (err.status === 429) return 'rate_limit_exceeded';
  if (err.status === 529 || err.code === 'overloaded_error') return 'server_is_overloaded';
  if (err.status === 401 && !err.code) return 'invalid_api_key';
  return err.code;
}

/**
 * An error → Responses HTTP status and body. OpenAI clients know no 529 (→ 503, which their SDK
 * retries) and no 402 (→ 429 `insufficient_quota`).
 */
export function renderError(err: IRError): { status: number; body: Record<string, unknown> } {
  const status = err.status === 529 ? 503 : err.status === 402 ? 429 : err.status;
  const code = openaiCode(err);
  return { status, body: { error: { message: err.message, type: typeFor(status, code), param: null, code: code ?? null } } };
}

/** The `code` shown in a stream `error` event and in `response.error` (never empty). */
export function streamErrorCode(err: IRError): string {
  return openaiCode(err) ?? 'server_error';
}

/**
 * The in-stream error pair for an error after the first byte: `error`, then `response.failed`.
 * Used without encoder state (e.g. after relaying an upstream stream as is): the numbering goes on
 * from `after`'s `sequence_number` (0 when there is none), and the response id is the one `after`
 * carried, else minted.
 */
export function renderStreamError(err: IRError, after?: SSEMessage): SSEMessage[] {
  const code = streamErrorCode(err);
  const prev = lastEvent(after);
  const seq = typeof prev.sequence_number === 'number' ? prev.sequence_number + 1 : 0;
  const prevResponse = isObj(prev.response) ? prev.response : {};
  const response = responseEnvelope({
    id: str(prevResponse.id) || newId('resp_'),
    created: typeof prevResponse.created_at === 'number' ? prevResponse.created_at : nowSeconds(),
    model: str(prevResponse.model) ?? '',
    status: 'failed',
    output: [],
    error: { code, message: err.message },
  });
  return [
    { event: 'error', data: JSON.stringify({ type: 'error', sequence_number: seq, code, message: err.message, param: null }) },
    { event: 'response.failed', data: JSON.stringify({ type: 'response.failed', sequence_number: seq + 1, response }) },
  ];
}

function lastEvent(m: SSEMessage | undefined): Json {
  if (!m) return {};
  try {
    const d: unknown = JSON.parse(m.data);
    return isObj(d) ? d : {};
  } catch {
    return {};
  }
}

/** Upstream error status + body → IR error; tolerates non-JSON and unexpected bodies. */
export function decodeError(status: number, body: unknown): IRError {
  let parsed: unknown = body;
  const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : body;
  if (typeof text === 'string') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  const fallback: IRError = { status, message: `upstream returned ${status}` };
  if (!isObj(parsed)) return fallback;
  const e: unknown = parsed.error;
  if (typeof e === 'string' && e) return { status, message: e };
  if (!isObj(e)) return str(parsed.message) ? { status, message: parsed.message as string } : fallback;
  const out: IRError = { status, message: str(e.message) || fallback.message };
  const code = str(e.code) || str(e.type);
  if (code) out.code = code;
  return out;
}

/** An IR error from a stream `error` event (flat SDK shape or nested `error` object) or `response.error`. */
export function errorFromPayload(d: Json, nested: boolean): IRError {
  const e = nested && isObj(d.error) ? d.error : d;
  const code = str(e.code) || (e !== d ? str(e.type) : undefined) || undefined;
  const numeric = typeof e.code === 'number' && e.code >= 400 && e.code < 600 ? e.code : undefined;
  const out: IRError = { status: numeric ?? statusForCode(code), message: str(e.message) || 'upstream stream error' };
  if (code) out.code = code;
  return out;
}
