/**
 * The usage plugin: aggregation as pure functions, and over real HTTP — OpenAI and Anthropic
 * clients, streams, failovers, rejections — read back at `GET /admin/stats`.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestGateway, mock, openai, rateLimit, usage, type TestGateway } from 'switchyard';
import { failover } from '../failover/index.ts';
import { openaiUpstream, type MockUpstream } from '../../test/fixtures/upstream.ts';
import { bucketFields, groupBuckets, hourOf, type UsageRecord } from './aggregate.ts';

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
