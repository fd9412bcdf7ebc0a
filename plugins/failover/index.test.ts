import { describe, expect, it } from 'vitest';
import { ConfigError, createTestGateway, failover, GatewayError, memoryStore, UpstreamError, type GatewayContext, type GatewayRuntime, type Provider, type Target } from 'switchyard';
import { gatedStore } from '../../test/fixtures/gated-store.ts';
import { createHealth, retryAfterUntil } from './health.ts';
import { allFailed, backoffMs, classify } from './rules.ts';

const t = { provider: 'p', model: 'm' };
const up = (status: number, code = 'upstream_error') => new UpstreamError(code, 'x', { status, provider: 'p', upstreamStatus: status });

describe('rules', () => {
  it('classifies failures', () => {
    expect([500, 502, 503, 529].map((s) => classify(up(s)))).toEqual(['retry', 'retry', 'retry', 'retry']);
    expect(classify(new UpstreamError('upstream_timeout', 'x', { status: 504, provider: 'p' }))).toBe('retry');
    expect(classify(new UpstreamError('upstream_unreachable', 'x', { status: 502, provider: 'p' }))).toBe('retry');
    expect([401, 403, 429].map((s) => classify(up(s)))).toEqual(['next', 'next', 'next']);
    expect(classify(new GatewayError('rate_limit_exceeded', 'target limit', { status: 429 }))).toBe('next');
    expect(classify(new GatewayError('unsupported_operation', 'x', { status: 400 }))).toBe('next');
    expect(classify(new UpstreamError('overloaded', 'busy', { status: 503, provider: 'p' }))).toBe('next'); // busy, not broken
    expect([400, 404, 413, 422].map((s) => classify(up(s)))).toEqual(['fatal', 'fatal', 'fatal', 'fatal']);
    expect(classify(new UpstreamError('client_aborted', 'x', { status: 499, provider: 'p' }))).toBe('fatal');
  });

  it('backs off exponentially with jitter, capped', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(backoffMs(1, o, () => 0)).toBe(50);
    expect(backoffMs(1, o, () => 0.999)).toBe(100);
    expect(backoffMs(3, o, () => 0)).toBe(200);
    expect(backoffMs(10, o, () => 1)).toBe(1000);
  });

  it('reads Retry-After as seconds or a date, capped', () => {
    const now = 1_000_000;
    expect(retryAfterUntil('3', 60_000, now)).toBe(now + 3000);
    expect(retryAfterUntil(new Date(now + 5000).toUTCString(), 60_000, now)).toBeGreaterThanOrEqual(now + 4000);
    expect(retryAfterUntil('86400', 60_000, now)).toBe(now + 60_000);
    expect(retryAfterUntil('soon', 60_000, now)).toBeUndefined();
    expect(retryAfterUntil('0', 60_000, now)).toBeUndefined();
    expect(retryAfterUntil(undefined, 60_000, now)).toBeUndefined();
  });

  it('summarises attempts without bodies; 504 when the deadline ran out', () => {
    const attempts = [
      { provider: 'a', model: 'x', status: 500, code: 'api_error', durationMs: 1 },
      { provider: 'b', model: 'y', status: 504, code: 'upstream_timeout', durationMs: 1 },
    ];
    const e = allFailed(attempts, { deadline: false, deadlineMs: 1, retryAfter: '2' });
    expect([e.status, e.code, e.expose, e.headers['retry-after']]).toEqual([502, 'all_targets_failed', true, '2']);
    expect(e.message).toBe('all targets failed (2 attempts: a/x 500, b/y timeout)');
    expect(allFailed(attempts, { deadline: true, deadlineMs: 50 }).status).toBe(504);
  });
});

describe('health', () => {
  const health = (o = {}) => createHealth(memoryStore(), { failureThreshold: 2, cooldownMs: 300, ...o });

  it('opens after consecutive failures; a success resets the count', async () => {
    const h = health();
    await h.failure(t, false);
    await h.success(t, false, false);
    expect(await h.read(t)).toEqual({ circuit: 'closed', failures: 0 });
    expect(await h.failure(t, false)).toBe(false);
    expect(await h.failure(t, false)).toBe(true);
    expect((await h.read(t)).circuit).toBe('open');
    expect(await h.admit(t, false)).toMatchObject({ ok: false, reason: expect.stringContaining('circuit open until') });
  });

  it('half-open admits exactly one probe; a dry run claims nothing', async () => {
    const h = health();
    await h.failure(t, false);
    await h.failure(t, false);
    await new Promise((r) => setTimeout(r, 350));
    expect((await h.read(t)).circuit).toBe('half-open');
    expect(await h.admit(t, true)).toMatchObject({ ok: true, probe: true });
    const [one, two] = await Promise.all([h.admit(t, false), h.admit(t, false)]);
    expect([one.ok, two.ok].sort()).toEqual([false, true]);
    await h.release(t);
    expect(await h.admit(t, false)).toMatchObject({ ok: true, probe: true });
  });

  it('a failed probe reopens; a successful one closes', async () => {
    const h = health();
    await h.failure(t, false);
    await h.failure(t, false);
    await new Promise((r) => setTimeout(r, 350));
    await h.admit(t, false);
    expect(await h.failure(t, true)).toBe(true);
    expect((await h.read(t)).circuit).toBe('open');
    await new Promise((r) => setTimeout(r, 350));
    await h.admit(t, false);
    await h.success(t, true, false);
    expect(await h.read(t)).toEqual({ circuit: 'closed', failures: 0 });
  });

  it('keeps a target out until its Retry-After, even with the circuit disabled', async () => {
    const h = createHealth(memoryStore(), false);
    await h.unavailable(t, Date.now() + 300);
    expect(await h.admit(t, false)).toMatchObject({ ok: false, reason: expect.stringContaining('Retry-After') });
    await new Promise((r) => setTimeout(r, 350));
    expect(await h.admit(t, false)).toMatchObject({ ok: true });
    expect(await h.failure(t, false)).toBe(false);
  });
});

describe('failover()', () => {
  it('rejects bad options at load time', () => {
    expect(() => failover({ retries: -1 })).toThrow(ConfigError);
    expect(() => failover({ deadlineMs: 0 })).toThrow('failover: "deadlineMs" must be a positive number');
    expect(() => failover({ circuit: { cooldownMs: Number.NaN } })).toThrow(ConfigError);
  });

  it('answers 503 with Retry-After when every target is cooling down, then recovers', async () => {
    let calls = 0;
    const flaky: Provider = {
      kind: 'test',
      format: 'openai',
      async call() {
        calls++;
        throw new UpstreamError('upstream_error', 'boom', { status: 500, provider: 'flaky', upstreamStatus: 500 });
      },
    };
    const gw = await createTestGateway({
      config: { providers: { flaky }, models: { m: { provider: 'flaky', model: 'x' } }, pipeline: [failover({ retries: 0, circuit: { failureThreshold: 1, cooldownMs: 60_000 } })] },
    });
    try {
      const post = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
      expect((await post()).status).toBe(500); // the only target's own error
      const res = await post();
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_available_target');
      expect(calls).toBe(1);
    } finally {
      await gw.close();
    }
  });

  it('answers 429 at once while the only target asked to wait (Retry-After)', async () => {
    let calls = 0;
    const limited: Provider = {
      kind: 'test',
      format: 'openai',
      async call() {
        calls++;
        throw new UpstreamError('rate_limit_exceeded', 'slow down', { status: 429, provider: 'limited', upstreamStatus: 429, headers: { 'retry-after': '30' } });
      },
    };
    const gw = await createTestGateway({ config: { providers: { limited }, models: { m: 'limited/x' }, pipeline: [failover()] } });
    try {
      const post = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
      const first = await post();
      expect([first.status, first.headers.get('retry-after')]).toEqual([429, '30']);
      const second = await post();
      expect(second.status).toBe(429);
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(25);
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
      expect(calls).toBe(1);
    } finally {
      await gw.close();
    }
  });

  it('stops retrying when the client goes away during a backoff', async () => {
    let calls = 0;
    const failing: Provider = {
      kind: 'test',
      format: 'openai',
      async call() {
        calls++;
        throw new UpstreamError('upstream_error', 'boom', { status: 503, provider: 'failing', upstreamStatus: 503 });
      },
    };
    const gw = await createTestGateway({
      config: { providers: { failing }, models: { m: 'failing/x' }, pipeline: [failover({ retries: 5, backoff: { baseMs: 400, maxMs: 400 }, circuit: false })] },
    });
    try {
      const ac = new AbortController();
      const pending = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', signal: ac.signal, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) }).catch((e) => e);
      for (let i = 0; i < 100 && calls === 0; i++) await new Promise((r) => setTimeout(r, 10));
      ac.abort();
      expect(await pending).toBeInstanceOf(Error);
      await new Promise((r) => setTimeout(r, 500));
      expect(calls).toBe(1);
    } finally {
      await gw.close();
    }
  });
});

describe('store round trips (each one a network hop on Redis)', () => {
  /** The failover middleware alone, on a store that counts sequential round trips. */
  const harness = async (candidates: Target[]) => {
    const g = gatedStore();
    const plugin = failover();
    await plugin.setup!({ sharedStore: g.store, metrics: { gauge: () => ({ set() {} }) } } as unknown as GatewayRuntime);
    const done: Array<() => unknown> = [];
    const state = { candidates, request: { model: 'm' }, signal: new AbortController().signal, startedAt: Date.now(), attempts: [], onDone: (fn: () => unknown) => done.push(fn), logger: { warn() {} } };
    return { g, plugin, done, ctx: { headerSent: false, state } as unknown as GatewayContext };
  };

  it('a healthy request waits for one round trip before dispatch and none after the answer', async () => {
    const { g, plugin, ctx, done } = await harness([{ provider: 'a', model: 'x' }, { provider: 'b', model: 'y' }]);
    let dispatched = false;
    let finished = false;
    const run = plugin.middleware!(ctx, async () => {
      dispatched = true;
      ctx.state.result = { type: 'json', format: 'openai', body: {} };
    }).then(() => (finished = true));
    expect(await g.rounds(() => dispatched)).toBe(1); // every target's health read at once
    expect(await g.rounds(() => finished)).toBe(0); // the success is recorded off the response path
    await run;
    await g.through(Promise.all(done.map((fn) => fn()))); // ... and still recorded (the drain waits for it)
  });

  it('a success recorded off the path still closes a half-open circuit', async () => {
    const { g, plugin, ctx, done } = await harness([{ provider: 'a', model: 'x' }]);
    const health = createHealth(g.store, { failureThreshold: 1, cooldownMs: 1 });
    await g.through(health.failure({ provider: 'a', model: 'x' }, false)); // threshold 1: open
    await new Promise((r) => setTimeout(r, 5));
    await g.through(plugin.middleware!(ctx, async () => void (ctx.state.result = { type: 'json', format: 'openai', body: {} })));
    await g.through(Promise.all(done.map((fn) => fn())));
    expect(await g.through(plugin.health({ provider: 'a', model: 'x' }))).toEqual({ circuit: 'closed', failures: 0 });
  });
});
