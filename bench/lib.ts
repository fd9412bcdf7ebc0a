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

/** The bench's ~400-byte prompt. */
export const PROMPT = 'You are a careful assistant. Summarise the following paragraph in one sentence. '.repeat(5).slice(0, 400);

/**
 * A chat request body with {@link PROMPT}: `{ model: 'bench-model', ...fields, messages }`.
 *
 * @example
 * ```ts
 * chatBody({ stream: true }); // '{"model":"bench-model","stream":true,"messages":[...]}'
 * ```
 */
export const chatBody = (fields: Record<string, unknown> = {}) => JSON.stringify({ model: 'bench-model', ...fields, messages: [{ role: 'user', content: PROMPT }] });

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

/**
 * CPU time (user + system) process `pid` has used, in µs (Linux: /proc): all its threads, or
 * with `mainThread` only the thread running JavaScript (what caps a single-threaded server).
 */
export function cpuMicros(pid: number, mainThread = false): number {
  const fields = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // clock ticks of 10 ms
}

/**
 * Requests served by autocannon, run in a process of its own on CPU 0 (`taskset`), against
 * `url` for `duration` s; throws on any non-2xx or error.
 */
export function loadFromCpu0(url: string, opts: { duration: number; connections: number; body: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ['-c', '0', process.execPath, join(root, 'node_modules/autocannon/autocannon.js'), '-j', '-c', String(opts.connections), '-d', String(opts.duration)];
    const p = spawn('taskset', [...args, '-m', 'POST', '-H', 'content-type=application/json', '-b', opts.body, `${url}/v1/chat/completions`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.once('exit', () => {
      try {
        const r = JSON.parse(out) as { requests: { total: number }; non2xx: number; errors: number };
        if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        resolve(r.requests.total);
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** The value at quantile `q` of `xs` (nearest rank). */
export const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1) + 0.5)]!;

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
