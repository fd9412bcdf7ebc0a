/**
 * `node bin/tsx.js bench/workers.ts`: `gateway --workers 1` vs `--workers 2` in one run, under the
 * same load, through the bench upstream (a separate process) and through the built-in mock
 * provider (the gateway alone). Each configuration is started, warmed up, measured and stopped
 * before the next, so they do not share the CPU.
 *
 * BENCH_SECONDS (default 10) sets the measured duration; BENCH_CONNECTIONS (64) the load.
 */
import { cpus } from 'node:os';
import { chatBody, launcher, load } from './lib.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const body = (model: string) => chatBody({ model });
const { start, stopAll } = launcher();

async function main() {
  const upstream = await start(['bin/tsx.js', 'bench/upstream.ts'], /^(\d+)$/m);
  const env = { BENCH_UPSTREAM: `http://127.0.0.1:${upstream.match}` };
  const rows: Array<{ workers: number; path: string; rps: number; p50: number; p99: number }> = [];
  for (const workers of [1, 2]) {
    const gw = await start(['bin/gateway.js', '--config', 'bench/workers.config.ts', '--port', '0', '--workers', String(workers)], /^listening on (\S+)$/m, env);
    for (const [path, model] of [['upstream', 'bench-model'], ['mock provider', 'bench-mock']] as const) {
      await load(gw.match, { duration: 2, connections, body: body(model) }); // warm up every worker
      rows.push({ workers, path, ...(await load(gw.match, { duration: seconds, connections, body: body(model) })) });
    }
    await gw.stop();
  }
  const base = (path: string) => rows.find((r) => r.workers === 1 && r.path === path)!.rps;
  console.log(`\n${connections} connections, ${seconds}s per row, ${cpus().length} CPUs (load generator and upstream share them), Node ${process.versions.node}\n`);
  console.log('| workers | through | req/s | p50 ms | p99 ms | × --workers 1 |');
  console.log('|---:|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.workers} | ${r.path} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${(r.rps / base(r.path)).toFixed(2)} |`);
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(stopAll);
