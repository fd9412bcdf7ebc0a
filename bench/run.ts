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
 * Each target (and each stream path) is first warmed for BENCH_WARM (20) s of the same load.
 * The floor settles within its first seconds; the gateway, with far more code to tier up, keeps
 * getting cheaper for about 15 s of load (measured alone on one CPU, two fresh processes:
 * 106–121 µs per request over the first 8 s, 101–116 over the next 6, then 87–107 with medians
 * of 91 and 95), and a two-second warm-up measured its first rounds while the JIT was still at
 * work (a 15-round run: the first three rounds 0.63–0.77 of the floor, the rest 0.68–1.01). A
 * gateway runs for hours; its steady state is what the ratio is about.
 *
 * BENCH_SECONDS (default 20) sets the measured duration per target, split into BENCH_ROUNDS (10)
 * rounds; BENCH_CONNECTIONS (64) the load.
 */
import { request } from 'undici';
import { chatBody, launcher, load as loadWith } from './lib.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 10));
const warm = Number(process.env.BENCH_WARM ?? 20);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const { start: launch, stopAll } = launcher();

const body = (stream: boolean) => chatBody({ stream });

/** Starts a server process (stdout to a file) and resolves with the first match of `pattern`. */
const start = async (args: string[], pattern: RegExp, env: Record<string, string> = {}) => (await launch(args, pattern, env)).match;

const load = (url: string, duration: number, path = '/v1/chat/completions', payload = body(false)) => loadWith(url, { duration, connections, body: payload, path });

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
  for (const url of Object.values(targets)) await load(url, warm); // to steady state: JIT, keep-alive pools
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
  const anthropicBody = chatBody({ max_tokens: 256, stream: true });
  await load(gateway, warm, '/v1/chat/completions', body(true)); // each stream path warmed as the targets were
  const passthrough = await load(gateway, seconds, '/v1/chat/completions', body(true));
  await load(gateway, warm, '/v1/messages', anthropicBody);
  const converted = await load(gateway, seconds, '/v1/messages', anthropicBody);
  const fmt = (n: number, d = 0) => n.toFixed(d);
  console.log(`\n${connections} connections, ${warm}s warm-up then ${seconds}s per target in ${rounds} alternating rounds (median round shown), ~400-byte prompts, Node ${process.versions.node}\n`);
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
  .finally(() => stopAll());
