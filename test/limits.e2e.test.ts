/**
 * Keys, limits and budgets as an operator configures them: a config FILE with env-backed keys,
 * per-key limits and quota on the keys, the official SDKs of three formats as clients (429s in
 * each caller's format with Retry-After), counters that survive hot reloads (and follow a new
 * limit), and a streamed token reservation settled with the stream's real usage.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';

const dir = join(import.meta.dirname, '.tmp', `limits-${process.pid}`);
const file = join(dir, 'gateway.config.ts');
const env = { ALICE_KEY: 'sk-limits-alice-0001', BOB_KEY: 'sk-limits-bob-0002', ADMIN_KEY: 'sk-limits-admin-0003' };

const write = (aliceRequests: number) =>
  writeFileSync(
    file,
    `import { defineConfig, auth, mock, rateLimit, usage } from 'switchyard';
export default defineConfig(({ env }) => ({
  providers: { echo: mock(), slow: mock({ latencyMs: 800 }) },
  models: { demo: 'echo/echo', held: 'slow/echo' },
  pipeline: [
    auth({
      keys: [
        { name: 'alice', key: env.ALICE_KEY, models: ['demo'], limits: [{ requests: ${aliceRequests}, per: '1h' }] },
        { name: 'bob', key: env.BOB_KEY, limits: [{ name: 'tpm', tokens: 400, per: '30m', window: 'sliding' }], quota: { tokens: 100000 } },
      ],
      adminKeys: [env.ADMIN_KEY],
    }),
    usage(),
    rateLimit(),
  ],
}));
`,
  );

let gw: TestGateway;
beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  write(3);
  gw = await createTestGateway({ config: file, env });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const reload = async () => {
  const r = await fetch(`${gw.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${env.ADMIN_KEY}` } });
  expect(await r.json()).toMatchObject({ ok: true });
};
const openaiCall = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: env.ALICE_KEY, maxRetries: 0 }).chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
const anthropicCall = () => new Anthropic({ baseURL: gw.url, apiKey: env.ALICE_KEY, maxRetries: 0 }).messages.create({ model: 'demo', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
const geminiCall = () =>
  new GoogleGenAI({ apiKey: env.ALICE_KEY, httpOptions: { baseUrl: gw.url, retryOptions: { attempts: 1 } } }).models.generateContent({ model: 'demo', contents: 'hi' });
const fails = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { status?: number; headers?: Headers | Record<string, string>; message?: string });

describe('per-key limits from the config file', () => {
  it('alice gets 3 requests in any format; the 4th is a 429 in each caller format, with Retry-After', async () => {
    await openaiCall();
    await anthropicCall();
    await geminiCall();
    const o = (await fails(openaiCall())) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(o).toBeInstanceOf(OpenAI.RateLimitError);
    expect(o.code).toBe('rate_limit_exceeded');
    expect(Number(o.headers?.get('retry-after'))).toBeGreaterThan(0);
    const a = (await fails(anthropicCall())) as InstanceType<typeof Anthropic.RateLimitError>;
    expect(a).toBeInstanceOf(Anthropic.RateLimitError);
    expect(a.error).toMatchObject({ error: { type: 'rate_limit_error' } });
    const g = await fails(geminiCall());
    expect(g?.status).toBe(429);
    expect(g?.message).toContain('RESOURCE_EXHAUSTED');
  });

  it('counters survive a hot reload, and follow a limit raised by the reload', async () => {
    await reload();
    expect(await fails(openaiCall())).toBeInstanceOf(OpenAI.RateLimitError);
    write(5);
    await reload();
    await openaiCall();
    await anthropicCall();
    expect(await fails(openaiCall())).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("bob's token limit: a second concurrent stream cannot overshoot; the first settles to its real usage", async () => {
    const an = new Anthropic({ baseURL: gw.url, apiKey: env.BOB_KEY, maxRetries: 0 });
    const call = () => an.messages.stream({ model: 'held', max_tokens: 300, messages: [{ role: 'user', content: 'long answer please' }] }).finalMessage();
    const [x, y] = await Promise.allSettled([call(), call()]); // ~305 reserved each, 400 allowed
    expect([x.status, y.status].sort()).toEqual(['fulfilled', 'rejected']);
    const done = (x.status === 'fulfilled' ? x.value : (y as PromiseFulfilledResult<Anthropic.Message>).value).usage;
    const store = gw.gateway.store.namespace('rate-limit');
    const real = done.input_tokens + done.output_tokens;
    const end = Date.now() + 4000;
    let t = -1;
    while (t !== real && Date.now() < end) {
      t = (await store.get<{ t: number }>('key:bob:tpm:tokens:bob'))?.t ?? -1;
      if (t !== real) await new Promise((r) => setTimeout(r, 25));
    }
    expect(t).toBe(real);
    expect(await store.durable().get<number>('key:bob:quota:tokens:bob')).toBe(real);
  });
});
