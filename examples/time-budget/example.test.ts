import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';

const config = join(import.meta.dirname, 'gateway.config.ts');
const data = mkdtempSync(join(tmpdir(), 'time-budget-')); // a fresh durable store per run
afterAll(() => rmSync(data, { recursive: true, force: true }));
// The gateway runs in this process, so faking Date (only Date: timers stay real) moves its clock.
const at = (iso: string) => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(iso));
};
afterEach(() => void vi.useRealTimers());

async function chat(gw: TestGateway) {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const { data, response } = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: 'summarise the quarter' }] })
    .withResponse();
  return { model: data.model, budget: response.headers.get('x-budget') };
}

/** Sends requests until `done` holds (spend is charged once each response has ended). */
async function until<T>(send: () => Promise<T>, done: (r: T) => boolean, tries = 30): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const r = await send();
    if (done(r)) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('condition not met');
}

describe('time of day and the soft limit', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ config, env: { BUDGET_SOFT_USD: '0.0001', BUDGET_HARD_USD: '100', STORE_PATH: join(data, 'soft.db') } });
  });
  afterAll(() => gw?.close());

  it('means the economy model at the weekend', async () => {
    at('2025-01-11T10:30:00+01:00'); // a Saturday in Berlin
    expect((await chat(gw)).model).toBe('economy');
  });

  it('means the premium model in office hours, until the soft limit downgrades it', async () => {
    at('2025-01-08T10:30:00+01:00'); // a Wednesday
    expect(await chat(gw)).toEqual({ model: 'premium', budget: null });
    const downgraded = await until(() => chat(gw), (r) => r.budget !== null);
    expect(downgraded).toEqual({ model: 'economy', budget: 'downgraded premium -> economy' });
  });
});

describe('the hard limit', () => {
  let gw: TestGateway;
  const start = () => createTestGateway({ config, env: { BUDGET_SOFT_USD: '100', BUDGET_HARD_USD: '0.0001', STORE_PATH: join(data, 'hard.db') } });
  beforeAll(async () => {
    gw = await start();
  });
  afterAll(() => gw?.close());

  it('refuses with 429 until the next midnight in Berlin, across a reload and a restart, then resets', async () => {
    at('2025-01-08T10:30:00+01:00');
    const refused = (e: unknown) => e instanceof OpenAI.RateLimitError;
    const err = await until(() => chat(gw).catch((e: unknown) => e), refused);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.message).toContain('the daily budget of $0.0001 is spent');
    expect(e.headers.get('retry-after')).toBe(String(13.5 * 3600));
    expect((await gw.gateway.reload('test')).ok).toBe(true);
    await expect(chat(gw)).rejects.toBeInstanceOf(OpenAI.RateLimitError); // the total is in the store
    await gw.close();
    gw = await start(); // a new process would read the same durable file
    await expect(chat(gw)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    at('2025-01-09T00:00:30+01:00');
    expect((await chat(gw)).model).toBe('economy');
  });
});
