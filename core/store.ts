/**
 * The gateway's key/value store: state that must outlive a reload (and, with a shared backing,
 * be the same across instances) — counters, sticky bindings, circuit state, session context.
 * The embedded default lives in memory; a Redis backing implements the same interface.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';

/** Options for writes that expire. */
export interface TtlOptions {
  /** Time to live in ms; omitted means no expiry. */
  ttlMs?: number;
}

/**
 * What every store backing implements. All operations are atomic per key.
 *
 * @example
 * ```ts
 * const n = await runtime.store.incr(`rpm:${key}`, 1, { ttlMs: 60_000 });
 * ```
 */
export interface Store {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, opts?: TtlOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Adds `by` to a numeric counter (created at 0); the TTL is set when the key is created. */
  incr(key: string, by?: number, opts?: TtlOptions): Promise<number>;
  /** Appends to a list, keeping the newest `max` entries. */
  push(key: string, value: unknown, opts?: TtlOptions & { max?: number }): Promise<void>;
  /** The whole list, oldest first (empty when absent). */
  list<T = unknown>(key: string): Promise<T[]>;
  /** A view whose keys are prefixed with `prefix:`. */
  namespace(prefix: string): Store;
  /** Whether the backing is reachable (drives `/ready`). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Maximum number of keys kept (least recently used are evicted). @default 100_000 */
  maxKeys?: number;
}

/**
 * The embedded in-memory store (one process). Values are structured-cloned on write so callers
 * cannot mutate stored state by reference.
 *
 * @example
 * ```ts
 * const store = memoryStore({ maxKeys: 10_000 });
 * ```
 */
export function memoryStore(opts: MemoryStoreOptions = {}): Store {
  const cache = new LRUCache<string, { v: unknown }>({ max: opts.maxKeys ?? 100_000, ttlAutopurge: false });
  const ttl = (o?: TtlOptions) => (o?.ttlMs && o.ttlMs > 0 ? { ttl: o.ttlMs } : {});
  const base: Omit<Store, 'namespace'> = {
    async get<T>(key: string) {
      const e = cache.get(key);
      return e === undefined ? undefined : (structuredClone(e.v) as T);
    },
    async set(key, value, o) {
      cache.set(key, { v: structuredClone(value) }, ttl(o));
    },
    async delete(key) {
      cache.delete(key);
    },
    async incr(key, by = 1, o) {
      const e = cache.get(key);
      if (e === undefined) {
        cache.set(key, { v: by }, ttl(o));
        return by;
      }
      e.v = (e.v as number) + by; // mutate in place: keeps the original TTL
      return e.v as number;
    },
    async push(key, value, o) {
      const e = cache.get(key);
      const list = e ? (e.v as unknown[]) : [];
      list.push(structuredClone(value));
      if (o?.max && list.length > o.max) list.splice(0, list.length - o.max);
      cache.set(key, { v: list }, ttl(o));
    },
    async list<T>(key: string) {
      const e = cache.get(key);
      return e ? (structuredClone(e.v) as T[]) : [];
    },
    async ping() {
      return true;
    },
    async close() {
      cache.clear();
    },
  };
  return withNamespace(base, '');
}

/**
 * Adds `namespace()` to a backing by prefixing keys. Shared by every backing.
 *
 * @example
 * ```ts
 * const store = withNamespace(redisBacking, '');
 * ```
 */
export function withNamespace(base: Omit<Store, 'namespace'>, prefix: string): Store {
  const k = (key: string) => (prefix ? `${prefix}:${key}` : key);
  return {
    get: (key) => base.get(k(key)),
    set: (key, v, o) => base.set(k(key), v, o),
    delete: (key) => base.delete(k(key)),
    incr: (key, by, o) => base.incr(k(key), by, o),
    push: (key, v, o) => base.push(k(key), v, o),
    list: (key) => base.list(k(key)),
    ping: () => base.ping(),
    close: () => base.close(),
    namespace: (p) => withNamespace(base, k(p)),
  };
}

/** Which store backs the gateway. `memory` is the embedded default (one process). */
export type StoreConfig = { type: 'memory'; maxKeys?: number };
