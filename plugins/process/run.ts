/**
 * The mechanics behind `processProvider`: a concurrency limiter with a bounded queue, and one
 * child process run whose stdout is read as text chunks and whose failures (exit codes, signals,
 * timeouts, client aborts, a missing command) become gateway errors.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { UpstreamError } from '../../core/errors.ts';
import { scrub } from '../../core/http-provider.ts';

/** Slots for running processes, and a bounded FIFO of requests waiting for one. */
export interface Limiter {
  /** Resolves with a release function once a slot is free; throws 503 when the queue is full. */
  acquire(signal: AbortSignal, provider: string): Promise<() => void>;
  stats(): { running: number; queued: number };
}

/**
 * A limiter of `max` concurrent runs and at most `maxQueue` waiting ones.
 *
 * @example
 * ```ts
 * const release = await limiter.acquire(call.signal, call.name);
 * ```
 */
export function createLimiter(max: number, maxQueue: number): Limiter {
  let running = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      running--;
      queue.shift()?.();
    };
  };
  return {
    stats: () => ({ running, queued: queue.length }),
    async acquire(signal, provider) {
      if (signal.aborted) throw aborted(provider);
      if (running < max) {
        running++;
        return release();
      }
      if (queue.length >= maxQueue) {
        throw new UpstreamError('overloaded', `process "${provider}" is busy (${max} running, ${queue.length} waiting)`, {
          status: 503,
          provider,
          headers: { 'retry-after': '1' },
        });
      }
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          running++;
          resolve();
        };
        const onAbort = () => {
          queue.splice(queue.indexOf(grant), 1);
          reject(aborted(provider));
        };
        queue.push(grant);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      return release();
    },
  };
}

const aborted = (provider: string) => new UpstreamError('client_aborted', 'the client closed the request', { status: 499, provider });

/** What one run needs. */
export interface RunSpec {
  provider: string;
  command: string;
  args: string[];
  /** Written to stdin and closed; `undefined` leaves stdin closed. */
  stdin?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs: number;
  /** Exit code → HTTP status; unlisted non-zero codes are 502. */
  exitCodes: Record<number, number>;
  signal: AbortSignal;
}

/** A started process. */
export interface Run {
  pid: number | undefined;
  /** stdout as UTF-8 text chunks; throws the mapped error if the process failed. */
  output: AsyncGenerator<string, void, undefined>;
  /** Settles once the process has exited and its pipes have closed (never rejects). */
  closed: Promise<void>;
  /** Asks the process to stop (SIGTERM, then SIGKILL after a grace period). */
  kill(): void;
}

const KILL_GRACE_MS = 2_000;
const STDERR_TAIL = 4_096;

/**
 * Starts the command (no shell) and returns its run. Reading `output` to the end waits for the
 * exit and throws an {@link UpstreamError} on any failure; returning early kills the process.
 *
 * @example
 * ```ts
 * const run = startRun({ provider: 'cli', command: 'ollama', args: ['run', 'llama3.2'], stdin: prompt, ... });
 * for await (const text of run.output) process.stdout.write(text);
 * ```
 */
export function startRun(spec: RunSpec): Run {
  const { provider } = spec;
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    shell: false,
    stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  let reason: 'timeout' | 'aborted' | undefined;
  let exited = false;
  let stderr = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException } | undefined;
  const kill = () => {
    if (exited) return;
    child.kill('SIGTERM');
    setTimeout(() => exited || child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  };
  const closed = new Promise<void>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      exit ??= { code: null, signal: null, error };
      exited = true;
      resolve();
    });
    child.once('close', (code, signal) => {
      exit ??= { code, signal };
      exited = true;
      resolve();
    });
  });
  const timer = setTimeout(() => {
    reason ??= 'timeout';
    kill();
  }, spec.timeoutMs);
  const onAbort = () => {
    reason ??= 'aborted';
    kill();
  };
  spec.signal.addEventListener('abort', onAbort, { once: true });
  void closed.then(() => {
    clearTimeout(timer);
    spec.signal.removeEventListener('abort', onAbort);
  });
  if (spec.signal.aborted) onAbort();
  if (child.stdin) {
    child.stdin.on('error', () => {}); // the command may exit without reading its input (EPIPE)
    child.stdin.end(spec.stdin);
  }
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
  child.stdout!.setEncoding('utf8'); // a StringDecoder: multi-byte characters split across chunks stay whole

  const failure = (): UpstreamError | undefined => {
    if (reason === 'aborted') return new UpstreamError('client_aborted', 'the client closed the request', { status: 499, provider });
    if (reason === 'timeout') {
      return new UpstreamError('upstream_timeout', `process "${provider}" timed out after ${spec.timeoutMs} ms`, { status: 504, provider });
    }
    if (!exit) return undefined;
    if (exit.error) {
      const missing = exit.error.code === 'ENOENT';
      return new UpstreamError('upstream_unreachable', `process "${provider}" could not start${missing ? ': command not found' : ` (${exit.error.code ?? 'error'})`}`, {
        status: 502,
        provider,
        cause: exit.error,
      });
    }
    if (exit.signal) return new UpstreamError('process_failed', `process "${provider}" was killed by ${exit.signal}`, { status: 502, provider });
    if (exit.code === 0) return undefined;
    const status = spec.exitCodes[exit.code!] ?? 502;
    const lastLine = scrub(stderr.trim().split('\n').at(-1) ?? '').slice(0, 200);
    const message = status < 500 && lastLine ? lastLine : `process "${provider}" exited with code ${exit.code}`;
    return new UpstreamError('process_failed', message, { status, expose: true, provider });
  };

  async function* output(): AsyncGenerator<string, void, undefined> {
    try {
      let readError: unknown;
      try {
        for await (const chunk of child.stdout!) yield chunk as string;
      } catch (err) {
        readError = err; // a broken pipe: the exit status below says more
      }
      await closed;
      const err = failure();
      if (err) throw err;
      if (readError) throw new UpstreamError('process_failed', `process "${provider}" output could not be read`, { status: 502, provider, cause: readError });
    } finally {
      kill(); // the consumer stopped early (client gone, plugin threw): never leave the process running
    }
  }
  return { pid: child.pid, output: output(), closed, kill };
}
