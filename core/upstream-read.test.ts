/**
 * upstreamCollect and upstreamStream against a real HTTP server on 127.0.0.1. Whole answers:
 * bounded error bodies, informational responses, client aborts before, during and while queued,
 * timeouts and an unreachable upstream, each settling once as the same GatewayErrors as before.
 * Streams: chunks as they come, back-pressure on a slow reader, an early stop and the client's
 * abort ending the upstream request, a failure mid-body thrown to the reader.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Abort } from './abort.ts';
import { UpstreamError } from './errors.ts';
import { createDispatcher } from './upstream.ts';
import { upstreamCollect, upstreamStream } from './upstream-read.ts';

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
  '/events': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const tick = () => (n < 3 ? (res.write(`data: ${n++}\n\n`), setTimeout(tick, 5)) : res.end());
    tick();
  },
  '/flood': (req, res) => {
    // 32 MiB offered as fast as the socket takes it (more than loopback's socket buffers hold); counts what it could write
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < 512) {
        sent++;
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    req.socket.once('close', () => closed.push(req.url!));
    pump();
  },
  '/forever': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    req.socket.once('close', () => closed.push(req.url!));
  },
  '/cut': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    setTimeout(() => req.socket.destroy(), 20);
  },
  '/error': (_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
    res.end(JSON.stringify({ error: { message: 'slow down' }, pad: 'y'.repeat(5000) }));
  },
  '/hang': (req) => {
    hung.push(req);
    req.socket.once('close', () => closed.push(req.url!));
  },
};
const hung: IncomingMessage[] = [];
const closed: string[] = [];
let written = 0;
const server = createServer((req, res) => routes[req.url!]!(req, res));
const dispatcher = createDispatcher();
let base = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await dispatcher.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const call = (signal = new Abort().signal) => ({ name: 'up', dispatcher, signal, requestId: 'req-1' });

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
    const ac = new Abort();
    ac.abort();
    const err = await upstreamCollect(call(ac.signal), { url: `${base}/chunks`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'client_aborted', status: 499 });
  });

  it('aborts a request in flight: settles with 499 and closes the upstream connection', async () => {
    const ac = new Abort();
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
    const ac = new Abort();
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

const get = (path: string, signal?: AbortSignal) => upstreamStream(call(signal), { url: `${base}${path}`, method: 'GET', headers: {} });

describe('upstreamStream', () => {
  it('resolves at the status and yields the body as it arrives', async () => {
    const res = await get('/events');
    expect(res.status).toBe(200);
    let text = '';
    for await (const c of res.body!) text += c.toString();
    expect(text).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
  });

  it('pauses the upstream while the reader is slow, and resumes it', async () => {
    written = 0;
    const res = await get('/flood');
    await new Promise((r) => setTimeout(r, 200)); // read nothing for a while
    expect(written).toBeLessThan(16 * 1024 * 1024); // held back: not the whole 32 MiB
    let got = 0;
    for await (const c of res.body!) got += c.length;
    expect(got).toBe(512 * 64 * 1024);
  });

  it('ends the upstream request when the reader stops early', async () => {
    const res = await get('/forever');
    for await (const c of res.body!) {
      expect(c.toString()).toBe('data: first\n\n');
      break;
    }
    await expect.poll(() => closed).toContain('/forever');
  });

  it('ends the upstream request on the client abort, and the reader gets client_aborted (499)', async () => {
    closed.length = 0;
    const ac = new Abort();
    const res = await get('/forever', ac.signal);
    const it = res.body![Symbol.asyncIterator]();
    await it.next();
    const pending = it.next();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'client_aborted', status: 499 });
    await expect.poll(() => closed).toContain('/forever');
  });

  it('throws a failure mid-body to the reader as upstream_unreachable (502)', async () => {
    const res = await get('/cut');
    const read = async () => {
      for await (const _ of res.body!);
    };
    await expect(read()).rejects.toMatchObject({ code: 'upstream_unreachable', status: 502, provider: 'up' });
  });

  it('reads a non-2xx body whole, bounded', async () => {
    const res = await upstreamStream(call(), { url: `${base}/error`, method: 'GET', headers: {} }, 100);
    expect(res.status).toBe(429);
    expect(res.body).toBeUndefined();
    expect(res.headers['retry-after']).toBe('7');
    expect(res.bytes!.length).toBe(100);
  });

  it('fails at once when the signal is already aborted', async () => {
    const ac = new Abort();
    ac.abort();
    await expect(get('/events', ac.signal)).rejects.toMatchObject({ code: 'client_aborted', status: 499 });
  });
});
