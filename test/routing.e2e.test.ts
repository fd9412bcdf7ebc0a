/**
 * Failover end to end: the official SDKs → the gateway → mock OpenAI upstreams (real HTTP) that
 * fail on demand. Each rule: 5xx/timeouts/connection errors retry then move on, 401/403/429 move
 * on at once (Retry-After honoured), other 4xx go back unchanged, all-failed → 502 in the
 * caller's format; streams fail over before the first token and end honestly after it; a
 * request deadline bounds all attempts but not a stream that has started.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, definePlugin, failover, openai, type AttemptRecord, type TestGateway } from 'switchyard';
import { openaiUpstream, sleep, type MockUpstream } from './fixtures/upstream.ts';

const KEY = 'sk-test-secret-key-123456';
let up: MockUpstream;
let gw: TestGateway;
let fast: TestGateway;
let client: OpenAI;
const spied: AttemptRecord[][] = [];

/** Records each request's attempts (placed before failover, it sees them all once it returns). */
const spy = () =>
  definePlugin({
    name: 'spy',
    async middleware(ctx, next) {
      try {
        await next();
      } finally {
        spied.push([...ctx.state.attempts]);
      }
    },
  });

beforeAll(async () => {
  up = await openaiUpstream();
  const at = (timeoutMs?: number) => openai({ baseURL: `${up.url}/v1`, apiKey: KEY, timeoutMs });
  gw = await createTestGateway({
    config: {
      providers: { a: at(), b: at(), c: at(), quick: at(300), dead: openai({ baseURL: 'http://127.0.0.1:9/v1', apiKey: KEY }) },
      models: {
        'retry-5xx': [{ provider: 'a', model: 'fail-500' }, { provider: 'b', model: 'ok-5xx', priority: 1 }],
        'retry-own': [{ provider: 'a', model: 'fail-502', retries: 0 }, { provider: 'b', model: 'ok-own', priority: 1 }],
        timeout: [{ provider: 'quick', model: 'hang', retries: 0 }, { provider: 'b', model: 'ok-timeout', priority: 1 }],
        'target-timeout': [{ provider: 'a', model: 'hang', timeoutMs: 300, retries: 0 }, { provider: 'b', model: 'ok-tt', priority: 1 }],
        conn: [{ provider: 'a', model: 'reset' }, { provider: 'dead', model: 'x', priority: 1 }, { provider: 'b', model: 'ok-conn', priority: 2 }],
        auth: [{ provider: 'a', model: 'fail-401' }, { provider: 'b', model: 'fail-403', priority: 1 }, { provider: 'c', model: 'ok-auth', priority: 2 }],
        limited: [{ provider: 'a', model: 'fail-429-after-30' }, { provider: 'b', model: 'ok-limited', priority: 1 }],
        'bad-request': [{ provider: 'a', model: 'fail-400' }, { provider: 'b', model: 'ok-never', priority: 1 }],
        'all-fail': [{ provider: 'a', model: 'fail-500', retries: 0 }, { provider: 'b', model: 'fail-401', priority: 1 }, { provider: 'c', model: 'reset', priority: 2, retries: 0 }],
        'stream-early': [
          { provider: 'a', model: 'reset-before-first-event', retries: 0 },
          { provider: 'quick', model: 'stall-stream', retries: 0, priority: 1 },
          { provider: 'b', model: 'fail-500', retries: 0, priority: 2 },
          { provider: 'c', model: 'ok-stream', priority: 3 },
        ],
        'stream-late': [{ provider: 'a', model: 'reset-mid-stream' }, { provider: 'b', model: 'ok-late', priority: 1 }],
        'stream-slow': [{ provider: 'quick', model: 'slow-stream' }, { provider: 'b', model: 'ok-slow', priority: 1 }],
      },
      pipeline: [spy(), failover({ retries: 2, backoff: { baseMs: 5, maxMs: 20 }, circuit: false })],
    },
  });
  fast = await createTestGateway({
    config: {
      providers: { a: at(), b: at() },
      models: { deadline: [{ provider: 'a', model: 'hang' }, { provider: 'b', model: 'ok-deadline', priority: 1 }], slow: { provider: 'a', model: 'gated' } },
      pipeline: [failover({ deadlineMs: 1000, circuit: false })],
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await fast?.close();
  await up?.close();
});

const ask = (model: string, c = client) => c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
const calls = (model: string) => up.received.filter((r) => r.body.model === model).length;
const lastAttempts = () => spied.at(-1)!.map((a) => `${a.provider}/${a.model}:${a.status ?? 'stream'}`);

describe('failover rules', () => {
  it('5xx: retries the same target with backoff, then moves on', async () => {
    const res = await ask('retry-5xx');
    expect(res.choices[0]!.message.content).toBe('echo: hi');
    expect(lastAttempts()).toEqual(['a/fail-500:500', 'a/fail-500:500', 'a/fail-500:500', 'b/ok-5xx:200']);
  });

  it("a target's own retries win over the plugin's", async () => {
    await ask('retry-own');
    expect(lastAttempts()).toEqual(['a/fail-502:502', 'b/ok-own:200']);
  });

  it('a timeout (upstream hangs past timeoutMs) moves on and aborts the hung request', async () => {
    const aborted = up.aborted.length;
    const res = await ask('timeout');
    expect(res.choices[0]!.message.content).toBe('echo: hi');
    expect(spied.at(-1)!.map((a) => a.code ?? a.status)).toEqual(['upstream_timeout', 200]);
    for (let i = 0; i < 100 && up.aborted.length === aborted; i++) await sleep(20);
    expect(up.aborted.length).toBeGreaterThan(aborted);
  });

  it("a target's own timeoutMs bounds it on a provider without one", async () => {
    const res = await ask('target-timeout');
    expect(res.choices[0]!.message.content).toBe('echo: hi');
    expect(spied.at(-1)!.map((a) => a.code ?? a.status)).toEqual(['upstream_timeout', 200]);
  });

  it('connection resets and unreachable upstreams retry, then move on', async () => {
    const res = await ask('conn');
    expect(res.choices[0]!.message.content).toBe('echo: hi');
    const codes = spied.at(-1)!.map((a) => a.code ?? a.status);
    expect(codes).toEqual([...Array(6).fill('upstream_unreachable'), 200]);
  });

  it('401 and 403 move on at once, without retries', async () => {
    const res = await ask('auth');
    expect(res.choices[0]!.message.content).toBe('echo: hi');
    expect(lastAttempts()).toEqual(['a/fail-401:401', 'b/fail-403:403', 'c/ok-auth:200']);
  });

  it('429 moves on at once and its Retry-After keeps the target out until then', async () => {
    await ask('limited');
    expect(lastAttempts()).toEqual(['a/fail-429-after-30:429', 'b/ok-limited:200']);
    const before = calls('fail-429-after-30');
    await ask('limited');
    expect(lastAttempts()).toEqual(['b/ok-limited:200']);
    expect(calls('fail-429-after-30')).toBe(before);
  });

  it('other 4xx go back to the client unchanged; no other target is tried', async () => {
    const err = await ask('bad-request').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain('upstream says 400');
    expect(lastAttempts()).toEqual(['a/fail-400:400']);
    expect(calls('ok-never')).toBe(0);
  });

  it('all failed → 502 with a safe summary of the attempts (OpenAI format)', async () => {
    const err = await ask('all-fail').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(err.code).toBe('all_targets_failed');
    expect(err.message).toContain('a/fail-500 500');
    expect(err.message).toContain('b/fail-401 401');
    expect(err.message).toContain('c/reset unreachable');
    expect(err.message).not.toContain('upstream says');
    expect(err.message).not.toContain('sk-test');
  });

  it('all failed → 502 in the Anthropic format for an Anthropic client', async () => {
    const claude = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const err = await claude.messages.create({ model: 'all-fail', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(502);
    expect(err.error).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.stringContaining('a/fail-500 500') } });
    expect(JSON.stringify(err.error)).not.toContain('upstream says');
  });

  it('an Anthropic client is failed over to a working OpenAI target, converted', async () => {
    const claude = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const res = await claude.messages.create({ model: 'retry-5xx', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.content[0]).toMatchObject({ type: 'text', text: 'echo: hi' });
    expect(lastAttempts().at(-1)).toBe('b/ok-5xx:200');
  });
});

describe('streams', () => {
  it('fails over before the first token: reset, stalled and 5xx streams are skipped', async () => {
    const stream = await client.chat.completions.create({ model: 'stream-early', stream: true, messages: [{ role: 'user', content: 'a b c' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: a b c');
    const kind = (a: AttemptRecord) => (a.code?.startsWith('upstream_') ? a.code : (a.status ?? 'stream'));
    expect(spied.at(-1)!.map((a) => `${a.model}:${kind(a)}`)).toEqual([
      'reset-before-first-event:upstream_unreachable',
      'stall-stream:upstream_timeout',
      'fail-500:500',
      'ok-stream:stream',
    ]);
  });

  it('after the first token a failure is an honest in-stream error: no switch, no [DONE]', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stream-late', stream: true, messages: [{ role: 'user', content: 'a b c d' }] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('echo: ');
    expect(text).toContain('"error"');
    expect(text).not.toContain('[DONE]');
    expect(calls('ok-late')).toBe(0);
    const sdk = await (async () => {
      const s = await client.chat.completions.create({ model: 'stream-late', stream: true, messages: [{ role: 'user', content: 'a b c d' }] });
      let got = '';
      for await (const c of s) got += c.choices[0]?.delta.content ?? '';
      return got;
    })().catch((e) => e);
    expect(sdk).toBeInstanceOf(Error);
    expect(calls('ok-late')).toBe(0);
  });

  it('a slow stream longer than its timeoutMs (but with short gaps) is relayed whole, not failed over', async () => {
    const stream = await client.chat.completions.create({ model: 'stream-slow', stream: true, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    let chunks = 0;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      chunks++;
    }
    expect(text).toBe('p0 p1 p2 p3 p4 p5 p6 p7 ');
    expect(chunks).toBeGreaterThanOrEqual(9);
    expect(calls('ok-slow')).toBe(0);
  });
});

describe('request deadline', () => {
  it('bounds all attempts: a hung target uses it up and the client gets 504', async () => {
    const t0 = Date.now();
    const err = await ask('deadline', new OpenAI({ baseURL: `${fast.url}/v1`, apiKey: 'k', maxRetries: 0 })).catch((e) => e);
    expect(err.status).toBe(504);
    expect(err.code).toBe('deadline_exceeded');
    expect(err.message).toContain('a/hang timeout');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(calls('ok-deadline')).toBe(0);
  });

  it('does not cut a stream that started before the deadline', async () => {
    const c = new OpenAI({ baseURL: `${fast.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const t0 = Date.now();
    const stream = await c.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'a b c' }] });
    const it = stream[Symbol.asyncIterator]();
    let text = '';
    for (let i = 0; i < 2; i++) text += (await it.next()).value.choices[0]?.delta.content ?? ''; // role, then 'echo: '
    await sleep(Math.max(0, 1200 - (Date.now() - t0))); // the upstream holds the rest past the deadline
    up.release();
    for (let r = await it.next(); !r.done; r = await it.next()) text += r.value.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: a b c');
    expect(Date.now() - t0).toBeGreaterThan(1000);
  });
});
