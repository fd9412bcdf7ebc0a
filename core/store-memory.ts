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
import { withNamespace, type Adjustment, type LimitSpec, type ReserveResult, type Store, type StoreBacking, type TtlOptions } from './store.ts';

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Maximum number of volatile keys kept (least recently used are evicted). @default 100_000 */
  maxKeys?: number;
  /** SQLite file the `durable()` part is journaled to; omitted keeps it in memory only. */
  path?: string;
  /** Rewrite the snapshot and empty the journal after this many journaled writes. @default 10_000 */
  compactEvery?: number;
  /** Where persistence problems are reported. */
  logger?: Logger;
}

interface Entry {
  v: unknown;
  /** Expiry, epoch ms. */
  exp?: number;
}

interface Space {
  get(key: string): Entry | undefined;
  put(key: string, e: Entry): void;
  del(key: string): void;
}

/** A sliding-window counter: total and reservations by id (`[ts, amount]`). */
interface Sliding {
  t: number;
  e: Record<string, [number, number]>;
}

/** A write, as applied and as journaled (with the time it ran, so replay is exact). */
export type Mutation =
  | { op: 'set'; key: string; value: unknown; ttlMs?: number }
  | { op: 'delete'; key: string }
  | { op: 'incr'; key: string; by: number; ttlMs?: number }
  | { op: 'push'; key: string; value: unknown; ttlMs?: number; max?: number }
  | { op: 'hincr'; key: string; fields: Record<string, number>; ttlMs?: number }
  | { op: 'reserve'; id: string; specs: LimitSpec[] }
  | { op: 'settle'; id: string; adjustments: Adjustment[] };

function live(s: Space, key: string, now: number): Entry | undefined {
  const e = s.get(key);
  if (e && e.exp !== undefined && e.exp <= now) {
    s.del(key);
    return undefined;
  }
  return e;
}

const expiry = (now: number, ttlMs?: number, keep?: Entry) => (ttlMs && ttlMs > 0 ? now + ttlMs : keep?.exp);

function slidingOf(s: Space, key: string, now: number, ms: number): Sliding {
  const e = live(s, key, now);
  const w = (e?.v as Sliding | undefined) ?? { t: 0, e: {} };
  for (const [id, [ts, amt]] of Object.entries(w.e)) {
    if (ts <= now - ms) {
      w.t -= amt;
      delete w.e[id];
    }
  }
  return w;
}

function retryAfter(spec: LimitSpec, used: number, w: Sliding | undefined, now: number): number | undefined {
  if (spec.window.type === 'total') return undefined;
  if (spec.window.type === 'fixed') return Math.max(0, spec.window.resetAt - now);
  const ms = spec.window.ms;
  if (spec.amount > spec.limit || !w) return ms;
  const need = used + spec.amount - spec.limit;
  // Oldest first, ties by id: the order Redis keeps a sorted set in.
  const entries = Object.entries(w.e).sort((a, b) => a[1][0] - b[1][0] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let freed = 0;
  for (const [, [ts, amt]] of entries) {
    freed += amt;
    if (freed >= need) return Math.max(0, ts + ms - now);
  }
  return ms;
}

function reserve(s: Space, now: number, id: string, specs: LimitSpec[]): ReserveResult {
  const used: number[] = [];
  const windows: Array<Sliding | undefined> = [];
  let failed: number | undefined;
  let retry: number | undefined;
  specs.forEach((spec, i) => {
    const w = spec.window.type === 'sliding' ? slidingOf(s, spec.key, now, spec.window.ms) : undefined;
    const u = w ? w.t : Number(live(s, spec.key, now)?.v ?? 0);
    used.push(u);
    windows.push(w);
    if (failed === undefined && u + spec.amount > spec.limit) {
      failed = i;
      retry = retryAfter(spec, u, w, now);
    }
  });
  if (failed !== undefined) return retry === undefined ? { ok: false, used, failed } : { ok: false, used, failed, retryAfterMs: retry };
  specs.forEach((spec, i) => {
    const win = spec.window;
    if (win.type === 'sliding') {
      const w = windows[i]!;
      const prev = w.e[id];
      w.e[id] = [now, (prev?.[1] ?? 0) + spec.amount];
      w.t += spec.amount;
      s.put(spec.key, { v: w, exp: now + win.ms });
    } else {
      const e = live(s, spec.key, now);
      s.put(spec.key, { v: Number(e?.v ?? 0) + spec.amount, exp: win.type === 'fixed' ? win.resetAt : e?.exp });
    }
    used[i]! += spec.amount;
  });
  return { ok: true, used };
}

function settle(s: Space, now: number, id: string, adjustments: Adjustment[]): void {
  for (const a of adjustments) {
    const e = live(s, a.key, now);
    if (!e) continue;
    if (a.window.type === 'sliding') {
      const w = e.v as Sliding;
      const r = w.e[id];
      if (!r) continue;
      r[1] += a.delta;
      w.t += a.delta;
    } else {
      e.v = Number(e.v) + a.delta;
    }
  }
}

/** Applies one write to a space; returns what the operation returns. */
function apply(s: Space, now: number, m: Mutation): unknown {
  switch (m.op) {
    case 'set':
      return s.put(m.key, { v: m.value, exp: expiry(now, m.ttlMs) });
    case 'delete':
      return s.del(m.key);
    case 'incr': {
      const e = live(s, m.key, now);
      const v = Number(e?.v ?? 0) + m.by;
      s.put(m.key, { v, exp: e ? e.exp : expiry(now, m.ttlMs) });
      return v;
    }
    case 'push': {
      const e = live(s, m.key, now);
      const list = e ? (e.v as unknown[]) : [];
      list.push(m.value);
      if (m.max && list.length > m.max) list.splice(0, list.length - m.max);
      return s.put(m.key, { v: list, exp: expiry(now, m.ttlMs, e) });
    }
    case 'hincr': {
      const e = live(s, m.key, now);
      const h = (e?.v as Record<string, number> | undefined) ?? {};
      for (const [f, by] of Object.entries(m.fields)) h[f] = (h[f] ?? 0) + by;
      return s.put(m.key, { v: h, exp: e ? e.exp : expiry(now, m.ttlMs) });
    }
    case 'reserve':
      return reserve(s, now, m.id, m.specs);
    case 'settle':
      return settle(s, now, m.id, m.adjustments);
  }
}

function backing(space: Space, write: (m: Mutation, now?: number) => unknown, close: () => Promise<void>): Omit<Store, 'namespace' | 'durable'> {
  const read = (key: string) => live(space, key, Date.now())?.v;
  return {
    async get<T>(key: string) {
      const v = read(key);
      return v === undefined ? undefined : (structuredClone(v) as T);
    },
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
    journal?.compact([...map].filter(([, e]) => e.exp === undefined || e.exp > now));
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
    if (journal && !(m.op === 'reserve' && !(r as ReserveResult).ok)) {
      journal.append({ now, m });
      if (++pending >= every) compact();
    }
    return r;
  };
  const base: StoreBacking = { ...backing(volatile, volWrite, close), durable: backing(durable, durWrite, close) };
  return withNamespace(base, '');
}
