/**
 * The embedded store's operations on one key space, as pure synchronous functions: every write
 * (`set`, `incr`, `reserve` ...) is a {@link Mutation} applied by {@link apply}, so the same code
 * serves live calls and journal replay (`store-memory.ts` wires them to an LRU and to the
 * journaled durable map). Expiry is lazy on access, plus {@link sweepExpired} for keys nobody reads
 * again (fixed-window counters carry their window in the key).
 *
 * @module
 */
import type { Adjustment, LimitSpec, ReserveResult } from './store.ts';

/** A stored value and its expiry. */
export interface Entry {
  v: unknown;
  /** Expiry, epoch ms. */
  exp?: number;
}

/** A key space: the volatile LRU or the durable map. */
export interface Space {
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
  | { op: 'hdel'; key: string; fields: string[] }
  | { op: 'reserve'; id: string; specs: LimitSpec[] }
  | { op: 'settle'; id: string; adjustments: Adjustment[] };

/**
 * The live entry at `key` (an expired one is deleted on the way).
 *
 * @example
 * ```ts
 * const v = live(space, 'k', Date.now())?.v;
 * ```
 */
export function live(s: Space, key: string, now: number): Entry | undefined {
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

/**
 * Applies one write to a space; returns what the operation returns.
 *
 * @example
 * ```ts
 * const n = apply(space, Date.now(), { op: 'incr', key: 'k', by: 1 }) as number;
 * ```
 */
export function apply(s: Space, now: number, m: Mutation): unknown {
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
    case 'hdel': {
      const e = live(s, m.key, now);
      if (!e) return;
      const h = e.v as Record<string, number>;
      for (const f of m.fields) delete h[f];
      return Object.keys(h).length ? s.put(m.key, e) : s.del(m.key);
    }
    case 'reserve':
      return reserve(s, now, m.id, m.specs);
    case 'settle':
      return settle(s, now, m.id, m.adjustments);
  }
}

/**
 * Deletes every expired entry of `map`. Lazy expiry never reaches keys nobody reads again — each
 * fixed window's counter has its own key — so without this the durable map would grow forever.
 *
 * @example
 * ```ts
 * sweepExpired(map, Date.now());
 * ```
 */
export function sweepExpired(map: Map<string, Entry>, now: number): void {
  for (const [k, e] of map) if (e.exp !== undefined && e.exp <= now) map.delete(k);
}
