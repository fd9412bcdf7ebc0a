/**
 * `npm run bench:cpu`: the floor, the koa floor and the gateway in CPU time per request, and each
 * one's ratio to the floor — what `npm run bench`'s "× floor" column estimates, with a fraction
 * of its noise.
 *
 * `npm run bench` measures req/s, and on a small shared machine that moves by tens of percent
 * within a minute: the same code came out between 0.68 and 0.85 of the floor in five runs. The
 * req/s of a proxy whose own thread is the bottleneck is the inverse of its CPU time per request,
 * so this reads the CPU time each server used per request served (`/proc`), with the servers
 * pinned to CPU 1 and the upstream and the load generators on CPU 0. Two ways (`BENCH_MODE`):
 *
 * - `shared` (the default, and what earlier sessions reported): the three servers share CPU 1
 *   at the same time, each under its own load, over BENCH_ROUNDS (10) rounds after one
 *   BENCH_WARM (8) s warm-up; each round's ratio compares readings taken under the same
 *   conditions. Steady: about ±0.02 run to run.
 * - `alone`: each server has CPU 1 to itself while it is read, as each has the machine in turn
 *   in `npm run bench`. The three run at once but are loaded one at a time (an idle server costs
 *   nothing): each is warmed BENCH_WARM (20) s in turn (the gateway needs about that long to
 *   reach its steady state; see bench/run.ts), then every round loads each for BENCH_SECONDS in
 *   turn (the order rotated per round), so a round's three readings are seconds apart and a slow
 *   spell of the machine that lasts longer than a round hits them alike. One of a few seconds
 *   can still land on one server's slot and not the others', and a slow spell only ever adds
 *   time, so each server is read at the lower quartile of its rounds, and a process set's ratio
 *   compares those. That is done BENCH_INSTANCES (3) times with fresh processes, BENCH_ROUNDS (8)
 *   rounds each: the same code settles 5–10% apart from one process to the next (what the JIT
 *   made of it), which one process's rounds cannot show. The median of the sets' ratios is
 *   printed with the lowest and highest. (Until session 12 the processes ran one after another,
 *   each for all its rounds, and a slow spell could land on one server's whole turn: single
 *   turns came out between 0.59 and 1.23 of the floor.)
 *
 * `shared` and `alone` differ. In session 13 (after the request path lost a `Set` that kept
 * requests alive into full collections) two alone runs put the gateway at 0.80 and 0.82 of the
 * floor, every process set between 0.75 and 0.84, and a shared run at 0.71; in session 12,
 * before that, alone runs gave 0.72–0.80 and shared ones 0.63. Time-sharing one CPU evicts each
 * server's code and data from the caches every few milliseconds, and the gateway, with more of
 * both, probably loses more to that; alone is how a server runs in production and in `npm run
 * bench`. `npm run bench` gave 0.85, 0.81, 1.11 and 0.75 the same day (per-round medians 0.88,
 * 0.93, 0.86 and 0.81): on a 2-core machine its load generator and upstream share the proxy's
 * CPUs, so a proxy is not always bound by its own thread there. Every mode moves with the
 * machine's slow spells when they come and go within seconds: read more than one run.
 *
 * The main thread's share is printed too: work on other threads (V8's GC and compiler helpers)
 * counts in the ratio here, though it does not cap req/s while another CPU has room.
 *
 * BENCH_CONNECTIONS (24) per server; BENCH_CONFIG (bench/gateway.config.ts) for the gateway.
 * Linux only (`taskset`, /proc).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chatBody, cpuMicros, launcher, loadFromCpu0, quantile, root, type Started } from './lib.ts';

const mode = process.env.BENCH_MODE ?? 'shared';
if (mode !== 'shared' && mode !== 'alone') {
  console.error(`BENCH_MODE must be alone or shared (got "${mode}")`);
  process.exit(1);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? (mode === 'shared' ? 10 : 8));
const instances = Number(process.env.BENCH_INSTANCES ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const warm = Number(process.env.BENCH_WARM ?? (mode === 'shared' ? 8 : 20));
const connections = Number(process.env.BENCH_CONNECTIONS ?? 24);
const config = process.env.BENCH_CONFIG ?? 'bench/gateway.config.ts';
const body = chatBody();
const { start, stopAll } = launcher();
const NAMES = ['floor', 'koa floor', 'gateway'] as const;

type Server = Started & { url: string };
/** µs per request over each round: all threads, and the main thread alone. */
type Reading = { all: number[]; main: number[] };

/** Reads `servers` over `rounds` rounds of load at once (each under its own load). */
async function read(servers: Server[]): Promise<Reading[]> {
  await Promise.all(servers.map((t) => loadFromCpu0(t.url, { duration: warm, connections, body })));
  const out: Reading[] = servers.map(() => ({ all: [], main: [] }));
  for (let i = 0; i < rounds; i++) {
    const before = servers.map((t) => [cpuMicros(t.child.pid!), cpuMicros(t.child.pid!, true)] as const);
    const served = await Promise.all(servers.map((t) => loadFromCpu0(t.url, { duration: seconds, connections, body })));
    servers.forEach((t, k) => {
      out[k]!.all.push((cpuMicros(t.child.pid!) - before[k]![0]) / served[k]!);
      out[k]!.main.push((cpuMicros(t.child.pid!, true) - before[k]![1]) / served[k]!);
    });
    if (servers.length > 1) console.error(`round ${i + 1}: ${out.map((r) => r.all.at(-1)!.toFixed(0)).join(' / ')} µs/req`);
  }
  return out;
}

/** Reads `servers` one at a time: each warmed in turn, then each round loads each in turn (rotated). */
async function readInTurn(servers: Server[]): Promise<Reading[]> {
  for (const t of servers) await loadFromCpu0(t.url, { duration: warm, connections, body });
  const out: Reading[] = servers.map(() => ({ all: [], main: [] }));
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < servers.length; j++) {
      const k = (i + j) % servers.length; // rotated, so no server always comes first
      const t = servers[k]!;
      const before = [cpuMicros(t.child.pid!), cpuMicros(t.child.pid!, true)] as const;
      const served = await loadFromCpu0(t.url, { duration: seconds, connections, body });
      out[k]!.all.push((cpuMicros(t.child.pid!) - before[0]) / served);
      out[k]!.main.push((cpuMicros(t.child.pid!, true) - before[1]) / served);
    }
    console.error(`round ${i + 1}: ${out.map((r) => r.all.at(-1)!.toFixed(0)).join(' / ')} µs/req`);
  }
  return out;
}

async function main() {
  const upstream = await start(['bin/tsx.js', 'bench/upstream.ts'], /^(\d+)$/m);
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(upstream.child.pid)], { stdio: 'ignore' });
  const direct = `http://127.0.0.1:${upstream.match}`;
  const launch = async (name: (typeof NAMES)[number]): Promise<Server> => {
    let s: Server;
    if (name === 'gateway') {
      const g = await start(['bin/gateway.js', '--config', join(root, config), '--port', '0'], /^listening on (\S+)$/m, { BENCH_UPSTREAM: direct });
      s = { ...g, url: g.match };
    } else {
      const p = await start(['bin/tsx.js', name === 'floor' ? 'bench/floor.ts' : 'bench/koa-floor.ts', direct], /^(\d+)$/m);
      s = { ...p, url: `http://127.0.0.1:${p.match}` };
    }
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(s.child.pid)], { stdio: 'ignore' });
    return s;
  };
  // per server: µs/req (all threads, main thread) and ratio to the floor, of every round
  // (shared) or of every process set (alone)
  const all: number[][] = NAMES.map(() => []);
  const mainThread: number[][] = NAMES.map(() => []);
  const ratios: number[][] = NAMES.map(() => []);
  if (mode === 'shared') {
    const readings = await read(await Promise.all(NAMES.map(launch)));
    readings.forEach((r, k) => {
      all[k]!.push(...r.all);
      mainThread[k]!.push(...r.main);
      ratios[k]!.push(...r.all.map((v, i) => readings[0]!.all[i]! / v));
    });
  } else {
    for (let n = 0; n < instances; n++) {
      const servers: Server[] = [];
      for (const name of NAMES) servers.push(await launch(name));
      const readings = await readInTurn(servers);
      await Promise.all(servers.map((t) => t.stop()));
      // Each server's lower quartile of its rounds: a slow spell only ever adds time, and one
      // that lasts a few seconds can land on one server's slot of a round and not the others'.
      const low = readings.map((r) => quantile(r.all, 0.25));
      readings.forEach((r, k) => {
        all[k]!.push(low[k]!);
        mainThread[k]!.push(quantile(r.main, 0.25));
        ratios[k]!.push(low[0]! / low[k]!);
      });
      console.error(`processes ${n + 1}: ${low.map((v) => v.toFixed(0)).join(' / ')} µs/req (lower quartile of rounds)`);
    }
  }
  const f = (x: number, d = 0) => x.toFixed(d);
  const spread = mode === 'shared' ? 'quartiles of rounds' : 'lowest..highest process set';
  const per = mode === 'shared' ? 'median' : 'lower quartile, median set';
  console.log(
    mode === 'shared'
      ? `\nCPU per request, all three on CPU 1 at once: ${rounds} rounds of ${seconds}s, ${connections} connections each, Node ${process.versions.node}\n`
      : `\nCPU per request, each server alone on CPU 1 while read, in turn: ${instances} fresh process sets, ${rounds} rounds of ${seconds}s each, ${connections} connections, Node ${process.versions.node}\n`,
  );
  console.log(`| target | µs/req (${per}) | of which the main thread | × floor (median) | ${spread} |`);
  console.log('|---|---:|---:|---:|---:|');
  NAMES.forEach((name, k) => {
    const r = ratios[k]!;
    const lo = mode === 'shared' ? quantile(r, 0.25) : Math.min(...r);
    const hi = mode === 'shared' ? quantile(r, 0.75) : Math.max(...r);
    console.log(`| ${name} | ${f(quantile(all[k]!, 0.5))} | ${f(quantile(mainThread[k]!, 0.5))} | ${f(quantile(r, 0.5), 3)} | ${f(lo, 3)}..${f(hi, 3)} |`);
  });
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
