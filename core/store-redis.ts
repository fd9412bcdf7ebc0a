/**
 * The Redis store backing (ioredis): every gateway pointing at the same Redis shares counters,
 * reservations, bindings and usage. Multi-step operations are Lua scripts, so they are atomic
 * across instances. Reservation clocks are the callers' (`Date.now()`): keep instances in NTP sync.
 *
 * While Redis is unreachable the configured policy applies (see {@link StoreConfig}):
 * `fail-open` serves from a process-local memory store (limits per instance; durable writes —
 * usage, and the reservations and settlements of budgets and long windows — are queued, up to
 * `maxQueued`, and written to Redis in order when it returns), `fail-closed` throws a 503
 * `store_unavailable`. A reservation is settled where it was taken. Replay is at-least-once: a
 * write that timed out may also have reached Redis and then counts twice. Both policies log
 * once per outage and once on recovery; `status()` and `ping()` report the state.
 *
 * @module
 */
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { GatewayError } from './errors.ts';
import { memoryStore } from './store-memory.ts';
import { HINCR, INCR, RESERVE, SETTLE } from './store-redis-lua.ts';
import { withNamespace, type LimitWindow, type Store, type StoreBacking, type StoreConfig } from './store.ts';

/** Options for {@link redisStore}. */
export type RedisStoreOptions = Omit<Extract<StoreConfig, { type: 'redis' }>, 'type'> & { logger: Logger };

type Base = Omit<Store, 'namespace' | 'durable' | 'status'>;

type Script = (...args: Array<string | number>) => Promise<unknown>;
interface Scripts {
  syIncr: Script;
  syHincr: Script;
  syReserve: Script;
  sySettle: Script;
}

const mode = (w: LimitWindow) => (w.type === 'fixed' ? 'f' : w.type === 'sliding' ? 's' : 't');
const param = (w: LimitWindow) => (w.type === 'fixed' ? w.resetAt : w.type === 'sliding' ? w.ms : 0);

function remoteBacking(client: Redis, prefix: string): Base {
  const s = client as unknown as Scripts;
  const k = (key: string) => prefix + key;
  return {
    async get<T>(key: string) {
      const v = await client.get(k(key));
      return v === null ? undefined : (JSON.parse(v) as T);
    },
    getMany: (async (keys: string[]) =>
      keys.length ? (await client.mget(keys.map(k))).map((v) => (v === null ? undefined : JSON.parse(v))) : []) as Store['getMany'],
    async set(key, value, o) {
      if (o?.ttlMs && o.ttlMs > 0) await client.set(k(key), JSON.stringify(value), 'PX', o.ttlMs);
      else await client.set(k(key), JSON.stringify(value));
    },
    async delete(key) {
      await client.del(k(key), `${k(key)}:ts`);
    },
    async incr(key, by = 1, o) {
      return Number(await s.syIncr(k(key), by, o?.ttlMs ?? 0));
    },
    async push(key, value, o) {
      const m = client.multi().rpush(k(key), JSON.stringify(value));
      if (o?.max) m.ltrim(k(key), -o.max, -1);
      if (o?.ttlMs && o.ttlMs > 0) m.pexpire(k(key), o.ttlMs);
      const res = await m.exec();
      const failed = res?.find(([err]) => err);
      if (!res || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
    },
    async list<T>(key: string) {
      return (await client.lrange(k(key), 0, -1)).map((v) => JSON.parse(v) as T);
    },
    async hincr(key, fields, o) {
      const flat = Object.entries(fields).flatMap(([f, by]) => [f, by]);
      if (flat.length) await s.syHincr(k(key), o?.ttlMs ?? 0, ...flat);
    },
    async hgetall(key) {
      const h = await client.hgetall(k(key));
      return Object.fromEntries(Object.entries(h).map(([f, v]) => [f, Number(v)]));
    },
    async hdel(key, fields) {
      // HDEL is atomic and removes the key with its last field, as the memory store does.
      if (fields.length) await client.hdel(k(key), ...fields);
    },
    async reserve(id, specs, o) {
      if (!specs.length) return { ok: true, used: [] };
      const args = specs.flatMap((sp) => [sp.amount, sp.limit, mode(sp.window), param(sp.window)]);
      const r = (await s.syReserve(specs.length, ...specs.map((sp) => k(sp.key)), id, o?.now ?? Date.now(), ...args)) as Array<string | number>;
      const used = r.slice(3).map(Number);
      if (Number(r[0]) === 1) return { ok: true, used };
      const retry = Number(r[2]);
      return { ok: false, used, failed: Number(r[1]) - 1, ...(retry >= 0 ? { retryAfterMs: retry } : {}) };
    },
    async settle(id, adjustments) {
      if (!adjustments.length) return;
      const args = adjustments.flatMap((a) => [mode(a.window), a.delta]);
      await s.sySettle(adjustments.length, ...adjustments.map((a) => k(a.key)), id, ...args);
    },
    async ping() {
      return client.status === 'ready' && (await client.ping().then((r) => r === 'PONG', () => false));
    },
    async close() {},
  };
}

/** Errors that mean "Redis is not there" rather than "this command is wrong". */
function isOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  if (e?.name !== 'ReplyError') return true;
  return /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN)\b/.test(e.message ?? '');
}

/**
 * Connects to Redis (waiting up to `connectTimeoutMs`; the gateway starts either way) and returns
 * the store with the failure policy applied.
 *
 * @example
 * ```ts
 * const store = await redisStore({ url: 'redis://127.0.0.1:6379', failurePolicy: 'fail-closed', logger });
 * ```
 */
export async function redisStore(opts: RedisStoreOptions): Promise<Store> {
  const log = opts.logger.child({ store: 'redis' });
  const policy = opts.failurePolicy ?? 'fail-open';
  const client = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    connectTimeout: opts.connectTimeoutMs ?? 3000,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  client.defineCommand('syIncr', { lua: INCR, numberOfKeys: 1 });
  client.defineCommand('syHincr', { lua: HINCR, numberOfKeys: 1 });
  client.defineCommand('syReserve', { lua: RESERVE });
  client.defineCommand('sySettle', { lua: SETTLE });
  const where = opts.url.replace(/\/\/[^@/]*@/, '//***@');
  let down = false;
  let closing = false;
  const queue: Array<() => Promise<unknown>> = [];
  const maxQueued = opts.maxQueued ?? 10_000;
  let dropped = 0;
  let draining = false;
  const enqueue = (replay: () => Promise<unknown>) => {
    if (queue.length < maxQueued) queue.push(replay);
    else dropped++;
  };
  const outage = (err?: unknown) => {
    if (down || closing) return;
    down = true;
    log.error({ url: where, policy, err: err ? String(err) : undefined }, `shared store unreachable; ${policy === 'fail-open' ? 'serving from a local store until it returns' : 'requests needing it get 503'}`);
  };
  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while (queue.length && client.status === 'ready') {
        try {
          await queue[0]!();
          queue.shift();
        } catch (err) {
          if (!isOutage(err)) queue.shift();
          else return;
        }
      }
    } finally {
      draining = false;
    }
  };
  // Called on reconnection, and on any command that succeeds: an outage seen only as timeouts
  // (a stalled server) ends without a reconnection.
  const recovered = () => {
    if (down) log.warn({ url: where, replayed: queue.length, dropped }, 'shared store reachable again');
    down = false;
    dropped = 0;
    if (queue.length) void drain();
  };
  client.on('error', () => {}); // state is tracked through `status`; outages are logged once below
  client.on('ready', recovered);
  client.on('close', () => outage());
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.connect().catch((err) => outage(err)),
    new Promise<void>((r) => (timer = setTimeout(r, (opts.connectTimeoutMs ?? 3000) + 100))),
  ]);
  clearTimeout(timer);

  const remote = remoteBacking(client, opts.prefix ?? 'switchyard:');
  const local = memoryStore();
  // Reservations taken from the local store during an outage: their settlement must go there too,
  // never to a Redis counter that did not take them. Bounded (ids of unsettled requests only).
  const localIds = new LRUCache<string, true>({ max: maxQueued });
  const call = async <T>(run: () => Promise<T>, fallback: () => Promise<T>, replay?: () => Promise<unknown>): Promise<T> => {
    if (client.status === 'ready') {
      try {
        const r = await run();
        if (down || queue.length) recovered();
        return r;
      } catch (err) {
        if (!isOutage(err)) throw err;
        outage(err);
      }
    } else outage();
    if (policy === 'fail-closed') throw new GatewayError('store_unavailable', 'the shared store is unavailable', { status: 503 });
    if (replay) enqueue(replay);
    return fallback();
  };
  const guard = (loc: Base, queued: boolean): Base => ({
    get: <T>(key: string) => call(() => remote.get<T>(key), () => loc.get<T>(key)),
    getMany: ((keys: string[]) => call(() => remote.getMany(keys), () => loc.getMany(keys))) as Store['getMany'],
    set: (key, v, o) => call(() => remote.set(key, v, o), () => loc.set(key, v, o), queued ? () => remote.set(key, v, o) : undefined),
    delete: (key) => call(() => remote.delete(key), () => loc.delete(key), queued ? () => remote.delete(key) : undefined),
    incr: (key, by, o) => call(() => remote.incr(key, by, o), () => loc.incr(key, by, o), queued ? () => remote.incr(key, by, o) : undefined),
    push: (key, v, o) => call(() => remote.push(key, v, o), () => loc.push(key, v, o), queued ? () => remote.push(key, v, o) : undefined),
    list: <T>(key: string) => call(() => remote.list<T>(key), () => loc.list<T>(key)),
    hincr: (key, f, o) => call(() => remote.hincr(key, f, o), () => loc.hincr(key, f, o), queued ? () => remote.hincr(key, f, o) : undefined),
    hgetall: (key) => call(() => remote.hgetall(key), () => loc.hgetall(key)),
    hdel: (key, f) => call(() => remote.hdel(key, f), () => loc.hdel(key, f), queued ? () => remote.hdel(key, f) : undefined),
    async reserve(id, specs, o) {
      const now = o?.now ?? Date.now();
      let taken = false;
      const r = await call(() => remote.reserve(id, specs, { now }), () => ((taken = true), loc.reserve(id, specs, { now })));
      if (taken && r.ok) {
        localIds.set(id, true);
        // Durable counters (budgets, long windows) must count what was spent during the outage:
        // replayed in order, without a limit (the decision was already made), then settled.
        if (queued) enqueue(() => remote.reserve(id, specs.map((sp) => ({ ...sp, limit: Number.MAX_VALUE })), { now }));
      }
      return r;
    },
    async settle(id, adj) {
      if (localIds.delete(id)) {
        await loc.settle(id, adj);
        if (queued) enqueue(() => remote.settle(id, adj));
        return;
      }
      // Taken from Redis: settled there, or (durable) once it returns; never against local counters.
      return call(() => remote.settle(id, adj), async () => {}, queued ? () => remote.settle(id, adj) : undefined);
    },
    ping: () => remote.ping(),
    close: async () => {
      if (closing) return;
      closing = true;
      await drain().catch(() => undefined);
      await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
      client.disconnect();
      await local.close();
    },
  });
  const base: StoreBacking = {
    ...guard(local, false),
    durable: guard(local.durable(), true),
    status: () => ({ type: 'redis', reachable: !down && client.status === 'ready', failurePolicy: policy }),
  };
  return withNamespace(base, '');
}
