/**
 * One conformance suite for every store backing: memory, memory's durable (journaled) part, and
 * Redis (a real redis-server on 127.0.0.1). Same calls, same answers.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisBinary, startRedis, type RedisServer } from '../test/fixtures/redis.ts';
import { memoryStore } from './store-memory.ts';
import { openJournal } from './store-journal.ts';
import { sweepExpired, type Entry, type Mutation } from './store-memory-ops.ts';
import { redisStore } from './store-redis.ts';
import { createStore, type LimitSpec, type Store } from './store.ts';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sy-store-'));
const bin = redisBinary();
let redis: RedisServer | undefined;
const stores: Store[] = [];

beforeAll(async () => {
  if (bin) redis = await startRedis(bin);
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (cond: () => Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

let n = 0;
const backings: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => memoryStore()],
  ['memory durable()', async () => memoryStore({ path: join(dir, `d${++n}.db`), logger }).durable()],
];
if (bin) {
  backings.push(['redis', async () => (await redisStore({ url: redis!.url, logger, prefix: `t${++n}:` })).namespace('x')]);
  backings.push(['redis durable()', async () => (await redisStore({ url: redis!.url, logger, prefix: `t${++n}:` })).durable()]);
}

describe.each(backings)('%s', (_name, make) => {
  let s: Store;
  beforeAll(async () => {
    s = await make();
    stores.push(s);
  });

  it('get/set/delete, JSON values, TTL', async () => {
    expect(await s.get('missing')).toBeUndefined();
    await s.set('a', { x: [1, 'two'] });
    expect(await s.get('a')).toEqual({ x: [1, 'two'] });
    await s.delete('a');
    expect(await s.get('a')).toBeUndefined();
    await s.set('short', 1, { ttlMs: 40 });
    expect(await s.get('short')).toBe(1);
    await until(async () => (await s.get('short')) === undefined);
  });

  it('getMany reads several keys in order, absent ones undefined, values copied', async () => {
    await s.set('m1', { n: 1 });
    await s.incr('m3', 3);
    const [one, two, three] = await s.getMany<[{ n: number }, unknown, number]>(['m1', 'm2', 'm3']);
    expect([one, two, three]).toEqual([{ n: 1 }, undefined, 3]);
    one!.n = 99; // a copy: the stored value is unchanged
    expect(await s.get('m1')).toEqual({ n: 1 });
    expect(await s.getMany([])).toEqual([]);
  });

  it('peekMany, where the data is in this process, answers what getMany does, at once', async () => {
    if (_name.startsWith('redis')) return void expect(s.peekMany).toBeUndefined(); // remote: getMany only
    await s.set('p1', { n: 1 });
    const view = s.namespace('ns');
    await view.set('p2', 2);
    expect(s.peekMany!(['p1', 'p2', 'ns:p2'])).toEqual(await s.getMany(['p1', 'p2', 'ns:p2']));
    expect(s.peekMany!(['p1', 'ns:p2'])).toEqual([{ n: 1 }, 2]);
    expect(view.peekMany!(['p2', 'p1'])).toEqual([2, undefined]); // keys prefixed like every call
    const [copy] = s.peekMany!<[{ n: number }]>(['p1']);
    copy!.n = 99;
    expect(await s.get('p1')).toEqual({ n: 1 });
  });

  it('incr creates at 0 and sets the TTL only on creation; floats add', async () => {
    expect(await s.incr('c')).toBe(1);
    expect(await s.incr('c', 4)).toBe(5);
    expect(await s.incr('f', 0.5)).toBe(0.5);
    expect(await s.incr('f', 0.25)).toBe(0.75);
    expect(await s.get('c')).toBe(5);
    await s.incr('t', 1, { ttlMs: 60 });
    await until(async () => (await s.get('t')) === undefined);
  });

  it('push keeps the newest max entries; list is oldest first', async () => {
    for (const i of [1, 2, 3, 4]) await s.push('l', { i }, { max: 3 });
    expect(await s.list('l')).toEqual([{ i: 2 }, { i: 3 }, { i: 4 }]);
    expect(await s.list('none')).toEqual([]);
  });

  it('hincr adds to fields; hgetall returns numbers', async () => {
    await s.hincr('h', { a: 1, b: 2.5 });
    await s.hincr('h', { a: 2, c: 1 });
    expect(await s.hgetall('h')).toEqual({ a: 3, b: 2.5, c: 1 });
    expect(await s.hgetall('nope')).toEqual({});
  });

  it('hdel removes fields and keeps the TTL; the last field removes the key', async () => {
    await s.hincr('hd', { a: 1, b: 2, c: 3 });
    await s.hdel('hd', ['a', 'absent']);
    expect(await s.hgetall('hd')).toEqual({ b: 2, c: 3 });
    await s.hdel('hd', ['b', 'c']);
    expect(await s.hgetall('hd')).toEqual({});
    expect(await s.get('hd')).toBeUndefined(); // no key left (Redis would answer WRONGTYPE for an empty hash)
    await s.hincr('hd', { x: 1 }, { ttlMs: 80 }); // a new key: the TTL applies again
    await s.hincr('hd', { y: 1 });
    await s.hdel('hd', ['x']);
    expect(await s.hgetall('hd')).toEqual({ y: 1 });
    await until(async () => Object.keys(await s.hgetall('hd')).length === 0); // the TTL survived the hdel
  });

  it('hdel on an absent key or with no fields is a no-op', async () => {
    await s.hdel('never', ['a']);
    expect(await s.hgetall('never')).toEqual({});
    expect(await s.get('never')).toBeUndefined();
    await s.hincr('keep', { a: 1 });
    await s.hdel('keep', []);
    expect(await s.hgetall('keep')).toEqual({ a: 1 });
  });

  it('hdel stays inside its namespace', async () => {
    await s.hincr('hn', { a: 1 });
    await s.namespace('q').hincr('hn', { a: 1, b: 1 });
    await s.namespace('q').hdel('hn', ['a']);
    expect(await s.hgetall('hn')).toEqual({ a: 1 });
    expect(await s.hgetall('q:hn')).toEqual({ b: 1 });
    await s.hdel('hn', ['b', 'a']);
    expect(await s.namespace('q').hgetall('hn')).toEqual({ b: 1 });
  });

  it('fixed windows: all-or-nothing reservations, retry-after until the reset', async () => {
    const now = Date.now();
    const w = { type: 'fixed' as const, resetAt: now + 60_000 };
    const spec = (key: string, amount: number, limit: number): LimitSpec => ({ key, amount, limit, window: w });
    for (let i = 0; i < 3; i++) expect((await s.reserve(`r${i}`, [spec('fx', 1, 3)], { now })).ok).toBe(true);
    const no = await s.reserve('r4', [spec('fx2', 1, 10), spec('fx', 1, 3)], { now: now + 1000 });
    expect(no).toEqual({ ok: false, used: [0, 3], failed: 1, retryAfterMs: 59_000 });
    expect((await s.reserve('r5', [spec('fx2', 10, 10)], { now })).used).toEqual([10]); // fx2 untouched by the failed call
    await s.settle('r0', [{ key: 'fx', window: w, delta: -1 }]);
    expect(await s.reserve('r6', [spec('fx', 1, 3)], { now })).toEqual({ ok: true, used: [3] });
    await s.settle('gone', [{ key: 'never-made', window: w, delta: 5 }]);
    expect(await s.get('never-made')).toBeUndefined();
  });

  it('sliding windows: entries stop counting one window after they were made', async () => {
    const t0 = Date.now();
    const spec = (amount: number): LimitSpec => ({ key: 'sl', amount, limit: 10, window: { type: 'sliding', ms: 1000 } });
    expect((await s.reserve('a', [spec(4)], { now: t0 })).ok).toBe(true);
    expect((await s.reserve('b', [spec(3)], { now: t0 + 100 })).ok).toBe(true);
    expect((await s.reserve('c', [spec(3)], { now: t0 + 200 })).used).toEqual([10]);
    expect(await s.reserve('d', [spec(5)], { now: t0 + 300 })).toEqual({ ok: false, used: [10], failed: 0, retryAfterMs: 800 });
    await s.settle('b', [{ key: 'sl', window: { type: 'sliding', ms: 1000 }, delta: -2 }]); // b really used 1
    expect(await s.reserve('e', [spec(2)], { now: t0 + 400 })).toEqual({ ok: true, used: [10] });
    expect(await s.reserve('f', [spec(4)], { now: t0 + 1000 })).toEqual({ ok: true, used: [10] }); // a (4) expired
    expect(await s.reserve('g', [spec(11)], { now: t0 + 1000 })).toMatchObject({ ok: false, retryAfterMs: 1000 });
  });

  it('total budgets never reset and give no retry-after', async () => {
    const spec: LimitSpec = { key: 'budget', amount: 0.6, limit: 1, window: { type: 'total' } };
    expect((await s.reserve('x', [spec])).ok).toBe(true);
    expect(await s.reserve('y', [spec])).toEqual({ ok: false, used: [0.6], failed: 0 });
    await s.settle('x', [{ key: 'budget', window: { type: 'total' }, delta: -0.5 }]);
    expect((await s.reserve('z', [spec])).used[0]).toBeCloseTo(0.7);
  });

  it('concurrent reservations never overshoot', async () => {
    const now = Date.now();
    const spec: LimitSpec = { key: 'cc', amount: 1, limit: 10, window: { type: 'sliding', ms: 60_000 } };
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => s.reserve(`q${i}`, [spec], { now })));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
  });

  it('namespaces prefix keys', async () => {
    await s.namespace('p').set('k', 'in-p');
    expect(await s.get('p:k')).toBe('in-p');
    expect(await s.namespace('p').get('k')).toBe('in-p');
  });
});

describe('memory durable() persistence', () => {
  it('survives close and reopen (journal replay and compaction)', async () => {
    const path = join(dir, 'reopen.db');
    const a = memoryStore({ path, logger, compactEvery: 3 });
    const d = a.durable().namespace('usage');
    for (let i = 0; i < 5; i++) await d.hincr('h', { n: 1 });
    await d.push('log', { i: 1 });
    expect(await d.reserve('q', [{ key: 'b', amount: 5, limit: 10, window: { type: 'total' } }])).toMatchObject({ ok: true });
    await a.set('volatile', 1);
    await a.close();
    const b = memoryStore({ path, logger });
    stores.push(b);
    const d2 = b.durable().namespace('usage');
    expect(await d2.hgetall('h')).toEqual({ n: 5 });
    expect(await d2.list('log')).toEqual([{ i: 1 }]);
    expect((await d2.reserve('r', [{ key: 'b', amount: 6, limit: 10, window: { type: 'total' } }])).ok).toBe(false);
    expect(await b.get('volatile')).toBeUndefined();
  });

  it('hdel is journaled: replayed from journal records, and kept through close and compaction', async () => {
    const path = join(dir, 'hdel.db');
    const j = openJournal(path, logger)!;
    const rec = (m: Mutation) => j.append({ now: Date.now(), m });
    rec({ op: 'hincr', key: 'usage:hours', fields: { 1: 1, 2: 1, 3: 1 } });
    rec({ op: 'hincr', key: 'usage:gone', fields: { x: 1 } });
    rec({ op: 'hdel', key: 'usage:hours', fields: ['1', '3'] });
    rec({ op: 'hdel', key: 'usage:gone', fields: ['x'] });
    j.close(); // as after a kill -9: records, no snapshot
    const a = memoryStore({ path, logger });
    const d = a.durable().namespace('usage');
    expect(await d.hgetall('hours')).toEqual({ 2: 1 });
    expect(await d.get('gone')).toBeUndefined();
    await d.hdel('hours', ['2']);
    await d.hincr('kept', { a: 1, b: 1 });
    await d.hdel('kept', ['a']);
    await a.close();
    const b = memoryStore({ path, logger });
    stores.push(b);
    expect(await b.durable().namespace('usage').hgetall('hours')).toEqual({});
    expect(await b.durable().namespace('usage').hgetall('kept')).toEqual({ b: 1 });
  });

  it('createStore defaults the file beside the config and validates redis options', async () => {
    const s = await createStore(undefined, { logger, configPath: join(dir, 'gw', 'gateway.config.ts') });
    await s.durable().incr('x');
    await s.close();
    const again = await createStore({ type: 'memory' }, { logger, configPath: join(dir, 'gw', 'gateway.config.ts') });
    expect(await again.durable().get('x')).toBe(1);
    await again.close();
    await expect(createStore({ type: 'redis', url: '' }, { logger })).rejects.toThrow(/store.url/);
    await expect(createStore({ type: 'redis', url: 'redis://x', failurePolicy: 'maybe' as 'fail-open' }, { logger })).rejects.toThrow(/failurePolicy/);
  });
});

describe('memory store housekeeping', () => {
  it('sweepExpired drops every expired entry (past fixed windows are never read again)', () => {
    const map = new Map<string, Entry>([['old', { v: 1, exp: 1_000 }], ['live', { v: 2, exp: 3_000 }], ['forever', { v: 3 }]]);
    sweepExpired(map, 2_000);
    expect([...map.keys()]).toEqual(['live', 'forever']);
  });
});

describe('memory store under --workers', () => {
  it('each worker slot journals to its own file, so every worker persists and a replacement finds its slot data', async () => {
    const configPath = join(dir, 'workers', 'gateway.config.ts');
    const [w1, w2] = await Promise.all([1, 2].map((workerSlot) => createStore(undefined, { logger, configPath, workerSlot })));
    expect([w1!.status().persistent, w2!.status().persistent]).toEqual([true, true]); // one shared file would leave one of them in memory only
    await w1!.durable().incr('n', 1);
    await w2!.durable().incr('n', 2);
    await Promise.all([w1!.close(), w2!.close()]);
    expect(existsSync(join(dir, 'workers', '.data', 'switchyard.worker-1.db'))).toBe(true);
    const again = await createStore({ type: 'memory' }, { logger, configPath, workerSlot: 2 });
    expect(await again.durable().get('n')).toBe(2);
    await again.close();
  });
});
