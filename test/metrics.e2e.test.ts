/**
 * `/metrics` end to end: scraped before and after a known set of requests (deltas per series),
 * counters kept across reloads, bounded label cardinality under 1,000 invented model names,
 * circuit state from failover, a rate-limit counter incremented by another plugin through the
 * runtime, and admin-key protection. No auth plugin is used: a small custom `adminGuard`
 * stands in for it (the core's contract for admin routes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RATE_LIMIT_REJECTIONS,
  auth,
  GatewayError,
  createTestGateway,
  definePlugin,
  failover,
  metrics,
  mock,
  openai,
  type Plugin,
  type TestGateway,
  type UserConfig,
} from 'switchyard';
import { openaiUpstream, sleep, type MockUpstream } from './fixtures/upstream.ts';

const ADMIN_KEY = 'admin-secret-1';
const adminKey = (): Plugin =>
  definePlugin({
    name: 'admin-key',
    async adminGuard(ctx, next) {
      if (ctx.get('x-admin-key') !== ADMIN_KEY) throw new GatewayError('unauthorized', 'admin key required', { status: 401 });
      await next();
    },
  });
/** Stands in for the rate-limit plugin: rejects on a header and counts through the runtime. */
const rejecter = (): Plugin => {
  let counter: ReturnType<Parameters<NonNullable<Plugin['setup']>>[0]['metrics']['counter']>;
  return definePlugin({
    name: 'rejecter',
    setup(r) {
      counter = r.metrics.counter(RATE_LIMIT_REJECTIONS);
    },
    async middleware(ctx, next) {
      if (ctx.get('x-reject')) {
        counter.inc({ rule: 'test-rule' });
        throw new GatewayError('rate_limit_exceeded', 'slow down', { status: 429 });
      }
      await next();
    },
  });
};

let up: MockUpstream;
let gw: TestGateway;
let failReload = false;

const config = (): UserConfig => {
  if (failReload) throw new Error('broken config');
  return {
    providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-metrics-test-key' }), echo: mock({ chunkDelayMs: 1 }) },
    models: {
      chat: { provider: 'oa', model: 'up-chat' },
      gated: { provider: 'oa', model: 'gated' },
      broken: { provider: 'oa', model: 'fail-500' },
      demo: { provider: 'echo', model: 'echo' },
    },
    pipeline: [adminKey(), rejecter(), failover({ retries: 0, circuit: { failureThreshold: 1, cooldownMs: 60_000 } })],
  };
};

beforeAll(async () => {
  up = await openaiUpstream();
  gw = await createTestGateway({ config });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** Scrapes `/metrics` into `series{labels} → value` (labels as prom-client prints them). */
async function scrape(url = gw.url, headers: Record<string, string> = { 'x-admin-key': ADMIN_KEY }): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
const totalRequests = (m: Map<string, number>) =>
  [...m].reduce((n, [k, v]) => (k.startsWith('switchyard_requests_total{') ? n + v : n), 0);
/** Scrapes until `n` more requests than in `before` have been recorded (each once it fully ended). */
async function scrapeAfter(before: Map<string, number>, n: number): Promise<Map<string, number>> {
  const end = Date.now() + 10_000;
  for (;;) {
    const now = await scrape();
    if (totalRequests(now) - totalRequests(before) >= n || Date.now() > end) return now;
    await sleep(10);
  }
}
const delta = (a: Map<string, number>, b: Map<string, number>, key: string) => (b.get(key) ?? 0) - (a.get(key) ?? 0);
const req = (format: string, model: string, provider: string, cls: string) =>
  `switchyard_requests_total{format="${format}",model="${model}",provider="${provider}",status_class="${cls}"}`;

const chat = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  }).then(async (r) => ({ status: r.status, text: await r.text() }));

describe('metrics', () => {
  it('is protected by the admin guard; metrics({ access: "public" }) opens it', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': 'wrong' } })).status).toBe(401);
    const res = await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of ['requests_total', 'request_duration_seconds', 'time_to_first_token_seconds', 'upstream_attempts_total', 'tokens_total', 'inflight_requests', 'open_streams', 'circuit_state', 'rate_limit_rejections_total', 'config_reloads_total', 'config_version']) {
      expect(text).toContain(`# TYPE switchyard_${name} `);
    }
    expect(text).toContain('process_resident_memory_bytes');
    const open = await createTestGateway({ config: { providers: { echo: mock() }, pipeline: [adminKey(), metrics({ access: 'public' })] } });
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('with the auth plugin, needs an admin key (a client key is not one)', async () => {
    const g = await createTestGateway({
      config: { providers: { echo: mock() }, pipeline: [auth({ keys: ['client-key-1234567'], adminKeys: ['admin-key-7654321'] })] },
    });
    try {
      const get = (key?: string) => fetch(`${g.url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} }).then((r) => r.status);
      expect(await get()).toBe(401);
      expect([401, 403]).toContain(await get('client-key-1234567'));
      expect(await get('admin-key-7654321')).toBe(200);
    } finally {
      await g.close();
    }
  });

  it('counts a known set of requests by format, model, provider, status class, attempts and tokens', async () => {
    const before = await scrape();
    expect((await chat('chat')).status).toBe(200);
    expect((await chat('chat')).status).toBe(200);
    expect((await chat('demo', { stream: true })).text).toContain('[DONE]');
    expect((await chat('broken')).status).toBe(500);
    expect((await chat('no-such-model')).status).toBe(404);
    expect((await chat('chat', {}, { 'x-reject': '1' })).status).toBe(429);
    const after = await scrapeAfter(before, 6);
    const d = (k: string) => delta(before, after, k);
    expect(d(req('openai', 'chat', 'oa', '2xx'))).toBe(2);
    expect(d(req('openai', 'demo', 'echo', '2xx'))).toBe(1);
    expect(d(req('openai', 'broken', 'oa', '5xx'))).toBe(1);
    expect(d(req('openai', 'other', 'none', '4xx'))).toBe(1);
    expect(d(req('openai', 'chat', 'none', '4xx'))).toBe(1);
    expect(d('switchyard_upstream_attempts_total{provider="oa",outcome="ok"}')).toBe(2);
    expect(d('switchyard_upstream_attempts_total{provider="oa",outcome="5xx"}')).toBe(1);
    expect(d('switchyard_upstream_attempts_total{provider="echo",outcome="ok"}')).toBe(1);
    expect(d('switchyard_tokens_total{model="chat",provider="oa",type="input"}')).toBe(20);
    expect(d('switchyard_tokens_total{model="chat",provider="oa",type="output"}')).toBe(10);
    expect(d('switchyard_request_duration_seconds_count{format="openai",model="chat",provider="oa"}')).toBe(2);
    expect(d('switchyard_time_to_first_token_seconds_count{format="openai",model="demo",provider="echo"}')).toBe(1);
    expect(d('switchyard_rate_limit_rejections_total{rule="test-rule"}')).toBe(1);
    // failover opened the circuit of the failing target (threshold 1)
    expect(after.get('switchyard_circuit_state{provider="oa",model="fail-500"}')).toBe(2);
    expect(after.get('switchyard_circuit_state{provider="oa",model="up-chat"}')).toBe(0);
  });

  it('shows in-flight requests and open streams', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gated', stream: true, messages: [{ role: 'user', content: 'a b' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const during = await scrape();
    expect(during.get('switchyard_inflight_requests')).toBe(1);
    expect(during.get('switchyard_open_streams')).toBe(1);
    const streaming = await scrape();
    up.release();
    while (!(await reader.read()).done);
    const after = await scrapeAfter(streaming, 1);
    expect(after.get('switchyard_inflight_requests')).toBe(0);
    expect(after.get('switchyard_open_streams')).toBe(0);
  });

  it('keeps counting across reloads, and counts reloads by result', async () => {
    const before = await scrape();
    expect((await gw.gateway.reload('test')).ok).toBe(true);
    failReload = true;
    expect((await gw.gateway.reload('test')).ok).toBe(false);
    failReload = false;
    expect((await chat('chat')).status).toBe(200);
    const after = await scrapeAfter(before, 1);
    expect(delta(before, after, req('openai', 'chat', 'oa', '2xx'))).toBe(1);
    expect(after.get(req('openai', 'chat', 'oa', '2xx'))).toBeGreaterThanOrEqual(3);
    expect(delta(before, after, 'switchyard_config_reloads_total{result="ok"}')).toBe(1);
    expect(delta(before, after, 'switchyard_config_reloads_total{result="error"}')).toBe(1);
    expect(delta(before, after, 'switchyard_config_version')).toBe(1);
  });

  it('reports circuit state for the targets of the current config only', async () => {
    let models: UserConfig['models'] = { chat: { provider: 'oa', model: 'up-chat' }, gated: { provider: 'oa', model: 'gated' } };
    const g = await createTestGateway({ config: () => ({ providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-metrics-test-key' }) }, models }) });
    try {
      const circuits = async () => [...(await scrape(g.url, {})).keys()].filter((k) => k.startsWith('switchyard_circuit_state{'));
      expect(await circuits()).toEqual(expect.arrayContaining(['switchyard_circuit_state{provider="oa",model="gated"}']));
      models = { chat: { provider: 'oa', model: 'up-chat' } };
      expect((await g.gateway.reload('drop gated')).ok).toBe(true);
      expect(await circuits()).toEqual(['switchyard_circuit_state{provider="oa",model="up-chat"}']);
    } finally {
      await g.close();
    }
  });

  it('client-chosen provider/model targets (failing, opening circuits) add no series per name', async () => {
    const round = (n: number) =>
      Promise.all(Array.from({ length: n }, () => chat(`oa/fail-500-after-${Math.floor(Math.random() * 1e6)}`).then((r) => r.status)));
    const count = (m: Map<string, number>) => [...m.keys()].filter((k) => k.startsWith('switchyard_')).length;
    expect(await round(3)).toEqual([500, 500, 500]);
    const first = await scrapeAfter(new Map(), 0);
    expect((await round(30)).every((s) => s === 500)).toBe(true);
    const after = await scrapeAfter(first, 30);
    expect(count(after)).toBe(count(first));
    expect([...after.keys()].some((k) => k.includes('fail-500-after'))).toBe(false);
  });

  it('keeps the series count bounded under 1,000 random model names', async () => {
    const before = await scrape();
    const names = Array.from({ length: 1000 }, () => `rnd-${Math.random().toString(36).slice(2)}`);
    for (let i = 0; i < names.length; i += 50) {
      const statuses = await Promise.all(names.slice(i, i + 50).map((n) => chat(n).then((r) => r.status)));
      expect(statuses.every((s) => s === 404)).toBe(true);
    }
    const after = await scrapeAfter(before, 1000);
    const ours = (m: Map<string, number>) => [...m.keys()].filter((k) => k.startsWith('switchyard_'));
    expect(ours(after).length - ours(before).length).toBeLessThanOrEqual(0); // `other` already existed
    expect(ours(after).some((k) => k.includes('rnd-'))).toBe(false);
    expect(delta(before, after, req('openai', 'other', 'none', '4xx'))).toBe(1000);
  });
});
