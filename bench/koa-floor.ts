/**
 * The floor on the gateway's own stack: the same least-a-proxy-must-do as `floor.ts` (parse the
 * JSON body, swap the model, one upstream request through an undici Pool, answer), written as a
 * Koa app with one @koa/router route. The gap between this and `floor.ts` is what the chosen
 * framework costs before the gateway does anything of its own. Run as its own process; prints
 * its port.
 */
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { Pool } from 'undici';

const upstream = process.argv[2]!;
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 60_000 });

/** A whole stream as one Buffer (events, as floor.ts reads: no async iterator). */
const collect = (stream: NodeJS.ReadableStream) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });

const router = new Router();
router.post('/v1/chat/completions', async (ctx) => {
  const body = JSON.parse((await collect(ctx.req)).toString()) as Record<string, unknown>;
  body.model = 'bench-model';
  const up = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  ctx.status = up.statusCode;
  ctx.set('content-type', String(up.headers['content-type'] ?? 'application/json'));
  ctx.body = await collect(up.body);
});
const app = new Koa();
app.use(router.routes());
const server = app.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
server.keepAliveTimeout = 60_000;

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
