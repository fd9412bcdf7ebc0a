/**
 * Google RPC-style errors (`{error:{code,message,status}}`) ↔ IR errors (WIRE-FORMATS §3.10).
 *
 * @module
 */
import type { SSEMessage } from '../../core/codec.ts';
import type { IRError } from '../../core/ir.ts';
import { isObj, type Json, num, str } from './content.ts';

const RPC_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'NOT_IMPLEMENTED', 502: 'UNAVAILABLE',
  503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

const HTTP_BY_RPC: Record<string, number> = {
  INVALID_ARGUMENT: 400, FAILED_PRECONDITION: 400, OUT_OF_RANGE: 400, UNAUTHENTICATED: 401, PERMISSION_DENIED: 403,
  NOT_FOUND: 404, ABORTED: 409, ALREADY_EXISTS: 409, RESOURCE_EXHAUSTED: 429, CANCELLED: 499, INTERNAL: 500,
  UNKNOWN: 500, DATA_LOSS: 500, NOT_IMPLEMENTED: 501, UNIMPLEMENTED: 501, UNAVAILABLE: 503, DEADLINE_EXCEEDED: 504,
};

/**
 * Maps a gateway status onto one a Gemini client knows: 529 → 503 (retried by the SDK),
 * 413/422 → 400, 402 (billing) → 429, 408 → 504.
 */
function clientStatus(status: number): number {
  const remap: Record<number, number> = { 529: 503, 413: 400, 422: 400, 402: 429, 408: 504 };
  const s = remap[status] ?? status;
  return s >= 400 && s <= 599 ? s : 500;
}

/** Renders an error as a Gemini client expects it. */
export function renderError(err: IRError): { status: number; body: Json } {
  const status = clientStatus(err.status);
  const rpc = RPC_BY_HTTP[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  return { status, body: { error: { code: status, message: err.message, status: rpc } } };
}

/** An error after the stream started: one more `data:` chunk holding the error object, then close. */
export function renderStreamError(err: IRError): SSEMessage[] {
  return [{ data: JSON.stringify(renderError(err).body) }];
}

/** Decodes an upstream Gemini error body; tolerates arrays (non-SSE streams), text and garbage. */
export function decodeError(status: number, body: unknown): IRError {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      b = undefined;
    }
  }
  if (Array.isArray(b)) b = b[0];
  const e = isObj(b) && isObj(b.error) ? b.error : undefined;
  return fromGoogleError(e ?? {}, status);
}

/** A Google `error` object → IR error. `httpStatus` wins over `error.code` when given (HTTP bodies). */
export function fromGoogleError(e: Json, httpStatus?: number): IRError {
  const rpc = str(e.status);
  const reason = Array.isArray(e.details)
    ? e.details.map((d) => (isObj(d) ? str(d.reason) : undefined)).find((r) => r !== undefined)
    : undefined;
  let status = httpStatus ?? num(e.code) ?? (rpc ? HTTP_BY_RPC[rpc] : undefined) ?? 500;
  if (status < 400 || status > 599) status = (rpc ? HTTP_BY_RPC[rpc] : undefined) ?? 500;
  const message = str(e.message) || `upstream returned ${httpStatus ?? status}`;
  if (reason === 'API_KEY_INVALID') return { status: 401, message, code: 'invalid_api_key' };
  const code = rpc === 'RESOURCE_EXHAUSTED' ? 'rate_limit_exceeded' : rpc?.toLowerCase();
  return { status, message, ...(code ? { code } : {}) };
}
