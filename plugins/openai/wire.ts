/**
 * Narrowing helpers for untyped OpenAI Chat JSON (client bodies and upstream answers).
 *
 * @module
 */
import { num, optNumber } from '../shared/codec-util.ts';

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

export { optNumber };

