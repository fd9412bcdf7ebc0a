/**
 * The rateLimit plugin over real HTTP with the official SDKs (OpenAI and Anthropic formats):
 * every window kind, every scope, token reservations settled with real usage (streams and
 * failures included), budgets, and placement before/after failover.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { auth, createTestGateway, definePlugin, mock, openai, rateLimit, type PluginOption, type TestGateway } from 'switchyard';
import { failover } from '../failover/index.ts';
import { openaiUpstream, type MockUpstream } from '../../test/fixtures/upstream.ts';

const A = 'sk-key-a-0123456789';
const B = 'sk-key-b-0123456789';
const opened: Array<TestGateway | MockUpstream> = [];
afterAll(async () => {
  for (const g of opened.reverse()) await g.close();
});

/** Reports the target that served the request in `x-target`. */
const tag = () =>
  definePlugin({
    name: 'tag',
    async middleware(ctx, next) {
      await next();
      ctx.set('x-target', `${ctx.state.target?.provider}/${ctx.state.target?.model}`);
    },
  });

async function start(pipeline: PluginOption[]): Promise<TestGateway> {
  const up = await openaiUpstream();
  opened.push(up);
  const gw = await createTestGateway({
    config: {
      providers: { echo: mock(), echo2: mock(), slow: mock({ latencyMs: 1000 }), oa: openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-up' }) },
      models: { demo: 'echo/echo', other: 'echo/echo', held: 'slow/echo', broken: 'oa/fail-500', fast: [{ provider: 'echo', model: 'a', priority: 1 }, { provider: 'echo2', model: 'b', priority: 2 }] },
      pipeline: [tag(), ...pipeline],
    },
  });
  opened.push(gw);
  return gw;
}
const keys = (extra: Partial<Parameters<typeof auth>[0]['keys'][number] & object> = {}) => auth({ keys: [{ name: 'a', key: A, ...extra }, { name: 'b', key: B }] });
const oa = (gw: TestGateway, key = A) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
const an = (gw: TestGateway, key = A) => new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
const post = (gw: TestGateway, model = 'demo', body: Record<string, unknown> = {}, key = A) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
const until = async <T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 4000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
};
const sliding = async (gw: TestGateway, key: string) => ((await gw.gateway.store.namespace('rate-limit').get<{ t: number }>(key)) ?? { t: 0 }).t;

describe('request limits', () => {
  it('per key, fixed window: 429 + Retry-After in the OpenAI and Anthropic formats; other keys unaffected', async () => {
    const gw = await start([keys(), rateLimit({ rules: [{ by: 'key', requests: 2, per: '1h' }] })]);
    await oa(gw).chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: '1' }] });
    await an(gw).messages.create({ model: 'demo', max_tokens: 20, messages: [{ role: 'user', content: '2' }] });
    const e1 = await oa(gw).chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: '3' }] }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(OpenAI.RateLimitError);
    const oe = e1 as InstanceType<typeof OpenAI.RateLimitError>;
    expect(oe.code).toBe('rate_limit_exceeded');
    expect(Number(oe.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(oe.message).toContain('2 requests per 1h for "a"');
    const e2 = await an(gw).messages.create({ model: 'demo', max_tokens: 20, messages: [{ role: 'user', content: '4' }] }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(Anthropic.RateLimitError);
    expect((e2 as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect((await post(gw, 'demo', {}, B)).status).toBe(200);
  });

  it('per model with a models filter; unauthenticated callers are counted per IP', async () => {
    const gw = await start([rateLimit({ rules: [{ by: 'model', requests: 1, per: '1h', models: ['demo'] }, { by: 'key', requests: 2, per: '1h' }] })]);
    expect((await post(gw, 'demo')).status).toBe(200);
    expect((await post(gw, 'demo')).status).toBe(429); // all-or-nothing: the key counter took nothing
    expect((await post(gw, 'other')).status).toBe(200);
    const r = await post(gw, 'other');
    expect(r.status).toBe(429); // the per-key rule
    expect((await r.json()).error.message).toContain('"ip:');
  });

  it('fixed and sliding windows empty again; Retry-After says when', async () => {
    for (const rule of [{ requests: 2, per: '1s', window: 'sliding' as const }, { requests: 2, per: '1s' }]) {
      const gw = await start([keys(), rateLimit({ rules: [rule] })]);
      const statuses = [];
      let r: Response;
      do {
        r = await post(gw);
        statuses.push(r.status);
      } while (r.status === 200 && statuses.length < 10);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('1');
      expect((await until(() => post(gw), (x) => x.status === 200)).status).toBe(200);
    }
  });

  it('cron-defined resets (croner): the counter empties at each occurrence', async () => {
    const gw = await start([keys(), rateLimit({ rules: [{ by: 'global', requests: 1, reset: '*/2 * * * * *' }] })]);
    let r: Response;
    let n = 0;
    do r = await post(gw);
    while (r.status === 200 && ++n < 10);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    expect((await until(() => post(gw), (x) => x.status === 200)).status).toBe(200);
  });
});

describe('token limits: reserve, then settle with the real usage', () => {
  it('concurrent requests cannot overshoot; settled amounts equal reported usage (JSON and streams)', async () => {
    const gw = await start([keys(), rateLimit({ rules: [{ name: 'tok', tokens: 200, per: '30m', window: 'sliding' }] })]);
    // The provider holds each answer for 1 s, so both reservations are open at once.
    const both = await Promise.all([post(gw, 'held', { max_tokens: 150 }), post(gw, 'held', { max_tokens: 150 })]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 429]); // 2 × 152 reserved > 200
    const served = await both.find((r) => r.status === 200)!.json();
    const used1 = served.usage.prompt_tokens + served.usage.completion_tokens;
    expect(await until(() => sliding(gw, 'tok:tokens:a'), (t) => t === used1)).toBe(used1);
    const stream = an(gw).messages.stream({ model: 'demo', max_tokens: 100, messages: [{ role: 'user', content: 'stream me please' }] });
    const final = await stream.finalMessage();
    const used2 = used1 + final.usage.input_tokens + final.usage.output_tokens;
    expect(await until(() => sliding(gw, 'tok:tokens:a'), (t) => t === used2)).toBe(used2);
  });

  it('a failed request is settled to 0 tokens but still counts as a request', async () => {
    const gw = await start([keys(), rateLimit({ rules: [{ name: 'mix', tokens: 10_000, requests: 5, per: '30m', window: 'sliding' }] })]);
    expect((await post(gw, 'broken')).status).toBe(500);
    expect(await until(() => sliding(gw, 'mix:tokens:a'), (t) => t === 0)).toBe(0);
    expect(await sliding(gw, 'mix:requests:a')).toBe(1);
  });
});

describe('budgets (quota)', () => {
  it('a per-key token quota is pre-charged, settled, and then exhausted: insufficient_quota, no Retry-After', async () => {
    const gw = await start([keys({ quota: { tokens: 60 } }), rateLimit()]);
    const store = gw.gateway.store.namespace('rate-limit').durable();
    let used = 0;
    let r: Response;
    for (;;) {
      r = await post(gw, 'demo', { max_tokens: 5 });
      if (r.status !== 200) break;
      const u = (await r.json()).usage;
      used += u.prompt_tokens + u.completion_tokens;
      expect(await until(() => store.get<number>('key:a:quota:tokens:a'), (v) => v === used)).toBe(used);
    }
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeNull();
    expect((await r.json()).error).toMatchObject({ code: 'insufficient_quota' });
    const e = await an(gw).messages.create({ model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    expect((await post(gw, 'demo', { max_tokens: 5 }, B)).status).toBe(200); // b has no quota
  });

  it('a cost budget prices the served target', async () => {
    const gw = await start([keys(), rateLimit({ quota: { costUsd: 0.0001 }, prices: { 'echo/echo': { input: 1, output: 1 } } })]);
    let ok = 0;
    let r: Response;
    while ((r = await post(gw, 'demo', { max_tokens: 5 })).status === 200 && ok < 20) {
      ok++;
      await r.arrayBuffer();
    }
    expect(r.status).toBe(429);
    const spent = (await gw.gateway.store.namespace('rate-limit').durable().get<number>('quota:cost:a'))!;
    expect(spent).toBeLessThanOrEqual(0.0001);
    expect(ok).toBeGreaterThan(1);
  });
});

describe('placement', () => {
  it('after failover, an exhausted target is skipped and failover moves on', async () => {
    const gw = await start([failover({ retries: 0 }), rateLimit({ name: 'per-target', rules: [{ by: 'target', requests: 1, per: '1h' }] })]);
    const first = await post(gw, 'fast');
    expect(first.headers.get('x-target')).toBe('echo/a');
    const second = await post(gw, 'fast');
    expect(second.status).toBe(200);
    expect(second.headers.get('x-target')).toBe('echo2/b');
    const third = await post(gw, 'fast');
    expect(third.status).toBe(429); // every target exhausted: a 429 the SDK backs off from, not a 502
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it("after failover, a per-key target limit skips the target for that key only, not for other keys", async () => {
    const gw = await start([keys(), failover({ retries: 0 }), rateLimit({ name: 'per-key-target', rules: [{ by: ['key', 'target'], requests: 1, per: '1h' }] })]);
    expect((await post(gw, 'fast', {}, A)).headers.get('x-target')).toBe('echo/a');
    expect((await post(gw, 'fast', {}, A)).headers.get('x-target')).toBe('echo2/b');
    const e = await oa(gw, A).chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number((e as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const b = await post(gw, 'fast', {}, B);
    expect([b.status, b.headers.get('x-target')]).toEqual([200, 'echo/a']); // a's exhaustion did not cool echo/a down for b
  });

  it('before failover, a full target counter is a 429 for the client', async () => {
    const gw = await start([rateLimit({ rules: [{ by: 'target', requests: 1, per: '1h' }] }), failover({ retries: 0 })]);
    expect((await post(gw, 'fast')).status).toBe(200);
    const r = await post(gw, 'fast');
    expect(r.status).toBe(429);
    expect((await r.json()).error).toMatchObject({ code: 'rate_limit_exceeded' });
  });
});
