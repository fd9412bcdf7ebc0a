/**
 * The floor: the least a proxy must do — raw node:http, an undici Pool, parse the JSON body, swap
 * the model, pipe the upstream answer back. Run as its own process; prints its port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.argv[2]!;
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown>;
      body.model = 'bench-model';
      const up = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
      up.body.pipe(res);
    } catch {
      res.writeHead(502).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
