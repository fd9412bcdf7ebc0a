/**
 * Tiny JSON narrowing helpers and the `cache_control` mapping used across the Anthropic codec.
 *
 * @module
 */
import type { CacheControl } from '../../core/ir.ts';
import { num } from '../shared/codec-util.ts';

/** A JSON object on the wire. */
export type Json = Record<string, unknown>;

/** True for a plain (non-array) object. */
export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value when it is a string. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export { num };

/** Wire `cache_control` → IR (only `ephemeral` exists; unknown TTLs fall back to the default). */
export function decodeCacheControl(v: unknown): CacheControl | undefined {
  if (!isObj(v) || v.type !== 'ephemeral') return undefined;
  return v.ttl === '5m' || v.ttl === '1h' ? { type: 'ephemeral', ttl: v.ttl } : { type: 'ephemeral' };
}

/** Adds `cache_control` to a wire block when the IR part carries one. */
export function withCache(block: Json, cc: CacheControl | undefined): Json {
  if (cc) block.cache_control = cc.ttl ? { type: 'ephemeral', ttl: cc.ttl } : { type: 'ephemeral' };
  return block;
}
