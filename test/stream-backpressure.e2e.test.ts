/**
 * End to end: a client that stops reading a stream holds the upstream back — the gateway never
 * buffers a whole stream — and the stream flows again when the client reads. The upstream here
 * offers 64 MiB of SSE as fast as its socket takes it and counts what it managed to write.
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, definePlugin, GatewayError, openai, type TestGateway } from 'switchyard';

const EVENT = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'big', choices: [{ index: 0, delta: { content: 'x'.repeat(900) }, finish_reason: null }] })}\n\n`;
const OFFERED = 64 << 20;

let server: Server;
let written = 0;
let upstreamClosed: Promise<void>;
let gw: TestGateway;
let failing: TestGateway;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    written = 0;
    upstreamClosed = new Promise((resolve) => res.on('close', () => resolve()));
    const pump = () => {
      while (written < OFFERED && !res.destroyed) {
        written += EVENT.length;
        if (!res.write(EVENT)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('data: [DONE]\n\n');
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = { providers: { oa: openai({ baseURL: `${url}/v1`, apiKey: 'sk-test-backpressure-123456' }) }, models: { big: { provider: 'oa', model: 'big' } } };
  gw = await createTestGateway({ config });
  // a plugin that fails once the answer is set (after `next()`), as a policy check on it might
  const veto = definePlugin({
    name: 'veto',
    async middleware(_ctx, next) {
      await next();
      throw new GatewayError('vetoed', 'the answer was vetoed', { status: 422, expose: true });
    },
  });
  failing = await createTestGateway({ config: { ...config, pipeline: [veto] } });
});

afterAll(async () => {
  await gw?.close();
  await failing?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `written` has not moved for `quietMs` (the pipe is full), at most `maxMs`. */
async function settled(quietMs = 300, maxMs = 10_000): Promise<number> {
  const end = Date.now() + maxMs;
  let last = -1;
  while (Date.now() < end && last !== written) {
    last = written;
    await sleep(quietMs);
  }
  return written;
}

describe('a client that stops reading a stream', () => {
  it('holds the upstream back, and the stream flows again when it reads', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'everything' }] }));
    });
    expect(res.statusCode).toBe(200);
    res.pause(); // read nothing: the client's socket buffer fills, then the gateway's, then the upstream's

    const stalled = await settled();
    // socket buffers on loopback hold a few MiB each way; nowhere near the 64 MiB offered
    expect(stalled).toBeLessThan(24 << 20);
    expect(stalled).toBeGreaterThan(0);

    // reading again: the upstream writes again, well past where it stalled
    let read = 0;
    res.on('data', (c: Buffer) => (read += c.length));
    res.resume();
    const until = Date.now() + 10_000;
    while (written < stalled + (8 << 20) && Date.now() < until) await sleep(20);
    expect(written).toBeGreaterThan(stalled + (8 << 20));
    expect(read).toBeGreaterThan(0);

    // leaving mid-stream reaches the upstream
    res.destroy();
    await upstreamClosed;
    expect(written).toBeLessThan(OFFERED);
  });
});

describe('a plugin that fails after the route set a stream', () => {
  it('answers with its error in the client format, and the upstream stream is released', async () => {
    const res = await fetch(`${failing.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'everything' }] }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { message: 'the answer was vetoed', code: 'vetoed' } });
    await upstreamClosed; // not left streaming into a paused reader until its timeout
    expect(written).toBeLessThan(OFFERED);
  });
});
