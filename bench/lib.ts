/**
 * Bench helpers: start a server process (stdout to a file, as a deployed gateway's logs would
 * be) and wait for its ready line; drive it with autocannon; stop what was started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export const root = join(import.meta.dirname, '..');

/** A started process and the first match of its ready pattern. */
export interface Started {
  child: ChildProcess;
  match: string;
  /** SIGTERM, then resolves once it exited. */
  stop(): Promise<void>;
}

/** Processes started by {@link start}, stopped by {@link stopAll}. */
export function launcher() {
  const children: ChildProcess[] = [];
  async function start(args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<Started> {
    const log = join(tmpdir(), `switchyard-bench-${process.pid}-${children.length}.log`);
    const out = openSync(log, 'w');
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', out, 'inherit'] });
    children.push(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    for (let i = 0; i < 600; i++) {
      const m = pattern.exec(readFileSync(log, 'utf8'));
      if (m) return { child, match: m[1]!, stop };
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${args.join(' ')} did not start: ${readFileSync(log, 'utf8').slice(0, 2000)}`);
  }
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  return { start, stopAll };
}

/** Load for `duration` seconds; throws on any non-2xx or error. */
export async function load(url: string, opts: { duration: number; connections: number; body: string; path?: string }) {
  const r = await autocannon({
    url: `${url}${opts.path ?? '/v1/chat/completions'}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: opts.body,
    connections: opts.connections,
    duration: opts.duration,
  });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}
