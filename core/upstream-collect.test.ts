/**
 * upstreamCollect against a real HTTP server on 127.0.0.1: whole answers, bounded error bodies,
 * informational responses, client aborts before and after the request started, timeouts and an
 * unreachable upstream — each settling exactly once, as the same GatewayErrors as before.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookedAbortController } from './abort.ts';
import { UpstreamError } from './errors.ts';
import { createDispatcher } from './upstream.ts';
import { upstreamCollect } from './upstream-collect.ts';

type Route = (req: IncomingMessage, res: ServerResponse) => void;
const routes: Record<string, Route> = {
  '/chunks': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3' });
    res.write('{"a":');
    setTimeout(() => res.end('1}'), 10);
  },
  '/big-error': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('x'.repeat(300_000));
  },
  '/hints': (_req, res) => {
    res.writeEarlyHints({ link: '</a.css>; rel=preload' });
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  },
  '/echo': (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ body, id: req.headers['x-request-id'], extra: req.headers['x-extra'], ctype: req.headers['content-type'] }));
    });
  },
  '/hang': (req) => {
    hung.push(req);
    req.socket.once('close', () => closed.push(req.url!));
  },
};
const hung: IncomingMessage[] = [];
const closed: string[] = [];
const server = createServer((req, res) => routes[req.url!]!(req, res));
const dispatcher = createDispatcher();
let base = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const req of hung) req.socket.destroy();
  await dispatcher.close();
  await new Promise((r) => server.close(r));
});

const call = (signal = new HookedAbortController().signal) => ({ name: 'up', dispatcher, signal, requestId: 'req-1' });

describe('upstreamCollect', () => {
  it('reads a body that arrives in several chunks, with status and headers', async () => {
    const res = await upstreamCollect(call(), { url: `${base}/chunks`, method: 'GET', headers: {} });
    expect(res.status).toBe(200);
    expect(res.headers['retry-after']).toBe('3');
    expect(JSON.parse(res.bytes.toString())).toEqual({ a: 1 });
  });

  it('sends the JSON body, the request id and the caller headers', async () => {
    const res = await upstreamCollect(call(), { url: `${base}/echo`, headers: { authorization: 'Bearer k' }, moreHeaders: { 'x-extra': 'yes' }, body: { q: 1 } });
    expect(JSON.parse(res.bytes.toString())).toEqual({ body: '{"q":1}', id: 'req-1', extra: 'yes', ctype: 'application/json' });
  });

  it('keeps at most maxErrorBytes of a non-2xx body and settles', async () => {
    const res = await upstreamCollect(call(), { url: `${base}/big-error`, method: 'GET', headers: {} }, 1000);
    expect(res.status).toBe(500);
    expect(res.bytes.length).toBe(1000);
  });

  it('skips informational responses and returns the final one', async () => {
    const res = await upstreamCollect(call(), { url: `${base}/hints`, method: 'GET', headers: {} });
    expect(res.status).toBe(201);
    expect(res.bytes.toString()).toBe('{"ok":true}');
  });

  it('fails at once with client_aborted (499) when the signal is already aborted', async () => {
    const ac = new HookedAbortController();
    ac.abort();
    const err = await upstreamCollect(call(ac.signal), { url: `${base}/chunks`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'client_aborted', status: 499 });
  });

  it('aborts a request in flight: settles with 499 and closes the upstream connection', async () => {
    const ac = new HookedAbortController();
    const pending = upstreamCollect(call(ac.signal), { url: `${base}/hang`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    await expect.poll(() => hung.length).toBe(1);
    ac.abort();
    expect(await pending).toMatchObject({ code: 'client_aborted', status: 499 });
    await expect.poll(() => closed).toContain('/hang');
  });

  it('settles a request still queued for a connection when the client aborts, and never sends it', async () => {
    const one = createDispatcher({ connections: 1 });
    const before = hung.length;
    const blocker = upstreamCollect({ ...call(), dispatcher: one }, { url: `${base}/hang`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    await expect.poll(() => hung.length).toBe(before + 1);
    const ac = new HookedAbortController();
    const queued = upstreamCollect({ ...call(ac.signal), dispatcher: one }, { url: `${base}/hang`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    ac.abort();
    expect(await queued).toMatchObject({ code: 'client_aborted', status: 499 });
    hung.at(-1)!.socket.destroy(); // frees the one connection: the queued request must not go out
    expect(await blocker).toMatchObject({ code: 'upstream_unreachable' });
    await new Promise((r) => setTimeout(r, 100));
    expect(hung.length).toBe(before + 1);
    await one.close();
  });

  it('maps a headers timeout to upstream_timeout (504)', async () => {
    const err = await upstreamCollect(call(), { url: `${base}/hang`, method: 'GET', headers: {}, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'upstream_timeout', status: 504, provider: 'up' });
  });

  it('maps a refused connection to upstream_unreachable (502) without the URL', async () => {
    const closedServer = createServer();
    await new Promise<void>((r) => closedServer.listen(0, '127.0.0.1', r));
    const port = (closedServer.address() as AddressInfo).port;
    await new Promise((r) => closedServer.close(r));
    const err = (await upstreamCollect(call(), { url: `http://127.0.0.1:${port}/x`, method: 'GET', headers: {} }).catch((e: unknown) => e)) as UpstreamError;
    expect(err).toMatchObject({ code: 'upstream_unreachable', status: 502 });
    expect(err.message).not.toContain(String(port));
  });
});
