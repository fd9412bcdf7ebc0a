/**
 * `npm run bench:paired -- REF`: the gateway at git REF against the working tree, measured at
 * the same time. Both gateways share one CPU (`taskset -c 1`), each under its own load
 * generator, with the upstream and the load on the other CPU; each round reads the CPU time each
 * process used per request served. On a shared machine whose speed drifts by tens of percent
 * within a minute, two targets measured one after the other differ by ±30 µs per request from
 * drift alone; measured side by side they see the same machine, and the paired differences of
 * ten rounds resolve a few microseconds (an A/A run: median −4 µs, quartiles −12..4).
 *
 * The absolute numbers are not the bench's (two processes time-share a CPU, so both run with
 * colder caches); the difference and the ratio are what to read. Linux only (`taskset`).
 *
 * BENCH_ROUNDS (10) rounds of BENCH_SECONDS (3) s after BENCH_WARM (8) s; BENCH_CONNECTIONS (32)
 * per gateway; BENCH_CONFIG (bench/gateway.config.ts) for both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatBody, cpuMicros, launcher, loadFromCpu0, quantile, root } from './lib.ts';

const ref = process.argv[2];
const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const warm = Number(process.env.BENCH_WARM ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const config = process.env.BENCH_CONFIG ?? 'bench/gateway.config.ts';
const body = chatBody();
const { start, stopAll } = launcher();

const loadFrom0 = (url: string, duration: number) => loadFromCpu0(url, { duration, connections, body });

async function main() {
  if (!ref) throw new Error('usage: npm run bench:paired -- <git ref to compare the working tree with>');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-paired-'));
  const base = join(dir, 'base');
  execFileSync('git', ['worktree', 'add', '--detach', base, ref], { cwd: root, stdio: 'ignore' });
  try {
    symlinkSync(join(root, 'node_modules'), join(base, 'node_modules'));
    const upstream = await start(['bin/tsx.js', 'bench/upstream.ts'], /^(\d+)$/m);
    const env = { BENCH_UPSTREAM: `http://127.0.0.1:${upstream.match}` };
    const gateway = (cwd: string) => start(['bin/gateway.js', '--config', join(cwd, config), '--port', '0'], /^listening on (\S+)$/m, env, cwd);
    const targets = { [ref]: await gateway(base), 'working tree': await gateway(root) };
    for (const t of Object.values(targets)) execFileSync('taskset', ['-a', '-p', '-c', '1', String(t.child.pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(upstream.child.pid)], { stdio: 'ignore' });
    const all = Object.values(targets);
    await Promise.all(all.map((t) => loadFrom0(t.match, warm)));
    const us: number[][] = all.map(() => []);
    for (let i = 0; i < rounds; i++) {
      const before = all.map((t) => cpuMicros(t.child.pid!));
      const served = await Promise.all(all.map((t) => loadFrom0(t.match, seconds)));
      all.forEach((t, k) => us[k]!.push((cpuMicros(t.child.pid!) - before[k]!) / served[k]!));
      console.error(`round ${i + 1}: ${all.map((_, k) => us[k]!.at(-1)!.toFixed(0)).join(' vs ')} µs/req`);
    }
    const diff = us[1]!.map((v, i) => v - us[0]![i]!);
    const ratio = us[1]!.map((v, i) => v / us[0]![i]!);
    console.log(`\nCPU per request, ${rounds} paired rounds of ${seconds}s (both gateways on one CPU at once), Node ${process.versions.node}\n`);
    console.log(`| | ${ref} | working tree | difference (quartiles) | ratio (quartiles) |`);
    console.log('|---|---:|---:|---:|---:|');
    const f = (x: number, d = 0) => x.toFixed(d);
    console.log(
      `| µs/req, median | ${f(quantile(us[0]!, 0.5))} | ${f(quantile(us[1]!, 0.5))} | ${f(quantile(diff, 0.5), 1)} (${f(quantile(diff, 0.25))}..${f(quantile(diff, 0.75))}) | ${f(quantile(ratio, 0.5), 3)} (${f(quantile(ratio, 0.25), 3)}..${f(quantile(ratio, 0.75), 3)}) |`,
    );
  } finally {
    await stopAll();
    execFileSync('git', ['worktree', 'remove', '--force', base], { cwd: root, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
