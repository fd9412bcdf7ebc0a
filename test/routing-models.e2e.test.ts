/**
 * Logical models end to end (OpenAI SDK → gateway → mock upstreams over real HTTP): weighted
 * distribution, priorities, wildcard patterns, aliases, `provider/model`, zero-config discovery
 * with its TTL cache, per-target windows and headers, `GET /v1/models`, and the decide
 * endpoint's explanation of all of it.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, failover, models, openai, type Decision, type TestGateway } from 'switchyard';
import { openaiUpstream, sleep, type MockUpstream } from './fixtures/upstream.ts';

/** mulberry32: a small seeded PRNG, so the weighted draw is the same on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let up: MockUpstream;
let disc: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  up = await openaiUpstream();
  disc = await openaiUpstream();
  const at = (u: MockUpstream) => openai({ baseURL: `${u.url}/v1`, apiKey: 'sk-up' });
  gw = await createTestGateway({
    config: {
      providers: { a: at(up), b: at(up), c: at(up), local: at(disc) },
      models: {
        weighted: [{ provider: 'a', model: 'w-heavy', weight: 3 }, { provider: 'b', model: 'w-light', weight: 1 }],
        tiered: [{ provider: 'b', model: 'p-second', priority: 2 }, { provider: 'a', model: 'p-first', priority: 1 }, { provider: 'c', model: 'p-third', priority: 3 }],
        windowed: [{ provider: 'a', model: 'small-window', maxContextTokens: 50 }, { provider: 'b', model: 'big-window', maxContextTokens: 400, priority: 1 }],
        tenant: { provider: 'a', model: 'hdr', headers: { 'x-tenant': 't1' } },
        'claude-*': { provider: 'a', model: '*' },
        'claude-3-*': 'b/*',
      },
      pipeline: [
        models({ random: seeded(7), aliases: { best: 'tiered', legacy: 'claude-3-legacy' }, discover: { providers: ['local'], ttlMs: 60_000 } }),
        failover({ circuit: false }),
      ],
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  await disc?.close();
});

const ask = (model: string, content = 'hi', extra: Record<string, unknown> = {}) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content }], ...extra });
const served = () => up.received.at(-1)!;
const decide = async (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Decision> => {
  const res = await fetch(`${gw.url}/admin/routing/decide`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Decision;
};

describe('weights and priorities', () => {
  it('spreads requests by weight within a priority (3:1 over 400 requests, seeded)', async () => {
    const before = up.received.length;
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 20 }, () => ask('weighted')));
    const models = up.received.slice(before).map((r) => r.body.model);
    const heavy = models.filter((m) => m === 'w-heavy').length / models.length;
    expect(models).toHaveLength(400);
    expect(heavy).toBeGreaterThan(0.69);
    expect(heavy).toBeLessThan(0.81);
  });

  it('always serves the lowest priority first', async () => {
    for (let i = 0; i < 10; i++) {
      await ask('tiered');
      expect(served().body.model).toBe('p-first');
    }
  });
});

describe('names', () => {
  it('wildcards route to their provider keeping the asked name; the most specific pattern wins', async () => {
    await ask('claude-sonnet-4-5');
    expect(served().body.model).toBe('claude-sonnet-4-5');
    expect(served().headers.authorization).toBe('Bearer sk-up');
    const d = await decide({ model: 'claude-3-opus', messages: [{ role: 'user', content: 'x' }] });
    expect(d.candidates).toMatchObject([{ provider: 'b', model: 'claude-3-opus' }]);
    expect(d.candidates[0]!.reasons[0]).toContain('wildcard "claude-3-*"');
  });

  it('aliases resolve to logical names and to names a pattern matches', async () => {
    await ask('best');
    expect(served().body.model).toBe('p-first');
    await ask('legacy');
    expect(served().body.model).toBe('claude-3-legacy');
  });

  it('provider/model names go straight to that provider', async () => {
    await ask('c/direct-one');
    expect(served().body.model).toBe('direct-one');
  });

  it('discovers models from a provider list, cached with a TTL', async () => {
    const res = await ask('up-b');
    expect(res.choices[0]!.message.content).toBe('echo: hi');
    expect(disc.received.at(-1)!.body.model).toBe('up-b');
    await ask('up-a');
    await client.models.list();
    expect(disc.received.filter((r) => r.path === '/v1/models')).toHaveLength(1);
    const err = await ask('not-anywhere').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(disc.received.filter((r) => r.path === '/v1/models')).toHaveLength(1);
  });

  it('refreshes a discovered list once its TTL has passed', async () => {
    const fresh = await createTestGateway({
      config: { providers: { local: openai({ baseURL: `${disc.url}/v1` }) }, pipeline: [models({ discover: { ttlMs: 500 } })] },
    });
    try {
      const fetches = () => disc.received.filter((r) => r.path === '/v1/models').length;
      const before = fetches();
      await fetch(`${fresh.url}/v1/models`);
      await fetch(`${fresh.url}/v1/models`);
      expect(fetches()).toBe(before + 1);
      await sleep(600);
      await fetch(`${fresh.url}/v1/models`);
      expect(fetches()).toBe(before + 2);
    } finally {
      await fresh.close();
    }
  });

  it('GET /v1/models lists logical names, aliases and discovered models once each', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['weighted', 'tiered', 'best', 'legacy', 'up-a', 'up-b', 'a/w-heavy']));
    expect(ids.some((id) => id.includes('*'))).toBe(false);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('per-target options', () => {
  it('skips a target whose context window the prompt would overflow', async () => {
    await ask('windowed', 'short');
    expect(served().body.model).toBe('small-window');
    await ask('windowed', 'x'.repeat(400));
    expect(served().body.model).toBe('big-window');
    await ask('windowed', 'short', { max_tokens: 100 });
    expect(served().body.model).toBe('big-window');
    const err = await ask('windowed', 'x'.repeat(4000)).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.code).toBe('context_length_exceeded');
  });

  it('sends per-target headers upstream', async () => {
    await ask('tenant');
    expect(served().headers['x-tenant']).toBe('t1');
  });
});

describe('POST /admin/routing/decide', () => {
  it('explains the order: priorities, weights and skipped windows, without calling upstreams', async () => {
    const before = up.received.length;
    const tiered = await decide({ model: 'tiered', messages: [{ role: 'user', content: 'x' }] });
    expect(tiered.candidates.map((c) => [c.position, c.model, c.decision])).toEqual([
      [1, 'p-first', 'kept'],
      [2, 'p-second', 'kept'],
      [3, 'p-third', 'kept'],
    ]);
    expect(tiered.candidates[0]!.reasons).toEqual(['models: logical "tiered": priority 1, weight 1 of 1', 'failover: healthy; up to 1 same-target retries']);
    const windowed = await decide({ model: 'windowed', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    expect(windowed.candidates.map((c) => c.model)).toEqual(['big-window']);
    expect(windowed.skipped).toEqual([
      { provider: 'a', model: 'small-window', decision: 'skipped', reasons: [expect.stringMatching(/^models: needs ~\d+ tokens .* maxContextTokens 50$/)] },
    ]);
    expect(up.received.length).toBe(before);
  });

  it('reports a routing failure as part of the explanation', async () => {
    const d = await decide({ model: 'nope', messages: [{ role: 'user', content: 'x' }] });
    expect(d.candidates).toEqual([]);
    expect(d.error).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('decodes other wire formats (?format=anthropic)', async () => {
    const res = await fetch(`${gw.url}/admin/routing/decide?format=anthropic`, {
      method: 'POST',
      body: JSON.stringify({ model: 'windowed', max_tokens: 200, messages: [{ role: 'user', content: 'short' }] }),
    });
    const d = (await res.json()) as Decision;
    expect(d.format).toBe('anthropic');
    expect(d.candidates.map((c) => c.model)).toEqual(['big-window']); // max_tokens counts against the window
  });
});
