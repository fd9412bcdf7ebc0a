/**
 * `npm run bench:cpu`: the floor, the koa floor and the gateway measured side by side on one
 * CPU, in CPU time per request, and each one's ratio to the floor — what `npm run bench`'s
 * "× floor" column estimates, with a fraction of its noise.
 *
 * `npm run bench` measures req/s, and on a small shared machine that moves by tens of percent
 * within a minute: the same code came out between 0.68 and 0.85 of the floor in five runs.
 * The req/s of a proxy whose own thread is the bottleneck is the inverse of its CPU time per
 * request, so here the three servers share CPU 1 at the same time (the upstream and three load
 * generators run on CPU 0), and every round reads the CPU time each used per request served.
 * The ratio of a round is floor µs / target µs, measured under the same conditions; the median
 * of the rounds is printed. Run to run it moves by about ±0.02 (against the bench's ±0.08). It
 * is what the bench measures when the floor is bound by its own thread (a machine with room to
 * spare); on a busier machine the shared CPUs bind every target and the bench's ratio comes out
 * higher. The absolute µs are not the bench's (three processes time-share one CPU, so each runs
 * with colder caches).
 *
 * The main thread's share is printed too: work moved to other threads (GC helpers, a log
 * writer) still counts in the ratio here, though it no longer caps req/s when another CPU has
 * room.
 *
 * BENCH_ROUNDS (10) rounds of BENCH_SECONDS (3) s after BENCH_WARM (8) s; BENCH_CONNECTIONS
 * (24) per server; BENCH_CONFIG (bench/gateway.config.ts) for the gateway. Linux only
 * (`taskset`, /proc).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chatBody, cpuMicros, launcher, loadFromCpu0, quantile, root, type Started } from './lib.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const warm = Number(process.env.BENCH_WARM ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 24);
const config = process.env.BENCH_CONFIG ?? 'bench/gateway.config.ts';
const body = chatBody();
const { start, stopAll } = launcher();

async function main() {
  const upstream = await start(['bin/tsx.js', 'bench/upstream.ts'], /^(\d+)$/m);
  const direct = `http://127.0.0.1:${upstream.match}`;
  const proxy = async (file: string): Promise<Started & { url: string }> => {
    const s = await start(['bin/tsx.js', file, direct], /^(\d+)$/m);
    return { ...s, url: `http://127.0.0.1:${s.match}` };
  };
  const gateway = await start(['bin/gateway.js', '--config', join(root, config), '--port', '0'], /^listening on (\S+)$/m, { BENCH_UPSTREAM: direct });
  const targets = { floor: await proxy('bench/floor.ts'), 'koa floor': await proxy('bench/koa-floor.ts'), gateway: { ...gateway, url: gateway.match } };
  const all = Object.values(targets);
  for (const t of all) execFileSync('taskset', ['-a', '-p', '-c', '1', String(t.child.pid)], { stdio: 'ignore' });
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(upstream.child.pid)], { stdio: 'ignore' });
  await Promise.all(all.map((t) => loadFromCpu0(t.url, { duration: warm, connections, body })));
  const us: number[][] = all.map(() => []);
  const mainThread: number[][] = all.map(() => []);
  for (let i = 0; i < rounds; i++) {
    const before = all.map((t) => cpuMicros(t.child.pid!));
    const beforeMain = all.map((t) => cpuMicros(t.child.pid!, true));
    const served = await Promise.all(all.map((t) => loadFromCpu0(t.url, { duration: seconds, connections, body })));
    all.forEach((t, k) => {
      us[k]!.push((cpuMicros(t.child.pid!) - before[k]!) / served[k]!);
      mainThread[k]!.push((cpuMicros(t.child.pid!, true) - beforeMain[k]!) / served[k]!);
    });
    console.error(`round ${i + 1}: ${all.map((_, k) => us[k]!.at(-1)!.toFixed(0)).join(' / ')} µs/req`);
  }
  const f = (x: number, d = 0) => x.toFixed(d);
  console.log(`\nCPU per request, ${rounds} rounds of ${seconds}s with all three on one CPU at once, ${connections} connections each, Node ${process.versions.node}\n`);
  console.log('| target | µs/req (median) | of which the main thread | × floor (median of rounds) | quartiles |');
  console.log('|---|---:|---:|---:|---:|');
  Object.keys(targets).forEach((name, k) => {
    const ratio = us[k]!.map((v, i) => us[0]![i]! / v);
    console.log(`| ${name} | ${f(quantile(us[k]!, 0.5))} | ${f(quantile(mainThread[k]!, 0.5))} | ${f(quantile(ratio, 0.5), 3)} | ${f(quantile(ratio, 0.25), 3)}..${f(quantile(ratio, 0.75), 3)} |`);
  });
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
