/**
 * `npm run bench:gc`: what garbage collection costs per request, for the Koa floor and the
 * gateway under the bench's load. Each server runs with V8's `--trace-gc-nvp`; after a warm-up,
 * the collections of the measured window are summed and divided by the requests served:
 * bytes allocated, bytes that survived a young-generation collection (scavenge), bytes promoted
 * to the old generation, and the main-thread pause and background scavenging time.
 *
 * Unlike req/s, surviving bytes per request hardly depend on how busy the machine is, so this is
 * the number to watch when a change adds objects that outlive their request (a bare Koa proxy
 * keeps well under 1 KB per request through a scavenge).
 *
 * BENCH_WARM (default 8) and BENCH_SECONDS (6) set the warm-up and measured seconds. A third
 * row loads the gateway with streamed requests (`stream: true`, passthrough), whose objects live
 * as long as the stream.
 */
import { readFileSync } from 'node:fs';
import { chatBody, launcher, load } from './lib.ts';

const warm = Number(process.env.BENCH_WARM ?? 8);
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const body = chatBody();
const streamBody = chatBody({ stream: true });

interface GcRecord {
  kind: string;
  pause: number;
  background: number;
  allocated: number;
  survived: number;
  promoted: number;
}

/** The `--trace-gc-nvp` lines of a log (other lines, the gateway's JSON logs, are skipped). */
function records(text: string): GcRecord[] {
  const out: GcRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(' gc=')) continue;
    const f = Object.fromEntries([...line.matchAll(/(\S+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const n = (k: string) => Number(f[k] ?? 0) || 0;
    out.push({ kind: f.gc ?? '?', pause: n('pause'), background: n('background.scavenge.parallel'), allocated: n('allocated'), survived: n('new_space_survived'), promoted: n('promoted') });
  }
  return out;
}

const { start, stopAll } = launcher();
const rows: string[] = [];
try {
  const up = await start(['bin/tsx.js', 'bench/upstream.ts'], /^(\d+)$/m);
  const direct = `http://127.0.0.1:${up.match}`;
  const targets = [
    { name: 'koa floor', args: ['--trace-gc-nvp', 'bin/tsx.js', 'bench/koa-floor.ts', direct], ready: /^(\d+)$/m },
    { name: 'gateway', args: ['--trace-gc-nvp', 'bin/gateway.js', '--config', 'bench/gateway.config.ts', '--port', '0'], ready: /^listening on (\S+)$/m },
    { name: 'gateway, streams', args: ['--trace-gc-nvp', 'bin/gateway.js', '--config', 'bench/gateway.config.ts', '--port', '0'], ready: /^listening on (\S+)$/m, body: streamBody },
  ];
  for (const t of targets) {
    const s = await start(t.args, t.ready, { BENCH_UPSTREAM: direct });
    const url = s.match.startsWith('http') ? s.match : `http://127.0.0.1:${s.match}`;
    await load(url, { duration: warm, connections: 64, body: t.body ?? body });
    const before = records(readFileSync(s.log, 'utf8')).length;
    const r = await load(url, { duration: seconds, connections: 64, body: t.body ?? body });
    const window = records(readFileSync(s.log, 'utf8')).slice(before);
    await s.stop();
    const n = r.rps * seconds;
    const sum = (k: keyof GcRecord, kind?: string) => window.filter((g) => !kind || g.kind === kind).reduce((a, g) => a + (g[k] as number), 0);
    const kb = (v: number) => (v / n / 1024).toFixed(1);
    const us = (ms: number) => ((ms * 1000) / n).toFixed(0);
    rows.push(
      `| ${t.name} | ${Math.round(r.rps)} | ${kb(sum('allocated'))} | ${kb(sum('survived', 's'))} | ${kb(sum('promoted', 's'))} | ${us(sum('pause'))} | ${us(sum('background'))} | ${window.filter((g) => g.kind === 's').length} / ${window.filter((g) => g.kind !== 's').length} |`,
    );
  }
} finally {
  await stopAll();
}
console.log(`\n64 connections, ${warm}s warm-up, ${seconds}s measured, Node ${process.versions.node}\n`);
console.log('| target | req/s | allocated KB/req | survived a scavenge KB/req | promoted KB/req | GC pause µs/req | background scavenge µs/req | scavenges / full GCs |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
