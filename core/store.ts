/**
 * The gateway's key/value store: state that must outlive a reload (and, with a shared backing,
 * be the same across instances) — counters, limit reservations, sticky bindings, circuit state,
 * usage. Two backings implement one interface with the same behaviour: the embedded default
 * (`core/store-memory.ts`: in memory, its `durable()` part journaled to a local SQLite file) and
 * Redis (`core/store-redis.ts`: one Lua script per atomic operation).
 *
 * @module
 */
import { dirname, extname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from './errors.ts';

/** Options for writes that expire. */
export interface TtlOptions {
  /** Time to live in ms; omitted means no expiry (`push`/`hincr`/`incr` keep an existing one). */
  ttlMs?: number;
}

/**
 * How a limit counter resets: at an instant (`fixed`: fixed and cron windows — put the window
 * start in the key), continuously (`sliding`: each reservation stops counting `ms` after it was
 * made), or never (`total`: a budget).
 */
export type LimitWindow = { type: 'fixed'; resetAt: number } | { type: 'sliding'; ms: number } | { type: 'total' };

/** One counter a reservation draws on. */
export interface LimitSpec {
  key: string;
  /** Units taken: 1 request, N tokens, a cost. */
  amount: number;
  /** The reservation fails when `used + amount > limit`. */
  limit: number;
  window: LimitWindow;
}

/** What {@link Store.reserve} answers. */
export interface ReserveResult {
  /** True when every spec had room (all were taken); false when none was taken. */
  ok: boolean;
  /** Per spec, in order: the amount used after the call. */
  used: number[];
  /** Index of the first spec without room. */
  failed?: number;
  /** When rejected: ms until that spec could have room; absent when it never will (`total`). */
  retryAfterMs?: number;
}

/** A change to what a reservation holds on one counter (negative: refund). */
export interface Adjustment {
  key: string;
  window: LimitWindow;
  delta: number;
}

/**
 * What every store backing implements. All operations are atomic per call (a `reserve` over
 * several keys is all-or-nothing).
 *
 * @example
 * ```ts
 * const n = await runtime.store.incr(`rpm:${key}`, 1, { ttlMs: 60_000 });
 * ```
 */
export interface Store {
  get<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * Several keys in one round trip (Redis `MGET`), in order; absent keys are `undefined`.
   *
   * @example
   * ```ts
   * const [retry, open] = await store.getMany<[number, OpenRecord]>(['retry:a', 'open:a']);
   * ```
   */
  getMany<T extends unknown[] = unknown[]>(keys: string[]): Promise<{ [I in keyof T]: T[I] | undefined }>;
  /**
   * `getMany` answered at once, present only when the data is in this process (the embedded
   * store): a read on every request's path skips a promise. Absent with a remote backing.
   *
   * @example
   * ```ts
   * const [retry] = store.peekMany ? store.peekMany<[number]>(['retry:a']) : await store.getMany<[number]>(['retry:a']);
   * ```
   */
  peekMany?<T extends unknown[] = unknown[]>(keys: string[]): { [I in keyof T]: T[I] | undefined };
  set(key: string, value: unknown, opts?: TtlOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Adds `by` to a numeric counter (created at 0); the TTL is set when the key is created. */
  incr(key: string, by?: number, opts?: TtlOptions): Promise<number>;
  /** Appends to a list, keeping the newest `max` entries. */
  push(key: string, value: unknown, opts?: TtlOptions & { max?: number }): Promise<void>;
  /** The whole list, oldest first (empty when absent). */
  list<T = unknown>(key: string): Promise<T[]>;
  /** Adds to numeric fields of a hash (created empty); the TTL is set when the key is created. */
  hincr(key: string, fields: Record<string, number>, opts?: TtlOptions): Promise<void>;
  /** Every field of a numeric hash (empty when absent). */
  hgetall(key: string): Promise<Record<string, number>>;
  /**
   * Removes fields of a hash; removing its last field removes the key. Absent keys and fields
   * are a no-op. The key's TTL, if any, is kept.
   *
   * @example
   * ```ts
   * await store.hdel('hours', ['1735689600000']);
   * ```
   */
  hdel(key: string, fields: string[]): Promise<void>;
  /**
   * Takes `amount` from every spec's counter if all have room, else takes nothing. `id` names
   * the reservation so {@link Store.settle} can correct it once the real amount is known.
   */
  reserve(id: string, specs: LimitSpec[], opts?: { now?: number }): Promise<ReserveResult>;
  /** Corrects reservation `id` by `delta` per counter; counters whose window ended are left alone. */
  settle(id: string, adjustments: Adjustment[]): Promise<void>;
  /** A view whose keys are prefixed with `prefix:`. */
  namespace(prefix: string): Store;
  /**
   * The same keys, for data that must survive a restart (usage, budgets): the embedded store
   * journals its writes to a local file; Redis is durable as configured on the server. Use keys
   * disjoint from the volatile view's.
   */
  durable(): Store;
  /** Whether the backing answers now (a round trip; drives `/ready`). */
  ping(): Promise<boolean>;
  /** What the store last knew about itself, without a round trip (for `/health` and `/ready`). */
  status(): StoreStatus;
  close(): Promise<void>;
}

/** What {@link Store.status} reports. */
export interface StoreStatus {
  /** `memory`, `redis`, or `custom` for a backing that does not say. */
  type: string;
  /** False while the backing is known to be unreachable (Redis: since its last failed command or lost connection). */
  reachable: boolean;
  /** Redis: what the gateway does while it is unreachable. */
  failurePolicy?: FailurePolicy;
  /** Memory: whether durable data is journaled to a file (false when none is configured or the file is held by another process). */
  persistent?: boolean;
}

/** A backing: a store without the key-prefixing views (added by {@link withNamespace}). */
export type StoreBacking = Omit<Store, 'namespace' | 'durable' | 'status' | 'getMany' | 'hdel' | 'peekMany'> & {
  /** The same reads answered synchronously: only a backing whose data is in this process. */
  peekMany?: Store['peekMany'];
  /** One round trip for several keys; the view falls back to parallel `get`s without it. */
  getMany?: Store['getMany'];
  /** Removes hash fields; without it (a backing written before `hdel` existed) the view's `hdel` does nothing. */
  hdel?: Store['hdel'];
  /** The backing behind `durable()`; the backing itself when omitted. */
  durable?: Omit<StoreBacking, 'durable' | 'status'>;
  /** @default () => ({ type: 'custom', reachable: true }) */
  status?: () => StoreStatus;
};

/**
 * Adds `namespace()` and `durable()` to a backing by prefixing keys. Shared by every backing.
 *
 * @example
 * ```ts
 * const store = withNamespace(redisBacking, '');
 * ```
 */
export function withNamespace(base: StoreBacking, prefix: string): Store {
  const k = (key: string) => (prefix ? `${prefix}:${key}` : key);
  return {
    get: (key) => base.get(k(key)),
    getMany: ((keys: string[]) => {
      const full = prefix ? keys.map(k) : keys;
      return base.getMany ? base.getMany(full) : Promise.all(full.map((key) => base.get(key)));
    }) as Store['getMany'],
    ...(base.peekMany ? { peekMany: ((keys: string[]) => base.peekMany!(prefix ? keys.map(k) : keys)) as Store['peekMany'] } : {}),
    set: (key, v, o) => base.set(k(key), v, o),
    delete: (key) => base.delete(k(key)),
    incr: (key, by, o) => base.incr(k(key), by, o),
    push: (key, v, o) => base.push(k(key), v, o),
    list: (key) => base.list(k(key)),
    hincr: (key, f, o) => base.hincr(k(key), f, o),
    hgetall: (key) => base.hgetall(k(key)),
    hdel: (key, f) => (base.hdel ? base.hdel(k(key), f) : Promise.resolve()),
    reserve: (id, specs, o) => base.reserve(id, specs.map((s) => ({ ...s, key: k(s.key) })), o),
    settle: (id, adj) => base.settle(id, adj.map((a) => ({ ...a, key: k(a.key) }))),
    ping: () => base.ping(),
    status: () => base.status?.() ?? { type: 'custom', reachable: true },
    close: () => base.close(),
    namespace: (p) => withNamespace(base, k(p)),
    durable: () => withNamespace({ ...(base.durable ?? base), status: base.status }, prefix),
  };
}

/** What the gateway does when Redis cannot be reached. */
export type FailurePolicy = 'fail-open' | 'fail-closed';

/**
 * Which store backs the gateway.
 *
 * - `memory` (default): one process. `path` is the SQLite file the `durable()` part is journaled
 *   to (default `.data/switchyard.db` beside the config file; none for inline configs; `false`
 *   turns it off). Under `--workers` each worker journals to its own file, `switchyard.worker-<n>.db`.
 * - `redis`: shared by every instance pointing at the same `url`. `failurePolicy` says what
 *   happens while Redis is unreachable: `fail-open` (default) keeps serving from a process-local
 *   store (limits per instance, durable writes queued and written back when Redis returns);
 *   `fail-closed` answers 503 `store_unavailable` to requests that need the store.
 */
export type StoreConfig =
  | { type: 'memory'; maxKeys?: number; path?: string | false; compactEvery?: number }
  | {
      type: 'redis';
      url: string;
      /** Prefix for every key, so gateways can share a Redis with other apps. @default 'switchyard:' */
      prefix?: string;
      /** @default 'fail-open' */
      failurePolicy?: FailurePolicy;
      /** A command slower than this counts as Redis being unreachable. @default 1000 */
      commandTimeoutMs?: number;
      /** How long startup waits for the first connection. @default 3000 */
      connectTimeoutMs?: number;
      /** Durable writes kept for replay during an outage (fail-open). @default 10_000 */
      maxQueued?: number;
    };

/**
 * Creates the store a config asks for (the gateway calls this once at start; store changes need
 * a restart). Relative `path`s resolve against the config file's folder. A `--workers` worker
 * passes its `workerSlot`: a SQLite file can be held by one process only, so each worker
 * journals to `<name>.worker-<slot><ext>` — its durable data (usage, budgets) survives restarts,
 * and a replacement worker takes the slot, and the file, of the one it replaces.
 *
 * @example
 * ```ts
 * const store = await createStore({ type: 'redis', url: 'redis://127.0.0.1:6379' }, { logger, configPath });
 * ```
 */
export async function createStore(config: StoreConfig | undefined, opts: { logger: Logger; configPath?: string; workerSlot?: number }): Promise<Store> {
  const c = config ?? { type: 'memory' };
  const base = opts.configPath ? dirname(opts.configPath) : process.cwd();
  if (c.type === 'memory') {
    const file = c.path === false ? undefined : c.path ? resolve(base, c.path) : opts.configPath ? join(base, '.data', 'switchyard.db') : undefined;
    const ext = file ? extname(file) : '';
    const path = file && opts.workerSlot !== undefined ? `${file.slice(0, file.length - ext.length)}.worker-${opts.workerSlot}${ext}` : file;
    const { memoryStore } = await import('./store-memory.ts');
    return memoryStore({ maxKeys: c.maxKeys, path, compactEvery: c.compactEvery, logger: opts.logger });
  }
  if (c.type === 'redis') {
    if (typeof c.url !== 'string' || !c.url) throw new ConfigError('store.url: required for a redis store (e.g. env.REDIS_URL)');
    if (c.failurePolicy && c.failurePolicy !== 'fail-open' && c.failurePolicy !== 'fail-closed') {
      throw new ConfigError(`store.failurePolicy: must be "fail-open" or "fail-closed" (got ${JSON.stringify(c.failurePolicy)})`);
    }
    const { redisStore } = await import('./store-redis.ts');
    return redisStore({ ...c, logger: opts.logger });
  }
  throw new ConfigError(`store.type: must be "memory" or "redis" (got ${JSON.stringify((c as { type?: unknown }).type)})`);
}
