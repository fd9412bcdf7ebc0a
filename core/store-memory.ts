/**
 * The embedded store backing: one process, in memory. Volatile keys live in an LRU; the
 * `durable()` part lives in a map that is never evicted and whose every write is journaled to a
 * local SQLite file before the call resolves (see `store-journal.ts`), so a restart — or a
 * `kill -9` — loses no acknowledged write. Every operation is synchronous inside, so atomic.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { openJournal, type Journal } from './store-journal.ts';
import { apply, live, sweepExpired, type Entry, type Mutation, type Space } from './store-memory-ops.ts';
import { withNamespace, type ReserveResult, type Store, type StoreBacking, type TtlOptions } from './store.ts';

export type { Mutation } from './store-memory-ops.ts';

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Maximum number of volatile keys kept (least recently used are evicted). @default 100_000 */
  maxKeys?: number;
  /** SQLite file the `durable()` part is journaled to; omitted keeps it in memory only. */
  path?: string;
  /**
   * Rewrite the snapshot and empty the journal after this many durable writes (expired durable
   * keys are dropped from memory at the same pace, with or without a file). @default 10_000
   */
  compactEvery?: number;
  /** Where persistence problems are reported. */
  logger?: Logger;
}

function backing(space: Space, write: (m: Mutation, now?: number) => unknown, close: () => Promise<void>): Omit<StoreBacking, 'durable' | 'status'> {
  const read = (key: string) => live(space, key, Date.now())?.v;
  const copy = (v: unknown) => (v === undefined ? undefined : structuredClone(v));
  const peekMany = ((keys: string[]) => keys.map((key) => copy(read(key)))) as NonNullable<Store['peekMany']>;
  return {
    async get<T>(key: string) {
      return copy(read(key)) as T | undefined;
    },
    getMany: (async (keys: string[]) => peekMany(keys)) as Store['getMany'],
    peekMany,
    async set(key, value, o?: TtlOptions) {
      write({ op: 'set', key, value: structuredClone(value), ttlMs: o?.ttlMs });
    },
    async delete(key) {
      write({ op: 'delete', key });
    },
    async incr(key, by = 1, o) {
      return write({ op: 'incr', key, by, ttlMs: o?.ttlMs }) as number;
    },
    async push(key, value, o) {
      write({ op: 'push', key, value: structuredClone(value), ttlMs: o?.ttlMs, max: o?.max });
    },
    async list<T>(key: string) {
      return structuredClone((read(key) as T[] | undefined) ?? []);
    },
    async hincr(key, fields, o) {
      write({ op: 'hincr', key, fields: { ...fields }, ttlMs: o?.ttlMs });
    },
    async hgetall(key) {
      return { ...((read(key) as Record<string, number> | undefined) ?? {}) };
    },
    async hdel(key, fields) {
      if (fields.length) write({ op: 'hdel', key, fields: [...fields] });
    },
    async reserve(id, specs, o) {
      return structuredClone(write({ op: 'reserve', id, specs }, o?.now) as ReserveResult);
    },
    async settle(id, adjustments) {
      write({ op: 'settle', id, adjustments });
    },
    async ping() {
      return true;
    },
    close,
  };
}

/**
 * The embedded store (one process). Values are structured-cloned on write so callers cannot
 * mutate stored state by reference; durable values must be JSON-serialisable.
 *
 * @example
 * ```ts
 * const store = memoryStore({ maxKeys: 10_000, path: '.data/switchyard.db' });
 * await store.durable().hincr('usage:day', { requests: 1 });
 * ```
 */
export function memoryStore(opts: MemoryStoreOptions = {}): Store {
  const cache = new LRUCache<string, Entry>({ max: opts.maxKeys ?? 100_000 });
  const volatile: Space = { get: (k) => cache.get(k), put: (k, e) => void cache.set(k, e), del: (k) => void cache.delete(k) };
  const map = new Map<string, Entry>();
  const durable: Space = { get: (k) => map.get(k), put: (k, e) => void map.set(k, e), del: (k) => void map.delete(k) };
  const journal: Journal | undefined = opts.path ? openJournal(opts.path, opts.logger) : undefined;
  if (journal) {
    const { snapshot, records } = journal.load();
    for (const [k, e] of snapshot) map.set(k, e as Entry);
    for (const r of records) apply(durable, r.now, r.m as Mutation);
  }
  const every = opts.compactEvery ?? 10_000;
  let pending = 0;
  const compact = () => {
    const now = Date.now();
    sweepExpired(map, now);
    journal?.compact([...map]);
    pending = 0;
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (journal) {
      compact();
      journal.close();
    }
    cache.clear();
  };
  // `reserve` passes its own clock through `write`'s second argument (tests use fake time).
  const volWrite = (m: Mutation, now = Date.now()) => apply(volatile, now, m);
  const durWrite = (m: Mutation, now = Date.now()) => {
    const r = apply(durable, now, m);
    if (m.op === 'reserve' && !(r as ReserveResult).ok) return r; // changed nothing
    journal?.append({ now, m });
    if (++pending >= every) compact();
    return r;
  };
  const status = { type: 'memory', reachable: true, persistent: journal !== undefined };
  const base: StoreBacking = { ...backing(volatile, volWrite, close), durable: backing(durable, durWrite, close), status: () => ({ ...status }) };
  return withNamespace(base, '');
}
