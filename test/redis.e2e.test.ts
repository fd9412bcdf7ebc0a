/**
 * Several instances, one Redis: two gateway PROCESSES (`bin/gateway.js`) share a real
 * redis-server on 127.0.0.1 (random port, no persistence). One request limit holds exactly
 * across both, a token limit holds within one request's reservation, sticky bindings, circuit
 * state and usage are shared, and when Redis dies the fail-open instance keeps serving while the
 * fail-closed one answers 503 in the caller's format — both stay up and recover.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from './fixtures/gateway-process.ts';
import { redisBinary, startRedis, type RedisServer } from './fixtures/redis.ts';
import { openaiUpstream, type MockUpstream } from './fixtures/upstream.ts';

const N = 5;
const T = 300;
const KEY = 'sk-multi-instance-key';
const ADMIN = 'sk-multi-instance-admin';
const bin = redisBinary();
const dir = join(import.meta.dirname, '.tmp', `redis-${process.pid}`);
const config = join(dir, 'gateway.config.ts');

const CONFIG = `import { defineConfig, auth, failover, mock, openai, rateLimit, sticky, usage } from 'switchyard';
export default defineConfig(({ env }) => ({
  store: { type: 'redis', url: env.REDIS_URL, failurePolicy: env.POLICY, commandTimeoutMs: 300, connectTimeoutMs: 2000 },
  providers: { echo: mock(), oa: openai({ baseURL: env.UP_URL + '/v1', apiKey: 'sk-upstream' }) },
  models: {
    demo: 'echo/echo',
    tok: 'echo/echo',
    free: 'echo/echo',
    pair: [{ provider: 'oa', model: 'fail-500', priority: 1 }, { provider: 'echo', model: 'echo', priority: 2 }],
    sess: [{ provider: 'oa', model: 'up-a' }, { provider: 'echo', model: 'echo' }],
  },
  pipeline: [
    auth({ keys: [{ name: 'k', key: '${KEY}' }], adminKeys: ['${ADMIN}'] }),
    usage(),
    rateLimit({ rules: [
      { name: 'n', models: ['demo'], requests: ${N}, per: '30m', window: 'sliding' },
      { name: 't', models: ['tok'], tokens: ${T}, per: '30m', window: 'sliding' },
    ] }),
    sticky(),
    failover({ retries: 0, circuit: { failureThreshold: 1, cooldownMs: 60000 } }),
  ],
}));
`;

let redis: RedisServer;
let up: MockUpstream;
let gw1: GatewayProcess;
let gw2: GatewayProcess;

beforeAll(async () => {
  if (!bin) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(config, CONFIG);
  redis = await startRedis(bin);
  up = await openaiUpstream();
  const env = { REDIS_URL: redis.url, UP_URL: up.url };
  [gw1, gw2] = await Promise.all([startGatewayProcess(config, { ...env, POLICY: 'fail-open' }), startGatewayProcess(config, { ...env, POLICY: 'fail-closed' })]);
}, 40_000);

afterAll(async () => {
  await Promise.all([gw1?.stop(), gw2?.stop()]);
  await redis?.stop();
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

const chat = (gw: GatewayProcess, model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
const stats = async (gw: GatewayProcess) => (await fetch(`${gw.url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined as T);
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(bin)('two gateway processes, one redis', () => {
  it(`a limit of ${N} per window: ${3 * N} concurrent requests over both instances → exactly ${N} succeed`, async () => {
    const res = await Promise.all(Array.from({ length: 3 * N }, (_, i) => chat(i % 2 ? gw2 : gw1, 'demo')));
    const statuses = res.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(N);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2 * N);
    expect(res.find((r) => r.status === 429)!.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  });

  it(`a token limit of ${T} holds within one request's reservation`, async () => {
    const res = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(i % 2 ? gw2 : gw1, 'tok', { max_tokens: 100 })));
    const ok = await Promise.all(res.filter((r) => r.status === 200).map((r) => r.json()));
    const used = ok.reduce((n, b) => n + b.usage.prompt_tokens + b.usage.completion_tokens, 0);
    const reservation = 2 + 100; // prompt estimate + max_tokens
    expect(ok.length).toBeGreaterThanOrEqual(Math.floor(T / reservation));
    expect(used).toBeLessThanOrEqual(T + reservation);
    // Once every reservation is settled, the shared counter holds exactly the real usage.
    const r = new Redis(redis.url);
    const counted = await until(async () => Number(await r.hget('switchyard:rate-limit:t:tokens:k', '_t')), (v) => v === used);
    r.disconnect();
    expect(counted).toBe(used);
  });

  it('sticky bindings made on one instance are honoured by the other', async () => {
    const session = { 'x-session-id': `s-${Date.now()}` };
    const first = await (await chat(gw1, 'sess', {}, session)).json();
    const answer = first.choices[0].message.content as string;
    for (let i = 0; i < 6; i++) {
      const b = await (await chat(gw2, 'sess', {}, session)).json();
      expect(b.choices[0].message.content).toBe(answer);
    }
  });

  it('a circuit opened on one instance keeps the other away from the failing target', async () => {
    const failing = () => up.received.filter((r) => r.body.model === 'fail-500').length;
    const before = failing();
    expect((await chat(gw1, 'pair')).status).toBe(200); // fail-500 failed once → circuit open (threshold 1), echo served
    expect(failing()).toBe(before + 1);
    for (let i = 0; i < 3; i++) expect((await chat(gw2, 'pair')).status).toBe(200);
    expect(failing()).toBe(before + 1); // gw2 saw the open circuit in redis and never called it
  });

  it('usage recorded by either instance is read by both', async () => {
    const a = await until(() => stats(gw1), (s) => s.totals.requests >= 3 * N + 12 + 7 + 4);
    const b = await stats(gw2);
    expect(b.totals.requests).toBe(a.totals.requests);
    expect(b.byModel.find((m: { model: string }) => m.model === 'demo').requests).toBe(3 * N);
  });

  it('redis killed mid-run: fail-open keeps serving, fail-closed answers 503 in the caller format; both stay up and recover', async () => {
    await redis.kill();
    const open = await until(() => chat(gw1, 'free'), (r) => r?.status === 200);
    expect(open.status).toBe(200);
    let served = 1;
    for (let i = 0; i < 3; i++) if ((await chat(gw1, 'demo')).status === 200) served++;
    const closed = await until(() => chat(gw2, 'free'), (r) => r?.status === 503);
    expect(closed.status).toBe(503);
    expect((await closed.json()).error).toMatchObject({ code: 'store_unavailable' });
    const an = new Anthropic({ baseURL: gw2.url, apiKey: KEY, maxRetries: 0 });
    const err = await an.messages.create({ model: 'free', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    // Anthropic's own "unavailable" is 529 overloaded_error: the caller's format decides.
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect((await fetch(`${gw2.url}/health`)).status).toBe(200);
    expect(gw1.alive() && gw2.alive()).toBe(true);
    expect(gw1.output()).toContain('shared store unreachable');

    await redis.restart(); // empty: no persistence
    const back = await until(() => chat(gw2, 'free'), (r) => r?.status === 200, 10_000);
    expect(back.status).toBe(200);
    // gw1's usage records from the outage were queued and written once redis (restarted empty) returned.
    const demo = (x: { byModel?: Array<{ model: string; requests: number }> }) => x?.byModel?.find((m) => m.model === 'demo')?.requests;
    const s = await until(() => stats(gw2), (x) => demo(x) === 3);
    expect(demo(s)).toBe(3);
    expect(s.totals.requests).toBeGreaterThanOrEqual(served);
  }, 30_000);
});
