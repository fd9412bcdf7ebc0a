/**
 * Bench helpers: start a server process (stdout to a file, as a deployed gateway's logs would
 * be) and wait for its ready line; drive it with autocannon; stop what was started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export const root = join(import.meta.dirname, '..');

/** A started process and the first match of its ready pattern. */
export interface Started {
  child: ChildProcess;
  match: string;
  /** The file its stdout goes to (removed by `stop`). */
  log: string;
  /** SIGTERM, then resolves once it exited. */
  stop(): Promise<void>;
}

/** Processes started by `start`, stopped (and their log files removed) by `stop` or `stopAll`. */
export function launcher() {
  const stops: Array<() => Promise<void>> = [];
  async function start(args: string[], pattern: RegExp, env: Record<string, string> = {}, cwd = root): Promise<Started> {
    const log = join(tmpdir(), `switchyard-bench-${process.pid}-${stops.length}.log`);
    const out = openSync(log, 'w');
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', out, 'inherit'] });
    const exited = new Promise<void>((r) =>
      child.once('exit', () => {
        closeSync(out);
        r();
      }),
    );
    // the log file goes once the process exited (a gateway at info logs every request: many MB)
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(log, { force: true });
    };
    stops.push(stop);
    for (let i = 0; i < 600; i++) {
      const m = pattern.exec(readFileSync(log, 'utf8'));
      if (m) return { child, match: m[1]!, log, stop };
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const output = readFileSync(log, 'utf8').slice(0, 2000);
    await stop();
    throw new Error(`${args.join(' ')} did not start: ${output}`);
  }
  const stopAll = () => Promise.all(stops.map((stop) => stop())).then(() => undefined);
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
