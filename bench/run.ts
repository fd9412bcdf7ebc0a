/**
 * `npm run bench`: one run, the same load against the mock upstream directly, a minimal Node
 * proxy (the floor), the same proxy on Koa + @koa/router (what the chosen framework costs before the
 * gateway does anything) and the gateway with its default pipeline. Each server is its own process;
 * this process only generates load (autocannon). Prints req/s, p50/p99 latency, the ratios to
 * direct and to the floor, and streaming time to first byte.
 *
 * The targets are measured in alternating rounds (direct, floor, koa floor, gateway, then again),
 * and each row is its target's median round: on a shared machine whose speed drifts by tens of
 * percent within a minute, one long window per target compared targets measured at different
 * speeds (the same code came out anywhere between 0.59 and 0.92 of the floor). The per-round
 * ratios of the gateway to the floor are printed too.
 *
 * BENCH_SECONDS (default 10) sets the measured duration per target, split into BENCH_ROUNDS (5)
 * rounds; BENCH_CONNECTIONS (64) the load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { request } from 'undici';

const root = join(import.meta.dirname, '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const children: ChildProcess[] = [];

const prompt = 'You are a careful assistant. Summarise the following paragraph in one sentence. '.repeat(5).slice(0, 400);
const body = (stream: boolean) => JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'user', content: prompt }] });

/**
 * Starts a process whose stdout goes to a file (as a deployed gateway's logs would: a pipe to
 * this busy load generator could fill up and stall it) and resolves with the first match of
 * `pattern` in that file.
 */
async function start(args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<string> {
  const log = join(tmpdir(), `switchyard-bench-${process.pid}-${children.length}.log`);
  const out = openSync(log, 'w');
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', out, 'inherit'] });
  children.push(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 300; i++) {
    const m = pattern.exec(readFileSync(log, 'utf8'));
    if (m) return m[1]!;
    if (exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${args.join(' ')} did not start: ${readFileSync(log, 'utf8').slice(0, 2000)}`);
}

async function load(url: string, duration: number, path = '/v1/chat/completions', payload = body(false)) {
  const r = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
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
  const koaFloorPort = await start(['bin/tsx.js', 'bench/koa-floor.ts', direct], /^(\d+)$/m);
  const gateway = await start(['bin/gateway.js', '--config', 'bench/gateway.config.ts', '--port', '0'], /^listening on (\S+)$/m, { BENCH_UPSTREAM: direct });
  const targets = { direct, floor: `http://127.0.0.1:${floorPort}`, 'koa floor': `http://127.0.0.1:${koaFloorPort}`, gateway };
  const rows: Record<string, { rps: number; p50: number; p99: number; ttfb: number }> = {};
  for (const url of Object.values(targets)) await load(url, 2); // warm up: JIT, keep-alive pools
  const measured: Record<string, Array<Awaited<ReturnType<typeof load>>>> = {};
  for (let i = 0; i < rounds; i++) {
    for (const [name, url] of Object.entries(targets)) (measured[name] ??= []).push(await load(url, Math.max(1, Math.round(seconds / rounds))));
  }
  for (const [name, url] of Object.entries(targets)) {
    const sorted = [...measured[name]!].sort((a, b) => a.rps - b.rps);
    rows[name] = { ...sorted[Math.floor(sorted.length / 2)]!, ttfb: (await ttfb(url)).p50 };
  }
  const perRound = measured.gateway!.map((g, i) => g.rps / measured.floor![i]!.rps);
  // Streams through the gateway: passthrough (Chat client → Chat upstream) vs converted
  // (Anthropic client → Chat upstream), same upstream stream.
  const anthropicBody = JSON.stringify({ model: 'bench-model', max_tokens: 256, stream: true, messages: [{ role: 'user', content: prompt }] });
  await load(gateway, 2, '/v1/chat/completions', body(true));
  const passthrough = await load(gateway, seconds, '/v1/chat/completions', body(true));
  await load(gateway, 2, '/v1/messages', anthropicBody);
  const converted = await load(gateway, seconds, '/v1/messages', anthropicBody);
  const fmt = (n: number, d = 0) => n.toFixed(d);
  console.log(`\n${connections} connections, ${seconds}s per target in ${rounds} alternating rounds (median round shown), ~400-byte prompts, Node ${process.versions.node}\n`);
  console.log('| target  | req/s | p50 ms | p99 ms | × direct | × floor | stream TTFB p50 ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(rows)) {
    console.log(`| ${name} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.rps / rows.direct!.rps, 2)} | ${fmt(r.rps / rows.floor!.rps, 2)} | ${fmt(r.ttfb, 2)} |`);
  }
  const sortedRatios = [...perRound].sort((a, b) => a - b);
  console.log(`\ngateway × floor per round: ${perRound.map((r) => fmt(r, 2)).join(', ')} (median ${fmt(sortedRatios[Math.floor(sortedRatios.length / 2)]!, 2)})`);
  console.log('\n| gateway stream | req/s | p50 ms | p99 ms | × passthrough |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(`| passthrough (Chat → Chat) | ${fmt(passthrough.rps)} | ${fmt(passthrough.p50)} | ${fmt(passthrough.p99)} | 1.00 |`);
  console.log(`| converted (Anthropic → Chat) | ${fmt(converted.rps)} | ${fmt(converted.p50)} | ${fmt(converted.p99)} | ${fmt(converted.rps / passthrough.rps, 2)} |`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGTERM');
  });
