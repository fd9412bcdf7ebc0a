import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { GatewayKoa, setBytesBody } from './koa-app.ts';

// Every case answers the same through GatewayKoa as through Koa itself: status, headers, body.
const cases: Array<{ name: string; method?: string; mw: Koa.Middleware }> = [
  { name: 'bytes', mw: (ctx) => void (ctx.body = Buffer.from('{"a":1}')) },
  { name: 'bytes with a type', mw: (ctx) => void ((ctx.type = 'application/json'), (ctx.body = Buffer.from('{"a":1}'))) },
  { name: 'string', mw: (ctx) => void (ctx.body = 'héllo') },
  { name: 'html string', mw: (ctx) => void (ctx.body = '<p>hi</p>') },
  { name: 'object', mw: (ctx) => void (ctx.body = { a: 'é', b: [1, 2] }) },
  { name: 'array', mw: (ctx) => void (ctx.body = [1, { x: null }]) },
  { name: 'null-prototype object', mw: (ctx) => void (ctx.body = Object.assign(Object.create(null), { a: 1 })) },
  { name: 'status and object', mw: (ctx) => void ((ctx.status = 429), ctx.set('retry-after', '3'), (ctx.body = { error: 'slow down' })) },
  { name: 'object, HEAD', method: 'HEAD', mw: (ctx) => void (ctx.body = { a: 1 }) },
  { name: 'string, HEAD', method: 'HEAD', mw: (ctx) => void (ctx.body = 'hello') },
  { name: 'no body', mw: () => {} },
  { name: 'explicit null body', mw: (ctx) => void (ctx.body = null) },
  { name: 'status without body', mw: (ctx) => void (ctx.status = 202) },
  { name: '204 with a body set first', mw: (ctx) => void ((ctx.body = { a: 1 }), (ctx.status = 204)) },
  { name: '304', mw: (ctx) => void ((ctx.body = 'x'), (ctx.status = 304)) },
  { name: 'stream', mw: (ctx) => void (ctx.body = Readable.from(['a', 'b', 'c'])) },
  { name: 'Blob', mw: (ctx) => void (ctx.body = new Blob(['blob body'])) },
  { name: 'Response', mw: (ctx) => void (ctx.body = new Response('from a Response')) },
  {
    name: 'respond = false',
    mw: (ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(201, { 'content-type': 'text/plain' }).end('by hand');
    },
  },
  { name: 'a body JSON cannot hold', mw: (ctx) => void (ctx.body = { n: 1n }) },
  {
    name: 'middleware throws',
    mw: () => {
      throw Object.assign(new Error('nope'), { status: 418, expose: true });
    },
  },
];

// `setBytesBody` through GatewayKoa answers as `ctx.body = bytes` does through Koa.
type SetBytes = (ctx: Koa.Context, bytes: Buffer) => void;
const JSON_TYPE = 'application/json; charset=utf-8';
const bytesCases: Array<{ name: string; mw: (ctx: Koa.Context, set: SetBytes) => void }> = [
  { name: 'typed bytes', mw: (ctx, set) => void (ctx.set('content-type', JSON_TYPE), set(ctx, Buffer.from('{"a":"é"}'))) },
  { name: 'typed bytes, explicit status', mw: (ctx, set) => void ((ctx.status = 201), ctx.set('content-type', JSON_TYPE), set(ctx, Buffer.from('{}'))) },
  { name: 'typed bytes, chunked', mw: (ctx, set) => void (ctx.set('content-type', JSON_TYPE), ctx.set('transfer-encoding', 'chunked'), set(ctx, Buffer.from('{"b":2}'))) },
  { name: 'untyped bytes', mw: (ctx, set) => set(ctx, Buffer.from('{"c":3}')) },
  { name: 'bytes over a stream', mw: (ctx, set) => void ((ctx.body = Readable.from(['x'])), ctx.set('content-type', JSON_TYPE), set(ctx, Buffer.from('{"d":4}'))) },
  { name: 'bytes, then a status without a body', mw: (ctx, set) => void (ctx.set('content-type', JSON_TYPE), set(ctx, Buffer.from('{}')), (ctx.status = 204)) },
];

async function serve(app: Koa): Promise<{ server: Server; url: string }> {
  app.silent = true;
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function answer(url: string, name: string, method = 'GET') {
  const res = await request(`${url}/?case=${encodeURIComponent(name)}`, { method: method as 'GET' });
  const headers = { ...res.headers };
  delete headers.date;
  return { status: res.statusCode, headers, body: await res.body.text() };
}

describe('GatewayKoa', () => {
  const servers: Server[] = [];
  let koaUrl = '';
  let gatewayUrl = '';
  beforeAll(async () => {
    const route =
      (set: SetBytes): Koa.Middleware =>
      (ctx, next) => {
        const b = bytesCases.find((x) => x.name === ctx.query.case);
        if (b) {
          b.mw(ctx, set);
          // what a later handler reads, before the answer is written
          ctx.set('x-seen', JSON.stringify([ctx.status, ctx.response.get('content-length'), ctx.type, Buffer.isBuffer(ctx.body)]));
          return;
        }
        const c = cases.find((x) => x.name === ctx.query.case);
        return c ? c.mw(ctx, next) : next();
      };
    const koa = await serve(new Koa().use(route((ctx, bytes) => void (ctx.body = bytes))));
    const gateway = await serve(new GatewayKoa().use(route(setBytesBody)));
    servers.push(koa.server, gateway.server);
    koaUrl = koa.url;
    gatewayUrl = gateway.url;
  });
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it.each(cases)('answers as Koa does: $name', async ({ name, method }) => {
    const expected = await answer(koaUrl, name, method);
    const actual = await answer(gatewayUrl, name, method);
    expect(actual).toEqual(expected);
  });

  it.each(bytesCases)('sets bytes as Koa does: $name', async ({ name }) => {
    const expected = await answer(koaUrl, name);
    const actual = await answer(gatewayUrl, name);
    expect(actual).toEqual(expected);
    expect(actual.status).toBeLessThan(300);
  });

  it('ends a plain answer without the on-finished listeners Koa adds', async () => {
    const listeners = async (app: Koa) => {
      let finish = -1;
      app.use((ctx) => {
        ctx.body = { ok: true };
        finish = ctx.res.listenerCount('finish');
      });
      const { server, url } = await serve(app);
      servers.push(server);
      const res = await request(url);
      expect(await res.body.json()).toEqual({ ok: true });
      return finish;
    };
    const koa = await listeners(new Koa());
    expect(await listeners(new GatewayKoa())).toBe(koa - 1);
  });
});
