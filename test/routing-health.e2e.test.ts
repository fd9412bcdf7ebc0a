/**
 * Health and stickiness end to end (OpenAI SDK → gateway → mock upstreams over real HTTP): a
 * circuit opens after consecutive failures, is skipped, half-opens for one probe and closes; a
 * sticky session keeps its target, survives that target failing (the binding moves), records
 * its context; and the routing API shows all of it.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, failover, openai, sticky, type Decision, type SessionInfo, type TestGateway } from 'switchyard';
import { openaiUpstream, sleep, type MockUpstream } from './fixtures/upstream.ts';

let up: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  up = await openaiUpstream();
  const at = () => openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-up' });
  gw = await createTestGateway({
    config: {
      providers: { a: at(), b: at(), c: at() },
      models: {
        breaker: [{ provider: 'a', model: 'cb-a' }, { provider: 'b', model: 'cb-b', priority: 1 }],
        sess: [{ provider: 'a', model: 's-a' }, { provider: 'b', model: 's-b' }, { provider: 'c', model: 's-c' }],
        pinned: [{ provider: 'a', model: 'pin-a' }, { provider: 'b', model: 'pin-b', priority: 1 }],
        'cb-sess': [{ provider: 'a', model: 'cbs-x' }, { provider: 'b', model: 'cbs-y', priority: 1 }],
      },
      pipeline: [sticky(), failover({ retries: 0, circuit: { failureThreshold: 2, cooldownMs: 1000 } })],
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const ask = (model: string, session?: string, content = 'hi') =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content }] }, session ? { headers: { 'x-session-id': session } } : {});
const calls = (model: string) => up.received.filter((r) => r.body.model === model).length;
const served = () => String(up.received.at(-1)!.body.model);
const getJson = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${gw.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
};
type Health = { circuit: string; failures: number; openUntil?: string };
const healthOf = async (model: string, target: string): Promise<Health> => {
  const { body } = await getJson<{ models: Array<{ name: string; targets: Array<{ model: string; health: Health }> }> }>('/admin/models');
  return body.models.find((m) => m.name === model)!.targets.find((t) => t.model === target)!.health;
};
async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}
const decide = async (model: string, session?: string) =>
  (await getJson<Decision>('/admin/routing/decide', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session ? { 'x-session-id': session } : {}) },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
  })).body;

describe('circuit breaker', () => {
  it('opens after consecutive failures, skips the target, half-opens for one probe and closes', async () => {
    up.modes.set('cb-a', 'fail-500');
    await ask('breaker');
    expect(await healthOf('breaker', 'cb-a')).toMatchObject({ circuit: 'closed', failures: 1 });
    await ask('breaker');
    expect(calls('cb-a')).toBe(2);
    expect(await healthOf('breaker', 'cb-a')).toMatchObject({ circuit: 'open', failures: 2, openUntil: expect.any(String) });

    // open: skipped by ordering, not tried
    await ask('breaker');
    expect(calls('cb-a')).toBe(2);
    expect(served()).toBe('cb-b');
    const d = await decide('breaker');
    expect(d.skipped).toMatchObject([{ model: 'cb-a', decision: 'skipped', reasons: [expect.any(String), expect.stringMatching(/^failover: circuit open until .* after 2 consecutive failures$/)] }]);

    // half-open with the target still failing: the probe fails and the circuit opens again
    await until(async () => (await healthOf('breaker', 'cb-a')).circuit === 'half-open');
    await ask('breaker');
    expect(calls('cb-a')).toBe(3);
    expect((await healthOf('breaker', 'cb-a')).circuit).toBe('open');

    // recovered: the next probe succeeds and closes the circuit
    up.modes.delete('cb-a');
    await until(async () => (await healthOf('breaker', 'cb-a')).circuit === 'half-open');
    expect((await decide('breaker')).candidates[0]!.reasons).toContain('failover: circuit half-open: this request would be the probe; up to 0 same-target retries');
    await ask('breaker');
    expect(served()).toBe('cb-a');
    expect(await healthOf('breaker', 'cb-a')).toMatchObject({ circuit: 'closed', failures: 0 });
    await ask('breaker');
    expect(served()).toBe('cb-a');
  });
});

describe('sticky sessions', () => {
  it('keeps a session on its target, moves the binding when that target fails, and never pins it back', async () => {
    await ask('sess', 'alpha');
    const first = served();
    for (let i = 0; i < 6; i++) {
      await ask('sess', 'alpha', `again ${i}`);
      expect(served()).toBe(first);
    }
    up.modes.set(first, 'fail-500');
    const res = await ask('sess', 'alpha', 'during outage');
    expect(res.choices[0]!.message.content).toBe('echo: during outage');
    const second = served();
    expect(second).not.toBe(first);
    up.modes.delete(first);
    for (let i = 0; i < 4; i++) {
      await ask('sess', 'alpha');
      expect(served()).toBe(second);
    }
    const { body } = await getJson<SessionInfo>('/admin/sessions/alpha');
    expect(body.bindings).toEqual([{ model: 'sess', provider: expect.any(String), targetModel: second, boundAt: expect.any(String), usedAt: expect.any(String) }]);
  });

  it('puts the bound target first even when it has a worse priority (decide shows it)', async () => {
    up.modes.set('pin-a', 'fail-401');
    await ask('pinned', 'beta');
    expect(served()).toBe('pin-b');
    up.modes.delete('pin-a');
    await ask('pinned', 'beta');
    expect(served()).toBe('pin-b');
    const d = await decide('pinned', 'beta');
    expect(d.candidates.map((c) => [c.model, c.decision])).toEqual([
      ['pin-b', 'reordered'],
      ['pin-a', 'kept'],
    ]);
    expect(d.candidates[0]!.reasons).toContain('sticky: session "beta" is bound to this target; moved first');
    const fresh = await decide('pinned', 'nobody');
    expect(fresh.candidates.map((c) => c.model)).toEqual(['pin-a', 'pin-b']);
  });

  it('a session bound to a target whose circuit opened elsewhere moves on without calling it', async () => {
    await ask('cb-sess', 'delta');
    expect(served()).toBe('cbs-x');
    up.modes.set('cbs-x', 'fail-500');
    for (let i = 0; i < 2; i++) await ask('a/cbs-x').catch(() => undefined); // other traffic opens its circuit
    expect((await healthOf('cb-sess', 'cbs-x')).circuit).toBe('open');
    const before = calls('cbs-x');
    const res = await ask('cb-sess', 'delta', 'while open');
    expect(res.choices[0]!.message.content).toBe('echo: while open');
    expect(served()).toBe('cbs-y');
    expect(calls('cbs-x')).toBe(before); // skipped by ordering, not tried
    const { body } = await getJson<SessionInfo>('/admin/sessions/delta');
    expect(body.bindings).toMatchObject([{ model: 'cb-sess', targetModel: 'cbs-y' }]);
    up.modes.delete('cbs-x');
    await ask('cb-sess', 'delta');
    expect(served()).toBe('cbs-y');
  });

  it('records the session context (streamed answers too), serves and deletes it', async () => {
    await ask('sess', 'gamma', 'first question');
    const stream = await client.chat.completions.create(
      { model: 'sess', stream: true, messages: [{ role: 'user', content: 'second question' }] },
      { headers: { 'x-session-id': 'gamma' } },
    );
    for await (const _ of stream) void _;
    type Ctx = { session: string; exchanges: Array<{ input: string; output: string; stream: boolean; status: number; model: string }> };
    let ctx: Ctx = { session: '', exchanges: [] };
    await until(async () => (ctx = (await getJson<Ctx>('/context/gamma')).body).exchanges.length === 2);
    expect(ctx.exchanges).toMatchObject([
      { model: 'sess', input: 'first question', output: 'echo: first question', stream: false, status: 200 },
      { model: 'sess', input: 'second question', output: 'echo: second question', stream: true, status: 200 },
    ]);
    expect((await getJson<Ctx>('/context/gamma', { method: 'DELETE' })).body).toEqual({ session: 'gamma', deleted: true });
    expect((await getJson<Ctx>('/context/gamma')).body.exchanges).toEqual([]);
    expect((await getJson<SessionInfo>('/admin/sessions/gamma')).body.bindings).toHaveLength(1);
    expect((await getJson('/admin/sessions/gamma', { method: 'DELETE' })).body).toEqual({ session: 'gamma', deleted: true });
    expect((await getJson('/admin/sessions/gamma')).status).toBe(404);
  });
});

describe('routing API', () => {
  it('GET /admin/providers lists providers without secrets', async () => {
    const { status, body } = await getJson<{ providers: Array<Record<string, unknown>> }>('/admin/providers');
    expect(status).toBe(200);
    expect(body.providers.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(body.providers[0]).toMatchObject({ kind: 'openai', format: 'openai', baseURL: `${up.url}/v1` });
    expect(JSON.stringify(body)).not.toContain('sk-up');
  });
});
