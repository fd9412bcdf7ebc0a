/**
 * OpenAI-style errors: IR error → `{error:{message,type,param,code}}` for clients, and upstream
 * error bodies (HTTP or in-stream) → IR errors.
 *
 * @module
 */
import type { SSEMessage } from '../../core/codec.ts';
import type { IRError } from '../../core/ir.ts';
import { isObj, type Json, num, str } from './wire.ts';

/** Client-facing status: OpenAI clients know neither 529 (→ 503, retried) nor 402 (→ 429 quota). */
function clientStatus(status: number): number {
  if (status === 529) return 503;
  if (status === 402) return 429;
  return status >= 400 && status <= 599 ? status : 500;
}

/** `type` / `code` per WIRE-FORMATS §3.10. */
function typeAndCode(status: number, code: string | undefined): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 429) {
    const quota = code === 'insufficient_quota' || code === 'billing_error';
    const c = quota ? 'insufficient_quota' : 'rate_limit_exceeded';
    return { type: c, code: c };
  }
  if (status >= 500) return { type: 'server_error', code: code ?? null };
  return { type: 'invalid_request_error', code: code ?? null };
}

function body(err: IRError, status: number): Json {
  const { type, code } = typeAndCode(status, err.status === 402 ? 'insufficient_quota' : err.code);
  return { error: { message: err.message, type, param: err.param ?? null, code } };
}

/** Renders an error as an OpenAI HTTP error response. */
export function renderError(err: IRError): { status: number; body: Json } {
  const status = clientStatus(err.status);
  return { status, body: body(err, status) };
}

/** Renders a mid-stream error as one `data: {"error":...}` chunk; the stream then closes without `[DONE]`. */
export function renderStreamError(err: IRError): SSEMessage[] {
  return [{ data: JSON.stringify(body(err, clientStatus(err.status))) }];
}

/** Best-guess HTTP status of an error object that arrived without one (in-stream or in a 200 body). */
export function statusOfError(e: Json): number {
  const numeric = num(e.status) ?? num(e.code) ?? (typeof e.code === 'string' ? Number(e.code) : NaN);
  if (numeric >= 400 && numeric <= 599) return numeric;
  const tag = `${str(e.type) ?? ''} ${str(e.code) ?? ''}`.toLowerCase();
  if (tag.includes('overloaded')) return 529;
  if (tag.includes('rate_limit') || tag.includes('insufficient_quota')) return 429;
  if (tag.includes('invalid_api_key') || tag.includes('authentication')) return 401;
  if (tag.includes('not_found')) return 404;
  if (tag.includes('invalid_request') || tag.includes('context_length')) return 400;
  if (tag.includes('timeout')) return 504;
  if (tag.includes('server_error')) return 500;
  return 502;
}

/** Reads an upstream error object into message and code (code falls back to `type`). */
export function errorFields(e: Json): { message?: string; code?: string } {
  return { message: str(e.message), code: str(e.code) ?? str(e.type) };
}

/** Decodes an upstream error response; tolerates non-JSON bodies and non-OpenAI shapes. */
export function decodeError(status: number, raw: unknown): IRError {
  let b = raw;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      // not JSON: fall through to the generic message
    }
  }
  if (Array.isArray(b)) b = b[0];
  const out: IRError = { status, message: `upstream returned ${status}` };
  if (!isObj(b)) return out;
  const e = b.error;
  const { message, code } = isObj(e) ? errorFields(e) : { message: str(e) ?? str(b.message) ?? str(b.detail), code: undefined };
  if (message) out.message = message;
  if (code) out.code = code;
  return out;
}
