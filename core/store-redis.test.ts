/**
 * The Redis store's failure policies against a real redis-server on 127.0.0.1, killed, paused
 * and restarted by the test: fail-open serves locally and replays durable writes (reservations
 * included) in order, a reservation is settled where it was taken, an outage seen only as
 * timeouts ends with the first command that succeeds, and fail-closed answers 503.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisBinary, startRedis, type RedisServer } from '../test/fixtures/redis.ts';
import { redisStore } from './store-redis.ts';
import type { Store } from './store.ts';

const logger = pino({ level: 'silent' });
const bin = redisBinary();
let redis: RedisServer | undefined;
const stores: Store[] = [];

beforeAll(async () => {
  if (bin) redis = await startRedis(bin);
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await redis?.stop();
});

const until = async (cond: () => Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.runIf(bin)('redis failure policy', () => {
  it('fail-open serves locally while Redis is down and replays durable writes when it returns', async () => {
    const s = await redisStore({ url: redis!.url, logger, prefix: 'fo:', commandTimeoutMs: 300 });
    stores.push(s);
    await s.durable().hincr('u', { n: 1 });
    expect(await s.ping()).toBe(true);
    await redis!.kill();
    await until(async () => !(await s.ping()));
    await s.durable().hincr('u', { n: 1 });
    expect(await s.incr('local')).toBe(1);
    expect((await s.reserve('x', [{ key: 'r', amount: 1, limit: 1, window: { type: 'total' } }])).ok).toBe(true);
    await redis!.restart();
    await until(() => s.ping(), 8000);
    await until(async () => (await s.durable().hgetall('u')).n === 1, 5000); // redis restarted empty: the queued write
  });

  it('fail-open: reservations taken locally during an outage are settled locally; durable ones are replayed to Redis', async () => {
    const s = await redisStore({ url: redis!.url, logger, prefix: 'lr:', commandTimeoutMs: 300 });
    stores.push(s);
    const raw = new Redis(redis!.url);
    const total = { type: 'total' } as const;
    const fixed = { type: 'fixed', resetAt: Date.now() + 600_000 } as const;
    expect((await s.durable().reserve('r1', [{ key: 'q', amount: 5, limit: 100, window: total }])).ok).toBe(true);
    expect((await s.reserve('v1', [{ key: 'v', amount: 5, limit: 100, window: fixed }])).ok).toBe(true);
    expect(s.status()).toEqual({ type: 'redis', reachable: true, failurePolicy: 'fail-open' });
    // Drop the store's connection and hold its reconnection (its ready check waits out the pause):
    // Redis keeps its data, and nothing the store does meanwhile reaches it.
    await raw.pipeline().call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').call('CLIENT', 'PAUSE', '800', 'ALL').exec();
    await until(async () => !s.status().reachable);
    expect((await s.durable().reserve('r2', [{ key: 'q', amount: 50, limit: 100, window: total }])).ok).toBe(true);
    expect((await s.reserve('v2', [{ key: 'v', amount: 50, limit: 100, window: fixed }])).ok).toBe(true);
    await s.durable().settle('r2', [{ key: 'q', window: total, delta: -40 }]);
    await until(() => s.ping(), 8000);
    // Settled once Redis is back: v2 was never taken from Redis, so Redis is not refunded for it.
    await s.settle('v2', [{ key: 'v', window: fixed, delta: -40 }]);
    await s.settle('v1', [{ key: 'v', window: fixed, delta: -2 }]);
    expect(Number(await raw.get('lr:v'))).toBe(3); // 5 - 2
    // The durable reservation made during the outage is replayed in order: 5 + 50 - 40.
    await until(async () => Number(await raw.get('lr:q')) === 15);
    expect(s.status().reachable).toBe(true);
    raw.disconnect();
  });

  it('fail-open: an outage seen only as timeouts (a stalled server) ends with the first command that succeeds', async () => {
    const s = await redisStore({ url: redis!.url, logger, prefix: 'st:', commandTimeoutMs: 150 });
    stores.push(s);
    const raw = new Redis(redis!.url);
    await raw.call('CLIENT', 'PAUSE', '500', 'ALL');
    expect(await s.incr('n')).toBe(1); // timed out: served by the local store
    expect(s.status().reachable).toBe(false);
    await until(async () => (await s.get('x'), s.status().reachable), 5000);
    raw.disconnect();
  });

  it('fail-closed throws 503 store_unavailable while Redis is down, then recovers', async () => {
    const s = await redisStore({ url: redis!.url, logger, prefix: 'fc:', failurePolicy: 'fail-closed', commandTimeoutMs: 300 });
    stores.push(s);
    await s.set('k', 1);
    await redis!.kill();
    await until(async () => !(await s.ping()));
    await expect(s.get('k')).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
    await redis!.restart();
    await until(() => s.ping(), 8000);
    expect(await s.incr('k2')).toBe(1);
  });
});
