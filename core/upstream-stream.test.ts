/**
 * upstreamStream against a real HTTP server on 127.0.0.1: chunks as they come, back-pressure on
 * a slow reader, an early stop and the client's abort ending the upstream request, a failure
 * mid-body thrown to the reader, and non-2xx bodies read whole and bounded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookedAbortController } from './abort.ts';
import { createDispatcher } from './upstream.ts';
import { upstreamStream } from './upstream-stream.ts';

const closed: string[] = [];
let written = 0;
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
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
};
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

const call = (signal = new HookedAbortController().signal) => ({ name: 'up', dispatcher, signal, requestId: 'req-1' });
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
    const ac = new HookedAbortController();
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
    const ac = new HookedAbortController();
    ac.abort();
    await expect(get('/events', ac.signal)).rejects.toMatchObject({ code: 'client_aborted', status: 499 });
  });
});
