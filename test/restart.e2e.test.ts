/**
 * Usage and budgets survive restarts on the embedded store: a gateway process is killed with
 * SIGKILL (and, once, stopped gracefully) and started again on the same store file. Totals
 * after the restart match what was served; under load, at most the requests in flight at the
 * kill are missing (the documented bound: a record is journaled right after its response ends).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from './fixtures/gateway-process.ts';

const KEY = 'sk-restart-key-a-123';
const QKEY = 'sk-restart-key-q-123';
const ADMIN = 'sk-restart-admin-123';
const dir = join(import.meta.dirname, '.tmp', `restart-${process.pid}`);
const config = join(dir, 'gateway.config.ts');
const env = { STORE_PATH: join(dir, 'state', 'switchyard.db') };

const CONFIG = `import { defineConfig, auth, mock, rateLimit, usage } from 'switchyard';
export default defineConfig(({ env }) => ({
  store: { type: 'memory', path: env.STORE_PATH, compactEvery: 20 },
  providers: { echo: mock({ chunkDelayMs: Number(env.CHUNK_DELAY ?? 0) }) },
  models: { demo: 'echo/echo' },
  pipeline: [
    auth({ keys: [{ name: 'a', key: '${KEY}' }, { name: 'q', key: '${QKEY}', quota: { tokens: 100 } }], adminKeys: ['${ADMIN}'] }),
    usage(),
    rateLimit(),
  ],
}));
`;

let gw: GatewayProcess | undefined;
beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(config, CONFIG);
});
afterAll(async () => {
  await gw?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Totals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}
const totals = async (g: GatewayProcess): Promise<Totals> =>
  (await (await fetch(`${g.url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()).totals;
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What the clients saw: requests answered and the tokens their responses reported. */
const served: Totals = { requests: 0, inputTokens: 0, outputTokens: 0 };
const count = (input: number, output: number) => {
  served.requests++;
  served.inputTokens += input;
  served.outputTokens += output;
};

async function traffic(g: GatewayProcess): Promise<void> {
  const oa = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const an = new Anthropic({ baseURL: g.url, apiKey: KEY, maxRetries: 0 });
  for (let i = 0; i < 4; i++) {
    const r = await oa.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: `plain ${i}` }] });
    count(r.usage!.prompt_tokens, r.usage!.completion_tokens);
    const s = await oa.chat.completions.stream({ model: 'demo', stream_options: { include_usage: true }, messages: [{ role: 'user', content: `stream ${i}` }] }).finalChatCompletion();
    count(s.usage!.prompt_tokens, s.usage!.completion_tokens);
    const m = await an.messages.stream({ model: 'demo', max_tokens: 64, messages: [{ role: 'user', content: `anthropic ${i}` }] }).finalMessage();
    count(m.usage.input_tokens, m.usage.output_tokens);
  }
}

/** Spends key q's 100-token budget; returns the status of the first refused request. */
async function exhaustQuota(g: GatewayProcess): Promise<number> {
  for (let i = 0; i < 30; i++) {
    const r = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${QKEY}` },
      body: JSON.stringify({ model: 'demo', max_tokens: 8, messages: [{ role: 'user', content: 'spend' }] }),
    });
    const b = await r.json();
    if (r.status !== 200) return r.status;
    count(b.usage.prompt_tokens, b.usage.completion_tokens);
  }
  return 200;
}

describe('usage survives restarts (embedded store, SQLite journal)', () => {
  it('kill -9, then restart: totals and spent budgets are exactly what was served', async () => {
    gw = await startGatewayProcess(config, env);
    await traffic(gw);
    expect(await exhaustQuota(gw)).toBe(429);
    served.requests++; // the refused request is recorded too
    const before = await until(() => totals(gw!), (t) => t.requests === served.requests);
    expect(before).toMatchObject(served);
    await gw.kill();
    gw = await startGatewayProcess(config, env);
    expect(await totals(gw)).toMatchObject(served);
    expect(await exhaustQuota(gw)).toBe(429); // the budget stayed spent
    served.requests++;
  });

  it('graceful stop, then restart: the same', async () => {
    await traffic(gw!);
    await until(() => totals(gw!), (t) => t.requests === served.requests);
    expect(await gw!.stop()).toBe(0);
    gw = await startGatewayProcess(config, env);
    expect(await totals(gw)).toMatchObject(served);
  });

  it('kill -9 under load: nothing answered is lost beyond the requests in flight at the kill', async () => {
    await gw!.stop();
    gw = await startGatewayProcess(config, { ...env, CHUNK_DELAY: '5' });
    const g = gw;
    const base = (await totals(g)).requests;
    const WORKERS = 4;
    let answered = 0;
    let sent = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        sent++;
        const ok = await fetch(`${g.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'load test words here' }] }),
        })
          .then(async (r) => (await r.text()) !== undefined && r.ok)
          .catch(() => false);
        if (ok && !stop) answered++;
      }
    };
    const running = Array.from({ length: WORKERS }, worker);
    await until(async () => answered, (n) => n >= 20);
    const seen = answered;
    await g.kill();
    stop = true;
    await Promise.all(running);
    gw = await startGatewayProcess(config, env);
    const recorded = (await totals(gw)).requests - base;
    expect(recorded).toBeGreaterThanOrEqual(seen - WORKERS);
    expect(recorded).toBeLessThanOrEqual(sent);
  }, 30_000);
});
