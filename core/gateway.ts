/**
 * The running gateway: loads the config, owns the store, the logger and the undici Agent, serves
 * the current pipeline version, hot-reloads (build beside, swap one reference, close the old one
 * once drained) and shuts down gracefully.
 *
 * @module
 */
import type { AddressInfo } from 'node:net';
import { ActiveRequests } from './active.ts';
import { countActive, createApp } from './app.ts';
import type { Gateway, GatewayOptions, ReloadResult } from './gateway-types.ts';
import { loadConfig, resolveConfig, type ResolvedConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger, isLogLevel, LOG_LEVELS } from './logging.ts';
import { createMetricsRegistry } from './metrics.ts';
import { buildVersion, type PipelineVersion } from './pipeline.ts';
import type { GatewayContext, GatewayStatus } from './plugin.ts';
import { watchFiles, type ConfigWatcher } from './reload.ts';
import { createStore } from './store.ts';
import { createDispatcher } from './upstream.ts';

export type { Gateway, GatewayOptions, ReloadResult } from './gateway-types.ts';

async function load(opts: GatewayOptions): Promise<{ config: ResolvedConfig; dependencies: string[] }> {
  const env = opts.env ?? process.env;
  if (opts.configPath) return loadConfig(opts.configPath, { env });
  const exported = opts.config;
  const user = typeof exported === 'function' ? await exported({ env }) : exported;
  return { config: resolveConfig(user, ''), dependencies: [] };
}

/**
 * Loads the config, starts the first pipeline version and listens.
 *
 * @example
 * ```ts
 * const gw = await startGateway({ configPath: './gateway.config.ts', builtins });
 * console.log(gw.url);
 * ```
 */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const first = await load(opts);
  const secrets = new Set<string>();
  collectSecrets(first.config, secrets);
  // Level: the caller's (CLI flag) > LOG_LEVEL > the config's log.level.
  const fixedLevel = opts.log?.level ?? process.env.LOG_LEVEL;
  if (fixedLevel !== undefined && !isLogLevel(fixedLevel)) throw new ConfigError(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')} (got "${fixedLevel}")`);
  const logger =
    opts.logger ??
    createLogger({ ...opts.log, level: fixedLevel ?? first.config.log.level, redact: [...(opts.log?.redact ?? []), ...first.config.log.redact], secrets });
  // Created once: a reload keeps the store (changing `store` in the config needs a restart).
  const store = await createStore(first.config.store, { logger, configPath: first.config.path || undefined, workerSlot: opts.workerSlot });
  // Per-origin connect timeouts come from the providers of the latest config (a pool keeps the
  // timeout it was created with; new origins after a reload pick up their own).
  const connectTimeouts = new Map<string, number>();
  const dispatcher = createDispatcher({ connectTimeouts });
  const metrics = opts.metrics ?? createMetricsRegistry();
  const reloads = metrics.counter({ name: 'switchyard_config_reloads_total', help: 'Config reloads by result.', labelNames: ['result'] as const });
  const activeVersion = metrics.gauge({ name: 'switchyard_config_version', help: 'Id of the pipeline version serving new requests.', aggregator: 'max' });
  for (const result of ['ok', 'error']) reloads.inc({ result }, 0);
  const active = new ActiveRequests<GatewayContext>();
  let versions = 0;
  let closing = false;
  const retired = new Set<PipelineVersion>();
  const status = (): GatewayStatus => ({ closing, version: versionId(), ...countActive(active) });

  const build = (config: ResolvedConfig): Promise<PipelineVersion> => {
    noteConnectTimeouts(config, connectTimeouts);
    return buildVersion(config, { id: ++versions, logger, store, dispatcher, metrics, builtins: opts.builtins(), reload: (r) => gateway.reload(r), status });
  };

  // Assigned just below; the status closure may run during the first build (version 0).
  let current!: PipelineVersion;
  const versionId = (): number => (current ? current.id : 0);
  current = await build(first.config);
  activeVersion.set(current.id);
  logger.info({ version: current.id, path: first.config.path || undefined }, 'config loaded');

  const closeVersion = (v: PipelineVersion) => {
    retired.delete(v);
    void v.close().then(() => logger.info({ version: v.id }, 'pipeline version closed'));
  };
  const app = createApp({
    logger,
    active,
    closing: () => closing,
    current: () => current,
    released(v) {
      v.inflight--;
      if (retired.has(v) && v.inflight === 0) closeVersion(v);
    },
  });

  let watcher: ConfigWatcher | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const reload = (reason = 'requested'): Promise<ReloadResult> => {
    const run = async (): Promise<ReloadResult> => {
      if (closing) return { ok: false, version: current.id, error: 'shutting down' };
      const previousLevel = logger.level;
      try {
        const next = await load(opts);
        collectSecrets(next.config, secrets);
        // Before the build: the new version's plugin loggers are children made now, and a pino
        // child keeps the level it was created with.
        if (!opts.logger && !fixedLevel) logger.level = next.config.log.level;
        const version = await build(next.config);
        const old = current;
        current = version;
        watcher?.update(next.dependencies);
        retired.add(old);
        if (old.inflight === 0) closeVersion(old);
        reloads.inc({ result: 'ok' });
        activeVersion.set(version.id);
        logger.info({ version: version.id, reason }, 'config reloaded');
        return { ok: true, version: version.id };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        logger.level = previousLevel;
        reloads.inc({ result: 'error' });
        logger.error({ reason, error }, 'config reload failed; keeping previous config');
        return { ok: false, version: current.id, error };
      }
    };
    const p = chain.then(run);
    chain = p.catch(() => undefined);
    return p;
  };

  const host = opts.host ?? first.config.server.host;
  const port = opts.port ?? first.config.server.port;
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0; // streams may run long; upstream timeouts bound them instead
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  if (opts.configPath && opts.watch !== false) {
    watcher = watchFiles(first.dependencies, (file) => void reload(`changed: ${file}`));
  }

  const gateway: Gateway = {
    url,
    server,
    logger,
    store,
    metrics,
    status,
    current: () => current,
    get closing() {
      return closing;
    },
    reload,
    async close() {
      if (closing) return;
      // Readiness flips first; the listener stays open while in-flight work drains, so a load
      // balancer probing /ready sees 503 (and responses say `connection: close`) meanwhile.
      closing = true;
      logger.info({ inflight: countActive(active).inflight }, 'shutting down');
      await watcher?.close();
      const grace = current.config.server.shutdownGraceMs;
      // `current.inflight` also counts requests whose onDone callbacks (usage records) still run.
      if (!(await waitFor(() => active.size === 0 && retired.size === 0 && current.inflight === 0, grace))) {
        logger.warn({ inflight: active.size }, 'grace period over; closing open connections');
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      server.closeAllConnections();
      await closed;
      await current.close();
      for (const v of retired) await v.close();
      await store.close();
      await dispatcher.close();
      logger.info('stopped');
    },
  };
  return gateway;
}

/** Adds the secret values a config declares (providers' and plugins' `secrets`) to `into`. */
function collectSecrets(config: ResolvedConfig, into: Set<string>): void {
  const values = [...Object.values(config.providers).flatMap((p) => p.secrets ?? []), ...config.pipeline.flatMap((p) => p.secrets ?? []), ...config.log.secrets];
  for (const v of values) if (typeof v === 'string' && v.length >= 6) into.add(v);
}

function noteConnectTimeouts(config: ResolvedConfig, into: Map<string, number>): void {
  for (const p of Object.values(config.providers)) {
    if (!p.baseURL || p.connectTimeoutMs === undefined) continue;
    try {
      into.set(new URL(p.baseURL).origin, p.connectTimeoutMs);
    } catch {
      // an invalid baseURL fails on the first request with a clear upstream error
    }
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
