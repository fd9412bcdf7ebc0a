/**
 * `gateway --workers N`: N worker processes (node:cluster) share one port, each a full gateway.
 * The primary only supervises: it restarts a worker that dies, forwards SIGTERM/SIGINT as a
 * graceful drain, and answers `/metrics` with the sum over all workers (prom-client's
 * AggregatorRegistry), so a scrape sees the instance, not whichever worker took the connection.
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { loadConfig, type ResolvedConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger, type LogOptions } from './logging.ts';
import { createMetricsRegistry, type MetricsRegistry } from './metrics.ts';

const METRICS_REQ = 'switchyard:metrics-req';
const METRICS_RES = 'switchyard:metrics-res';
/** Deaths within this window count towards the crash-loop back-off. */
const CRASH_WINDOW_MS = 10_000;

/**
 * Refuses several workers over the embedded memory store (limits, sticky bindings and circuits
 * would silently be per worker) unless the config sets `server.allowPerWorkerState`.
 *
 * @example
 * ```ts
 * assertWorkersAllowed(config, 2); // throws a ConfigError for { store: { type: 'memory' } }
 * ```
 */
export function assertWorkersAllowed(config: ResolvedConfig, workers: number): void {
  if (config.store.type !== 'memory' || config.server.allowPerWorkerState) return;
  throw new ConfigError(
    `${config.path || 'config'}: --workers ${workers} with the in-memory store would keep rate limits, sticky bindings ` +
      `and circuit state per worker; configure a shared store (e.g. store: { type: 'redis', ... }) or set server.allowPerWorkerState: true`,
  );
}

/** Options for {@link runPrimary}. */
export interface PrimaryOptions {
  workers: number;
  configPath: string;
  log: Omit<LogOptions, 'secrets'>;
  /** Writes the `listening on URL` line once every worker listens. */
  announce(url: string): void;
}

/**
 * Runs the cluster primary until a signal stops it; resolves to the exit code (0 when every
 * worker drained and exited cleanly).
 *
 * @example
 * ```ts
 * process.exitCode = await runPrimary({ workers: 4, configPath, log: {}, announce: (u) => console.log(`listening on ${u}`) });
 * ```
 */
export async function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { config } = await loadConfig(opts.configPath);
  assertWorkersAllowed(config, opts.workers);
  const logger = createLogger({ ...opts.log, level: opts.log.level ?? process.env.LOG_LEVEL ?? config.log.level }).child({ role: 'primary' });
  const aggregator = new AggregatorRegistry();
  const listening = new Set<number>();
  const deaths: number[] = [];
  let announced = false;
  let stopping = false;
  let failed = false;
  let killTimer: NodeJS.Timeout | undefined;

  return new Promise<number>((resolve) => {
    const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    // Each worker has a slot (1..N) that its replacement inherits: the embedded store journals to
    // one file per slot, so a restarted worker finds its own durable data again.
    const slots = new Map<number, number>();
    const fork = (slot: number) => slots.set(cluster.fork({ SWITCHYARD_WORKER: '1', SWITCHYARD_WORKER_SLOT: String(slot) }).id, slot);
    const stop = (reason: string, code = 0) => {
      if (stopping) {
        // a second signal: stop now
        for (const w of alive()) w.process.kill('SIGKILL');
        return;
      }
      stopping = true;
      failed ||= code !== 0;
      logger.info({ reason, workers: alive().length }, 'shutting down workers');
      for (const w of alive()) w.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        logger.warn('workers did not stop in time; killing them');
        for (const w of alive()) w.process.kill('SIGKILL');
      }, config.server.shutdownGraceMs + 5_000).unref();
      if (!alive().length) finish();
    };
    const finish = () => {
      clearTimeout(killTimer);
      for (const s of ['SIGTERM', 'SIGINT'] as const) process.removeListener(s, onSignal);
      logger.info({ code: failed ? 1 : 0 }, 'stopped');
      resolve(failed ? 1 : 0);
    };
    const onSignal = (signal: NodeJS.Signals) => stop(signal);

    cluster.on('listening', (w, addr) => {
      listening.add(w.id);
      logger.info({ worker: w.process.pid }, 'worker listening');
      if (announced || listening.size < opts.workers) return;
      announced = true;
      const host = addr.addressType === 6 || addr.address?.includes(':') ? `[${addr.address}]` : addr.address;
      opts.announce(`http://${host ?? '127.0.0.1'}:${addr.port}`);
    });
    cluster.on('exit', (w, code, signal) => {
      listening.delete(w.id);
      const slot = slots.get(w.id) ?? 1;
      slots.delete(w.id);
      if (stopping) {
        if (code !== 0 && signal !== 'SIGTERM') failed = true;
        if (!alive().length) finish();
        return;
      }
      if (!announced) {
        logger.error({ worker: w.process.pid, code, signal }, 'a worker failed to start');
        return stop('startup failed', 1);
      }
      const now = Date.now();
      deaths.push(now);
      while (deaths.length && now - deaths[0]! > CRASH_WINDOW_MS) deaths.shift();
      const delay = deaths.length > 3 ? 1_000 : 0; // crash loop: slow down
      logger.warn({ worker: w.process.pid, code, signal, restartInMs: delay }, 'worker died; starting a replacement');
      setTimeout(() => !stopping && fork(slot), delay).unref();
    });
    cluster.on('message', (w, msg: { type?: string; id?: number }) => {
      if (msg?.type !== METRICS_REQ) return;
      aggregator.clusterMetrics().then(
        (body) => w.isConnected() && w.send({ type: METRICS_RES, id: msg.id, body }),
        (err: Error) => w.isConnected() && w.send({ type: METRICS_RES, id: msg.id, error: err.message }),
      );
    });
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    logger.info({ workers: opts.workers, path: config.path }, 'starting workers');
    for (let i = 1; i <= opts.workers; i++) fork(i);
  });
}

/**
 * The metrics registry of a cluster worker: it answers the primary's collection requests, and
 * its `render()` asks the primary for the sum over every worker (falling back to its own series
 * if the primary does not answer).
 *
 * @example
 * ```ts
 * const gw = await startGateway({ configPath, metrics: cluster.isWorker ? workerMetrics() : undefined });
 * ```
 */
export function workerMetrics(timeoutMs = 6_000): MetricsRegistry {
  const pending = new Map<number, (r: { body?: string; error?: string }) => void>();
  let seq = 0;
  process.on('message', (msg: { type?: string; id?: number; body?: string; error?: string }) => {
    if (msg?.type === METRICS_RES && msg.id !== undefined) pending.get(msg.id)?.(msg);
  });
  const metrics = createMetricsRegistry({
    render: (registry) =>
      new Promise<string>((resolve) => {
        const id = ++seq;
        const local = () => {
          pending.delete(id);
          clearTimeout(timer);
          resolve(registry.metrics());
        };
        const timer = setTimeout(local, timeoutMs);
        pending.set(id, (r) => (r.body !== undefined ? (pending.delete(id), clearTimeout(timer), resolve(r.body)) : local()));
        if (!process.send?.({ type: METRICS_REQ, id })) local();
      }),
  });
  AggregatorRegistry.setRegistries([metrics.registry]);
  void new AggregatorRegistry(); // installs prom-client's worker-side listener
  return metrics;
}
