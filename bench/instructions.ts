/**
 * `npm run bench:instructions`: CPU instructions per request for the floor, the Koa floor and the
 * gateway, counted by valgrind's cachegrind (no cache simulation), so a change can be measured
 * on a busy machine: the counts repeat within about 2% where req/s moves by 25%.
 *
 * Each server runs twice under cachegrind, serving N1 and then N2 requests (8 connections);
 * per request = (I(N2) − I(N1)) / (N2 − N1), which leaves start-up and the first N1 requests
 * out. The count is split by where it ran: `mutator` (JIT code, builtins, the runtime, libc —
 * the request path itself), `gc`, and `compiler` (V8 still tiers code up at these counts under
 * valgrind; in a long real run it fades, so compare mutator and gc). Instructions are not time —
 * cache misses, syscalls and the background GC threads' share of the CPUs are not in them — but
 * an instruction removed from the request path is time saved.
 *
 * Needs valgrind (`apt-get install -y valgrind`, which provides cg_diff and cg_annotate) and
 * takes about 3 minutes per target. BENCH_N1 (4000) and BENCH_N2 (8000) set the counts;
 * BENCH_TARGETS (floor,koa,gateway) which servers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { chatBody, launcher, root } from './lib.ts';

const n1 = Number(process.env.BENCH_N1 ?? 4000);
const n2 = Number(process.env.BENCH_N2 ?? 8000);
const targets = (process.env.BENCH_TARGETS ?? 'floor,koa,gateway').split(',');
const body = chatBody();
const dir = mkdtempSync(join(tmpdir(), 'switchyard-instr-'));
const { start, stopAll } = launcher();

/** Where an instruction ran, from cachegrind's function name. */
function category(fn: string): 'compiler' | 'gc' | 'mutator' {
  if (/JsonParser|JsonStringifier/.test(fn)) return 'mutator';
  if (/compiler::|[Mm]aglev|[Tt]urboshaft|interpreter::|Compil|Bytecode|Parser|Scanner|Ast/.test(fn)) return 'compiler';
  if (/Scaveng|MarkCompact|ConcurrentMarking|Sweep|Evacuat|Heap::|MinorMark|Marking|GCTracer|Worklist|RememberedSet|SlotSet|IteratePointers|SizeFromMap|IterateObjectCache|heap::base|cppgc/.test(fn)) return 'gc';
  return 'mutator';
}

/** Runs `args` under cachegrind until `n` requests were served; returns the output file. */
async function counted(name: string, args: string[], ready: RegExp, env: Record<string, string>, n: number): Promise<string> {
  const out = join(dir, `${name}-${n}.cg`);
  const child = spawn('valgrind', ['--tool=cachegrind', '--cache-sim=no', `--cachegrind-out-file=${out}`, process.execPath, ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let text = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      const m = ready.exec(text);
      if (m) resolve(m[1]!.startsWith('http') ? m[1]! : `http://127.0.0.1:${m[1]}`);
    });
    child.once('exit', () => reject(new Error(`${name} exited before it was ready: ${text.slice(0, 500)}`)));
  });
  child.stdout.resume();
  const r = await autocannon({ url: `${url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 8, amount: n, timeout: 120 });
  if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  child.kill('SIGTERM');
  await exited;
  return out;
}

/** Instructions per request between the two runs, by category. */
function perRequest(a: string, b: string): Record<'compiler' | 'gc' | 'mutator', number> {
  const diff = join(dir, 'diff.cg');
  const d = spawnSync('cg_diff', [a, b], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (d.status !== 0) throw new Error(`cg_diff failed: ${d.stderr}`);
  writeFileSync(diff, d.stdout);
  const ann = spawnSync('cg_annotate', ['--auto=no', '--threshold=0', diff], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (ann.status !== 0) throw new Error(`cg_annotate failed: ${ann.stderr}`);
  const sums = { compiler: 0, gc: 0, mutator: 0 };
  for (const line of ann.stdout.split('\n')) {
    const m = /^\s*(-?[\d,]+)\s+\(\s*-?[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m || m[2]!.includes('PROGRAM TOTALS')) continue;
    sums[category(m[2]!)] += Number(m[1]!.replace(/,/g, ''));
  }
  for (const k of Object.keys(sums) as Array<keyof typeof sums>) sums[k] /= n2 - n1;
  return sums;
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (apt-get install -y valgrind)');
  const upstream = await start(['bin/tsx.js', 'bench/upstream.ts'], /^(\d+)$/m);
  const direct = `http://127.0.0.1:${upstream.match}`;
  const servers: Record<string, { args: string[]; ready: RegExp; env: Record<string, string> }> = {
    floor: { args: ['bin/tsx.js', 'bench/floor.ts', direct], ready: /^(\d+)$/m, env: {} },
    koa: { args: ['bin/tsx.js', 'bench/koa-floor.ts', direct], ready: /^(\d+)$/m, env: {} },
    gateway: { args: ['bin/gateway.js', '--config', 'bench/gateway.config.ts', '--port', '0'], ready: /^listening on (\S+)$/m, env: { BENCH_UPSTREAM: direct } },
  };
  const rows: string[] = [];
  for (const name of targets) {
    const s = servers[name];
    if (!s) throw new Error(`unknown target "${name}" (floor, koa, gateway)`);
    const [a, b] = await Promise.all([counted(name, s.args, s.ready, s.env, n1), counted(name, s.args, s.ready, s.env, n2)]);
    const p = perRequest(a, b);
    const k = (v: number) => (v / 1000).toFixed(0);
    rows.push(`| ${name === 'koa' ? 'koa floor' : name} | ${k(p.mutator)} | ${k(p.gc)} | ${k(p.mutator + p.gc)} | ${k(p.compiler)} |`);
    console.error(`${name}: done`);
  }
  console.log(`\nthousand instructions per request, requests ${n1}..${n2} after start, Node ${process.versions.node}\n`);
  console.log('| target | mutator | gc | mutator + gc | compiler (fades) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
