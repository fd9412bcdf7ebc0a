/**
 * `npm run bench`: one run, the same load against the mock upstream directly, a minimal Node
 * proxy (the floor) and the gateway with its default pipeline. Each server is its own process;
 * this process only generates load (autocannon). Prints req/s, p50/p99 latency, the ratios to
 * direct and to the floor, and streaming time to first byte.
 *
 * BENCH_SECONDS (default 10) sets the measured duration per target; BENCH_CONNECTIONS (64) the load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { request } from 'undici';

const root = join(import.meta.dirname, '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const children: ChildProcess[] = [];

const prompt = 'You are a careful assistant. Summarise the following paragraph in one sentence. '.repeat(5).slice(0, 400);
const body = (stream: boolean) => JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'user', content: prompt }] });

/** Starts a process and resolves with the first stdout line matching `pattern`. */
function start(args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining (access logs) so the process never blocks on a full pipe
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${out}`)));
  });
}

async function load(url: string, duration: number) {
  const r = await autocannon({
    url: `${url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(false),
    connections,
    duration,
  });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

async function ttfb(url: string, n = 200): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(true) });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    times.push(performance.now() - t0);
    for (let r = await it.next(); !r.done; r = await it.next());
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n * 0.5)]!, p99: times[Math.floor(n * 0.99)]! };
}

async function main() {
  const upPort = await start(['bin/tsx.js', 'bench/upstream.ts'], /^(\d+)$/m);
  const direct = `http://127.0.0.1:${upPort}`;
  const floorPort = await start(['bin/tsx.js', 'bench/floor.ts', direct], /^(\d+)$/m);
  const gateway = await start(['bin/gateway.js', '--config', 'bench/gateway.config.ts', '--port', '0'], /^listening on (\S+)$/m, { BENCH_UPSTREAM: direct });
  const targets = { direct, floor: `http://127.0.0.1:${floorPort}`, gateway };
  const rows: Record<string, { rps: number; p50: number; p99: number; ttfb: number }> = {};
  for (const [name, url] of Object.entries(targets)) {
    await load(url, 2); // warm up: JIT, keep-alive pools
    const r = await load(url, seconds);
    const t = await ttfb(url);
    rows[name] = { ...r, ttfb: t.p50 };
  }
  const fmt = (n: number, d = 0) => n.toFixed(d);
  console.log(`\n${connections} connections, ${seconds}s per target, ~400-byte prompts, Node ${process.versions.node}\n`);
  console.log('| target  | req/s | p50 ms | p99 ms | × direct | × floor | stream TTFB p50 ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(rows)) {
    console.log(`| ${name} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.rps / rows.direct!.rps, 2)} | ${fmt(r.rps / rows.floor!.rps, 2)} | ${fmt(r.ttfb, 2)} |`);
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGTERM');
  });
