/**
 * Readiness and probes end to end: `/ready` turns 503 as shutdown begins while an open stream
 * still completes, and probe/scrape access lines are written at `debug` when they succeed (a
 * load balancer probing every few seconds would otherwise fill the log) but at `info` when they
 * fail; shutdown lets `onDone` callbacks (usage records) finish before plugins close. The
 * gateway's pino output is captured in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, definePlugin, mock, openai } from 'switchyard';
import { openaiUpstream, type MockUpstream } from './fixtures/upstream.ts';

const UPSTREAM_KEY = 'sk-readiness-upstream-key-42';

type Line = Record<string, unknown> & { msg?: string; level?: number; requestId?: string };

let up: MockUpstream;
beforeAll(async () => {
  up = await openaiUpstream();
});
afterAll(async () => {
  await up?.close();
});

describe('readiness', () => {
  it('/ready turns 503 as shutdown begins, while an open stream still completes', async () => {
    const own: string[] = [];
    const g = await createTestGateway({
      logStream: { write: (s: string) => void own.push(s) },
      logLevel: 'debug',
      config: {
        providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: UPSTREAM_KEY }) },
        models: { gated: { provider: 'oa', model: 'gated' } },
        pipeline: [definePlugin({ name: 'closer', close() {} })],
      },
    });
    const probe = (path: string, id: string) => fetch(`${g.url}${path}`, { headers: { 'x-request-id': id } });
    const ready = await probe('/ready', 'ready-before');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    expect((await probe('/health', 'health-before')).status).toBe(200);
    expect((await probe('/metrics', 'scrape-before')).status).toBe(200); // loopback, no admin key configured
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gated', stream: true, messages: [{ role: 'user', content: 'a b c' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const closed = g.close();
    const during = await probe('/ready', 'ready-during');
    expect(during.status).toBe(503);
    expect(await during.json()).toEqual({ status: 'unavailable', reason: 'shutting down', version: 1 });
    expect((await fetch(`${g.url}/health`)).status).toBe(200);
    up.release();
    let rest = '';
    const decoder = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
    expect(rest).toContain('[DONE]');
    await closed;
    await expect(fetch(`${g.url}/ready`)).rejects.toThrow();

    const lines = own.map((l) => JSON.parse(l) as Line);
    const msgs = lines.map((l) => l.msg);
    expect(msgs.indexOf('shutting down')).toBeGreaterThan(-1);
    expect(msgs.indexOf('stopped')).toBeGreaterThan(msgs.indexOf('shutting down'));
    expect(lines.some((l) => l.msg === 'plugin closed' && l.plugin === 'closer')).toBe(true);
    // passing probes and scrapes are debug lines; the failing probe during the drain is info
    const access = (id: string) => lines.filter((l) => l.msg === 'request' && l.requestId === id);
    expect(access('ready-before')).toEqual([expect.objectContaining({ level: 20, path: '/ready', status: 200 })]);
    expect(access('health-before')).toEqual([expect.objectContaining({ level: 20, path: '/health', status: 200 })]);
    expect(access('scrape-before')).toEqual([expect.objectContaining({ level: 20, path: '/metrics', status: 200 })]);
    expect(access('ready-during')).toEqual([expect.objectContaining({ level: 30, path: '/ready', status: 503 })]);
    expect(lines.filter((l) => l.msg === 'request' && l.path === '/v1/chat/completions')).toEqual([
      expect.objectContaining({ level: 30, status: 200, stream: true, aborted: false }),
    ]);
    expect(own.join('')).not.toContain(UPSTREAM_KEY);
  });

  it('at the default info level, successful probes and scrapes write no access line', async () => {
    const own: string[] = [];
    const g = await createTestGateway({
      logStream: { write: (s: string) => void own.push(s) },
      config: { providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: UPSTREAM_KEY }) }, models: { chat: { provider: 'oa', model: 'up-chat' } } },
    });
    try {
      for (const path of ['/health', '/ready', '/metrics']) expect((await fetch(`${g.url}${path}`)).status).toBe(200);
      const res = await fetch(`${g.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
    } finally {
      await g.close(); // every access line is written by the time close() resolved
    }
    const access = own.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request');
    expect(access.map((l) => l.path)).toEqual(['/v1/chat/completions']);
  });

  it('shutdown lets onDone callbacks finish before the plugins close', async () => {
    let closed = false;
    let closedDuringCallback: boolean | undefined;
    const slowDone = definePlugin({
      name: 'slow-done',
      close() {
        closed = true;
      },
      async middleware(ctx, next) {
        ctx.state.onDone(async () => {
          await new Promise((r) => setTimeout(r, 200)); // e.g. a usage record written to the store
          closedDuringCallback = closed;
        });
        await next();
      },
    });
    const g = await createTestGateway({ config: { providers: { echo: mock() }, models: { demo: 'echo/echo' }, pipeline: [slowDone] } });
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    await g.close();
    expect(closedDuringCallback).toBe(false);
    expect(closed).toBe(true);
  });
});
