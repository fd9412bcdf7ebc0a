/**
 * Narrowing helpers for untyped OpenAI Chat JSON (client bodies and upstream answers).
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import { num } from '../shared/codec-util.ts';

/** A JSON object of unknown shape. */
export type Json = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value when it is a non-empty string. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export { num };

/** An optional numeric field of a client body: absent/null → undefined, wrong type → 400. */
export function optNumber(body: Json, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const n = num(v);
  if (n === undefined) throw invalidRequest(`"${key}" must be a number`, key);
  return n;
}
