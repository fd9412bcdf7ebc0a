/**
 * Anthropic error bodies: `{"type":"error","error":{"type","message"}}` both ways (§1.3, §3.10).
 *
 * @module
 */
import type { SSEMessage } from '../../core/codec.ts';
import type { IRError } from '../../core/ir.ts';
import { isObj, str } from './blocks.ts';

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Anthropic error `type` → HTTP status (unknown types are a bad gateway). */
export function statusForType(type: string | undefined): number {
  return (type && STATUS_BY_TYPE[type]) || 502;
}

/** The status and `error.type` an Anthropic client sees; 503 becomes 529 `overloaded_error` (§4 #30). */
function clientStatus(status: number): { status: number; type: string } {
  if (status === 503) return { status: 529, type: 'overloaded_error' };
  const type = TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { status, type };
}

function errorBody(err: IRError): { status: number; body: Record<string, unknown> } {
  const { status, type } = clientStatus(err.status);
  return { status, body: { type: 'error', error: { type, message: err.message } } };
}

/** An IR error → Anthropic HTTP status and body. */
export function renderError(err: IRError): { status: number; body: Record<string, unknown> } {
  return errorBody(err);
}

/** An IR error → the Anthropic in-stream `event: error`. */
export function renderStreamError(err: IRError): SSEMessage[] {
  return [{ event: 'error', data: JSON.stringify(errorBody(err).body) }];
}

/** Upstream Anthropic error status + body (object, JSON text or garbage) → IR error. */
export function decodeError(status: number, body: unknown): IRError {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  // Proxies in front of Anthropic (e.g. a 413 from Cloudflare) may answer with a flat {message}.
  const e = isObj(parsed) ? (isObj(parsed.error) ? parsed.error : parsed) : undefined;
  const message = str(e?.message) || `upstream returned ${status}`;
  const code = str(e?.type);
  return code ? { status, message, code } : { status, message };
}
