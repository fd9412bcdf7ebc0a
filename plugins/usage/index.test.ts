/**
 * The usage plugin: aggregation as pure functions, and over real HTTP — OpenAI and Anthropic
 * clients, streams, failovers, rejections — read back at `GET /admin/stats`.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { auth, createTestGateway, memoryStore, mock, openai, rateLimit, usage, type GatewayContext, type GatewayRuntime, type RequestOutcome, type TestGateway } from 'switchyard';
import { failover } from '../failover/index.ts';
import { openaiUpstream, type MockUpstream } from '../../test/fixtures/upstream.ts';
import { bucketFields, expiredHours, groupBuckets, hourOf, type UsageRecord } from './aggregate.ts';

const rec = (o: Partial<UsageRecord>): UsageRecord => ({
  at: Date.UTC(2026, 0, 2, 10, 30),
  requestId: 'r',
  key: 'alice',
  model: 'fast',
  provider: 'oa',
  targetModel: 'gpt',
  status: 200,
  attempts: 1,
  inputTokens: 10,
  outputTokens: 5,
  cachedTokens: 0,
  reasoningTokens: 0,
  latencyMs: 100,
  ...o,
});

describe('aggregation', () => {
  it('folds records into hourly buckets and groups them back', () => {
    const merge = (a: Record<string, number>, b: Record<string, number>) => {
      for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
      return a;
    };
    const h1 = merge(merge({}, bucketFields(rec({ ttftMs: 40 }))), bucketFields(rec({ key: 'bob', status: 429, error: 'rate_limit_exceeded', inputTokens: 0, outputTokens: 0, attempts: 0 })));
    const h2 = bucketFields(rec({ at: Date.UTC(2026, 0, 3, 1), cachedTokens: 4, reasoningTokens: 2, ttftMs: 60, attempts: 2 }));
    const buckets: Array<[number, Record<string, number>]> = [[hourOf(Date.UTC(2026, 0, 2, 10, 30)), h1], [hourOf(Date.UTC(2026, 0, 3, 1)), h2]];
    expect(groupBuckets(buckets, [])[0]).toEqual({ requests: 3, errors: 1, inputTokens: 20, outputTokens: 10, cachedTokens: 4, reasoningTokens: 2, totalTokens: 30, attempts: 3, avgLatencyMs: 100, avgTtftMs: 50 });
    expect(groupBuckets(buckets, ['key']).map((r) => [r.key, r.requests])).toEqual([['alice', 2], ['bob', 1]]);
    expect(groupBuckets(buckets, ['day']).map((r) => [r.day, r.requests])).toEqual([['2026-01-02', 2], ['2026-01-03', 1]]);
    expect(groupBuckets(buckets, ['key', 'day'], { key: 'alice' })).toHaveLength(2);
  });
});

const KEY = 'sk-usage-alice-123456';
const ADMIN = 'sk-usage-admin-123456';
let gw: TestGateway;
let up: MockUpstream;

beforeAll(async () => {
  up = await openaiUpstream();
  gw = await createTestGateway({
    config: {
      providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-up' }), echo: mock() },
      models: { chat: 'oa/up-chat', demo: 'echo/echo', flaky: [{ provider: 'oa', model: 'fail-503', priority: 1 }, { provider: 'echo', model: 'echo', priority: 2 }] },
      pipeline: [auth({ keys: [{ name: 'alice', key: KEY }], adminKeys: [ADMIN] }), usage(), rateLimit({ rules: [{ models: ['demo'], requests: 3, per: '1h' }] }), failover({ retries: 0 })],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const stats = async (query = '') => {
  const r = await fetch(`${gw.url}/admin/stats${query}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(r.status).toBe(200);
  return r.json();
};

describe('GET /admin/stats', () => {
  it('records every request with tokens, attempts, latency and TTFT, across formats', async () => {
    const o = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const a = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
    await o.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'one' }] });
    const s = await o.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'two' }] });
    for await (const _ of s) void _;
    await a.messages.stream({ model: 'demo', max_tokens: 50, messages: [{ role: 'user', content: 'three' }] }).finalMessage();
    await a.messages.create({ model: 'flaky', max_tokens: 50, messages: [{ role: 'user', content: 'four' }] });
    const anon = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'no key' }] });
    expect((await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: anon })).status).toBe(401);

    const body = await (async () => {
      const end = Date.now() + 4000;
      for (;;) {
        const b = await stats();
        if (b.totals.requests >= 5 || Date.now() > end) return b;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    expect(body.totals).toMatchObject({ requests: 5, errors: 1, cachedTokens: 4 });
    expect(body.totals.inputTokens).toBeGreaterThan(20);
    expect(body.totals.avgTtftMs).not.toBeNull();
    expect(body.byKey.map((r: { key: string; requests: number }) => [r.key, r.requests])).toEqual([['-', 1], ['alice', 4]]);
    expect(body.byModel.find((r: { model: string }) => r.model === 'chat')).toMatchObject({ requests: 3, errors: 1, inputTokens: 20, outputTokens: 10 });
    expect(body.byProvider.find((r: { provider: string }) => r.provider === 'echo')).toMatchObject({ requests: 2, attempts: 3 });
    expect(body.byDay).toHaveLength(1);

    const recent = await (await fetch(`${gw.url}/admin/stats/requests?limit=5`, { headers: { 'x-api-key': ADMIN } })).json();
    const flaky = recent.data.find((r: UsageRecord) => r.model === 'flaky');
    expect(flaky).toMatchObject({ key: 'alice', provider: 'echo', targetModel: 'echo', status: 200, attempts: 2, format: 'anthropic' });
    expect(flaky.ttftMs).toBeGreaterThanOrEqual(0);
    expect(recent.data.find((r: UsageRecord) => r.status === 401)).toMatchObject({ key: '-', error: 'missing_api_key' });
  });

  it('filters by time range, key, model, provider; groups on demand; admin only', async () => {
    const future = Date.now() + 3_600_000 * 2;
    expect((await stats(`?from=${future}`)).totals.requests).toBe(0);
    expect((await stats(`?to=${new Date(Date.now() - 3_600_000 * 2).toISOString()}`)).totals.requests).toBe(0);
    expect((await stats('?from=2020-01-01&model=chat&key=alice')).totals.requests).toBe(2);
    expect((await stats('?provider=echo')).totals.requests).toBe(2);
    const grouped = await stats('?groupBy=key,model');
    expect(grouped.rows.find((r: { key: string; model: string }) => r.key === 'alice' && r.model === 'demo')).toMatchObject({ requests: 1 });
    expect((await fetch(`${gw.url}/admin/stats?groupBy=color`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(400);
    expect((await fetch(`${gw.url}/admin/stats`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(401);
  });

  it('records only model names the config knows: free text from any caller adds no rows', async () => {
    const junk = `junk-${'x'.repeat(5000)}`;
    const send = (headers: Record<string, string>) =>
      fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: junk, messages: [{ role: 'user', content: 'x' }] }) });
    expect((await send({})).status).toBe(401);
    expect((await send({ authorization: `Bearer ${KEY}` })).status).toBe(404);
    const end = Date.now() + 4000;
    let recent: UsageRecord[] = [];
    while (recent.filter((r) => r.status === 401 || r.status === 404).length < 2 && Date.now() < end) {
      recent = (await (await fetch(`${gw.url}/admin/stats/requests?limit=2`, { headers: { 'x-api-key': ADMIN } })).json()).data;
    }
    expect(recent.map((r) => [r.status, r.key, r.model])).toEqual([[404, 'alice', '-'], [401, '-', '-']]);
    const body = await stats('?groupBy=model');
    expect(JSON.stringify(body)).not.toContain('junk-');
  });
});

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The plugin set up on a memory store, with requests and `/admin/stats` called directly. */
function direct(retentionDays: number) {
  const d = memoryStore().durable();
  const reads = vi.spyOn(d, 'hgetall');
  let done!: (ctx: GatewayContext, o: RequestOutcome) => void;
  const plugin = usage({ retentionDays, keepRecords: 0 });
  const logger = { warn: () => {}, error: () => {} };
  void plugin.setup!({ store: { durable: () => d }, logger, config: { models: {} }, onRequestDone: (fn: typeof done) => (done = fn) } as unknown as GatewayRuntime);
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    store: d,
    /** How often the hour index was read. */
    indexReads: () => reads.mock.calls.filter(([k]) => k === 'hours').length,
    async request() {
      const state = { route: { inbound: {} }, startedAt: Date.now(), requestId: 'r', candidates: [], attempts: [] };
      done({ state } as unknown as GatewayContext, { status: 200, durationMs: 5 } as RequestOutcome);
      await settle();
    },
    async stats() {
      const ctx = { query: {} } as GatewayContext;
      await plugin.routes!.find((r) => r.path === '/admin/stats')!.handler!(ctx as never);
      return ctx.body as { totals: { requests: number } };
    },
  };
}

describe('hour index retention', () => {
  afterEach(() => void vi.useRealTimers());

  it('expiredHours: hours that ended a retention window ago, and unreadable fields', () => {
    const h = Date.UTC(2026, 0, 1, 10);
    expect(expiredHours([String(h), String(h + HOUR), 'junk'], h + HOUR + DAY, DAY)).toEqual([String(h), 'junk']);
  });

  it('drops hours past retentionDays from the index, pruning once per clock hour per process', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.UTC(2026, 0, 1, 10, 15);
    const [h0, h1, h25] = [hourOf(t0), hourOf(t0) + HOUR, hourOf(t0) + DAY + HOUR];
    vi.setSystemTime(t0);
    const u = direct(1);
    for (let i = 0; i < 3; i++) await u.request();
    expect(u.indexReads()).toBe(1); // not on every request
    vi.setSystemTime(t0 + HOUR);
    await u.request();
    await u.request();
    expect(u.indexReads()).toBe(2);
    expect(Object.keys(await u.store.hgetall('hours'))).toEqual([String(h0), String(h1)]);
    vi.setSystemTime(t0 + DAY + 50 * 60_000); // 11:05 next day: h0 ended a day ago, h1 has not
    await u.request();
    expect(Object.keys(await u.store.hgetall('hours')).sort()).toEqual([String(h1), String(h25)]);
    expect((await u.stats()).totals.requests).toBe(3); // h1's two and h25's one
  });

  it('stats drops index fields whose bucket is gone or that left the window, except the last two hours', async () => {
    const u = direct(400);
    await u.request();
    const now = hourOf(Date.now());
    await u.store.hincr('hours', { [now - 5 * HOUR]: 1, [now - HOUR]: 1, [now - 401 * DAY]: 1 }); // no buckets
    expect((await u.stats()).totals.requests).toBe(1);
    expect(Object.keys(await u.store.hgetall('hours')).sort()).toEqual([String(now - HOUR), String(now)]);
  });
});
