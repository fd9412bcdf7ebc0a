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
 * - `alone`: each server has CPU 1 to itself, as each has the machine in turn in `npm run
 *   bench`. The servers take turns, a fresh process each, BENCH_INSTANCES (5) times with the
 *   order rotated; each process is warmed BENCH_WARM s and read over BENCH_ROUNDS (3) rounds. A
 *   ratio compares a process with the floor's process of the same turn; the median over the
 *   turns is printed with the lowest and highest. Fresh processes matter: the same gateway code
 *   settles 5–10% apart from one process to the next (what the JIT made of it), which one
 *   process's rounds cannot show. Noisier than `shared` (a slow spell of the machine can hit a
 *   whole process), and on this machine the two agree: the gateway at 0.65–0.70 of the floor
 *   in `shared` runs, 0.66–0.68 in two five-process `alone` runs, the same day. `npm run bench`'s medians came
 *   out higher (0.78 and 0.79 in two sessions, 0.70 in a third): on a 2-core machine its load
 *   generator and upstream share the proxy's CPUs, so the floor is not always bound by its own
 *   thread there.
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
const rounds = Number(process.env.BENCH_ROUNDS ?? (mode === 'shared' ? 10 : 3));
const instances = Number(process.env.BENCH_INSTANCES ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const warm = Number(process.env.BENCH_WARM ?? 8);
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
  // per server: one median (all threads, main thread) per instance, or per round when shared
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
      const turn: number[] = [];
      for (let j = 0; j < NAMES.length; j++) {
        const k = (j + n) % NAMES.length; // rotated, so no server always comes first
        const s = await launch(NAMES[k]!);
        const [r] = await read([s]);
        await s.stop();
        turn[k] = quantile(r!.all, 0.5);
        all[k]!.push(turn[k]!);
        mainThread[k]!.push(quantile(r!.main, 0.5));
        console.error(`instance ${n + 1}, ${NAMES[k]}: ${turn[k]!.toFixed(0)} µs/req`);
      }
      NAMES.forEach((_, k) => ratios[k]!.push(turn[0]! / turn[k]!));
    }
  }
  const f = (x: number, d = 0) => x.toFixed(d);
  const spread = mode === 'shared' ? 'quartiles of rounds' : 'lowest..highest instance';
  console.log(
    mode === 'shared'
      ? `\nCPU per request, all three on CPU 1 at once: ${rounds} rounds of ${seconds}s, ${connections} connections each, Node ${process.versions.node}\n`
      : `\nCPU per request, each server alone on CPU 1: ${instances} fresh processes each, ${rounds} rounds of ${seconds}s per process, ${connections} connections, Node ${process.versions.node}\n`,
  );
  console.log(`| target | µs/req (median) | of which the main thread | × floor (median) | ${spread} |`);
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
