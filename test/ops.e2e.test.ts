/**
 * Operations end to end: the gateway's own pino output captured in-process — one access line
 * per request (non-stream, stream, failed, client-aborted) with every field, failed failover
 * attempts at warn, request ids from the client through the log to the upstream and back, no
 * secret in any line. Readiness and probe logging: test/readiness.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestGateway, definePlugin, failover, openai, type TestGateway } from 'switchyard';
import { openaiUpstream, sleep, type MockUpstream } from './fixtures/upstream.ts';

const UPSTREAM_KEY = 'sk-test-secret-key-123456'; // also what the upstream's 401 body echoes
const CLIENT_KEY = 'sk-client-key-abcdef123';
const GOOGLE_KEY = 'AIzaClientQueryKey1234567';
const HEADER_KEY = 'client-x-api-key-987654';
const CONFIG_SECRET = 'tenant-token-55555';

type Line = Record<string, unknown> & { msg?: string; level?: number; requestId?: string };
const lines: string[] = [];
const logged = (): Line[] => lines.map((l) => JSON.parse(l) as Line);
const accessLines = (id: string) => logged().filter((l) => l.msg === 'request' && l.requestId === id);

async function accessLine(id: string, ms = 5000): Promise<Line> {
  const end = Date.now() + ms;
  while (!accessLines(id).length) {
    if (Date.now() > end) throw new Error(`no access line for ${id}`);
    await sleep(10);
  }
  await sleep(50); // a second line would have been written by now
  const found = accessLines(id);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** Logs what a careless plugin might: headers, the raw URL, the providers with their keys. */
const leaky = () =>
  definePlugin({
    name: 'leaky',
    secrets: [CONFIG_SECRET],
    setup(r) {
      r.logger.info({ providers: r.config.providers, token: CONFIG_SECRET }, 'providers at setup');
    },
    async middleware(ctx, next) {
      ctx.state.logger.info({ headers: ctx.headers, url: ctx.url }, 'inbound');
      await next();
    },
  });

let up: MockUpstream;
let gw: TestGateway;

beforeAll(async () => {
  up = await openaiUpstream();
  gw = await createTestGateway({
    logStream: { write: (s: string) => void lines.push(s) },
    config: {
      providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: UPSTREAM_KEY }) },
      models: {
        chat: { provider: 'oa', model: 'up-chat' },
        gated: { provider: 'oa', model: 'gated' },
        hang: { provider: 'oa', model: 'hang' },
        broken: { provider: 'oa', model: 'fail-500' },
        'bad-key': { provider: 'oa', model: 'fail-401' },
        flaky: [
          { provider: 'oa', model: 'fail-503', priority: 1 },
          { provider: 'oa', model: 'up-chat', priority: 2 },
        ],
      },
      pipeline: [
        auth({ keys: [{ name: 'team-a', key: CLIENT_KEY }, { name: 'gem-client', key: GOOGLE_KEY }] }),
        leaky(),
        failover({ retries: 0 }),
      ],
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}`, 'x-api-key': HEADER_KEY, ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'one two' }], ...body }),
  });

describe('access lines', () => {
  it('non-stream: one line with every field; the client request id reaches the log, the upstream and the response', async () => {
    const res = await chat({ model: 'chat' }, { 'x-request-id': 'client-req:42.a_b' });
    expect(res.status).toBe(200);
    await res.json();
    expect(res.headers.get('x-request-id')).toBe('client-req:42.a_b');
    expect(up.received.at(-1)!.headers['x-request-id']).toBe('client-req:42.a_b');
    const line = await accessLine('client-req:42.a_b');
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/v1/chat/completions',
      format: 'openai',
      model: 'chat',
      provider: 'oa',
      targetModel: 'up-chat',
      status: 200,
      stream: false,
      attempts: 1,
      keyName: 'team-a',
      inputTokens: 10,
      outputTokens: 5,
      aborted: false,
    });
    expect(line.durationMs).toEqual(expect.any(Number));
    // every line of the request carries its id
    expect(logged().some((l) => l.msg === 'inbound' && l.requestId === 'client-req:42.a_b')).toBe(true);
  });

  it('stream: one line once the stream ended, with time to first byte; an unsafe id is replaced', async () => {
    const res = await chat({ model: 'chat', stream: true, stream_options: { include_usage: true } }, { 'x-request-id': 'bad id with spaces' });
    const text = await res.text();
    expect(text).toContain('[DONE]');
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(up.received.at(-1)!.headers['x-request-id']).toBe(id);
    const line = await accessLine(id);
    expect(line).toMatchObject({ status: 200, stream: true, model: 'chat', provider: 'oa', attempts: 1, outputTokens: 5, aborted: false });
    expect(line.ttfbMs).toEqual(expect.any(Number));
    expect(line.ttfbMs as number).toBeLessThanOrEqual(line.durationMs as number);
  });

  it('failed: the error response echoes the id; the line has the status and the error code', async () => {
    const res = await chat({ model: 'broken' }, { 'x-request-id': 'failing-1' });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('failing-1');
    expect(await accessLine('failing-1')).toMatchObject({ status: 500, provider: 'oa', attempts: 1, aborted: false, error: expect.any(String) });
    const notFound = await fetch(`${gw.url}/v1/nothing`, { headers: { 'x-request-id': 'no-route-1' } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-request-id')).toBe('no-route-1');
    expect(await accessLine('no-route-1')).toMatchObject({ status: 404, path: '/v1/nothing', attempts: 0 });
  });

  it('failover: each failed attempt at warn with provider and status, then one line counting the attempts', async () => {
    const res = await chat({ model: 'flaky' }, { 'x-request-id': 'flaky-1' });
    expect(res.status).toBe(200);
    const line = await accessLine('flaky-1');
    expect(line).toMatchObject({ status: 200, attempts: 2, targetModel: 'up-chat' });
    const warns = logged().filter((l) => l.requestId === 'flaky-1' && l.msg === 'upstream attempt failed');
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ level: 40, provider: 'oa', targetModel: 'fail-503', status: 503 });
  });

  it('client aborted before the answer: one line, status 499, aborted', async () => {
    const ac = new AbortController();
    const pending = chat({ model: 'hang' }, { 'x-request-id': 'abort-1' }, ac.signal).catch((e: Error) => e);
    for (let i = 0; i < 250 && up.received.at(-1)?.headers['x-request-id'] !== 'abort-1'; i++) await sleep(20);
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    expect(await accessLine('abort-1')).toMatchObject({ status: 499, aborted: true, model: 'hang', provider: 'oa' });
  });

  it('client aborted mid-stream: one line, aborted, after the first byte', async () => {
    const ac = new AbortController();
    const res = await chat({ model: 'gated', stream: true }, { 'x-request-id': 'abort-2' }, ac.signal);
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    const line = await accessLine('abort-2');
    up.release();
    expect(line).toMatchObject({ status: 200, stream: true, aborted: true });
    expect(line.ttfbMs).toEqual(expect.any(Number));
  });
});

describe('secrets', () => {
  it('no key used by this run appears in any line of its log', async () => {
    const gem = await fetch(`${gw.url}/v1beta/models/chat:generateContent?key=${GOOGLE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': GOOGLE_KEY, 'x-request-id': 'gemini-1' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(gem.status).toBe(200);
    expect(await accessLine('gemini-1')).toMatchObject({ format: 'gemini', model: 'chat', status: 200, keyName: 'gem-client' });
    expect((await chat({ model: 'bad-key' })).status).toBe(401); // the upstream's body quotes its key
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    for (const secret of [UPSTREAM_KEY, CLIENT_KEY, GOOGLE_KEY, HEADER_KEY, CONFIG_SECRET]) expect(all).not.toContain(secret);
    expect(all).toContain('[Redacted]');
    expect(logged().some((l) => l.msg === 'inbound' && (l.url as string).includes('key=[Redacted]'))).toBe(true);
  });
});

describe('lifecycle events', () => {
  it('config load and plugin setup have their own msg', () => {
    const msgs = logged().map((l) => l.msg);
    expect(msgs).toContain('config loaded');
    expect(logged().some((l) => l.msg === 'plugin started' && l.plugin === 'leaky')).toBe(true);
  });
});
