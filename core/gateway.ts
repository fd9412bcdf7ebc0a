/**
 * The running gateway: loads the config, owns the store, the logger and the undici Agent, serves
 * the current pipeline version, hot-reloads (build beside, swap one reference, close the old one
 * once drained) and shuts down gracefully.
 *
 * @module
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createApp } from './app.ts';
import { loadConfig, resolveConfig, type ConfigExport, type ResolvedConfig } from './config.ts';
import { buildVersion, type Builtins, type PipelineVersion } from './pipeline.ts';
import { watchFiles, type ConfigWatcher } from './reload.ts';
import { memoryStore, type Store } from './store.ts';
import { createDispatcher } from './upstream.ts';

/** Options for {@link startGateway}. */
export interface GatewayOptions {
  /** Path of `gateway.config.ts`; watched for changes unless `watch` is false. */
  configPath?: string;
  /** An inline config instead of a file (tests, embedding). */
  config?: ConfigExport;
  /** Overrides `server.host`. */
  host?: string;
  /** Overrides `server.port` (0 picks a free port). */
  port?: number;
  /** Watch the config and its imports. @default true when `configPath` is set */
  watch?: boolean;
  logger?: Logger;
  /** Built-in plugins (formats, models, admin): supplied by the package root. */
  builtins: () => Builtins;
}

/** Result of a reload. */
export interface ReloadResult {
  ok: boolean;
  version: number;
  error?: string;
}

/** A started gateway. */
export interface Gateway {
  /** `http://host:port` it listens on. */
  url: string;
  server: Server;
  logger: Logger;
  store: Store;
  /** The version serving new requests. */
  current(): PipelineVersion;
  /** True once shutdown began (`/ready` answers 503). */
  readonly closing: boolean;
  /** Reloads the config; on failure the running version stays. */
  reload(reason?: string): Promise<ReloadResult>;
  /** Stops accepting, waits for in-flight requests and streams (up to the grace period), closes. */
  close(): Promise<void>;
}

async function load(opts: GatewayOptions): Promise<{ config: ResolvedConfig; dependencies: string[] }> {
  if (opts.configPath) return loadConfig(opts.configPath);
  const exported = opts.config;
  const user = typeof exported === 'function' ? await exported({ env: process.env }) : exported;
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
  const logger = opts.logger ?? pino({ level: first.config.log.level, base: undefined });
  const store = memoryStore({ maxKeys: first.config.store.maxKeys });
  const dispatcher = createDispatcher();
  let versions = 0;
  let closing = false;
  const retired = new Set<PipelineVersion>();

  const build = (config: ResolvedConfig): Promise<PipelineVersion> =>
    buildVersion(config, { id: ++versions, logger, store, dispatcher, builtins: opts.builtins(), reload: (r) => gateway.reload(r), status: () => ({ closing, version: versionId() }) });

  // Assigned just below; the status closure may run during the first build (version 0).
  let current!: PipelineVersion;
  const versionId = (): number => (current ? current.id : 0);
  current = await build(first.config);
  logger.info({ version: current.id, path: first.config.path || undefined }, 'config loaded');

  const closeVersion = (v: PipelineVersion) => {
    retired.delete(v);
    void v.close().then(() => logger.info({ version: v.id }, 'pipeline version closed'));
  };
  const app = createApp({
    logger,
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
      try {
        const next = await load(opts);
        const version = await build(next.config);
        const old = current;
        current = version;
        watcher?.update(next.dependencies);
        retired.add(old);
        if (old.inflight === 0) closeVersion(old);
        logger.info({ version: version.id, reason }, 'config reloaded');
        return { ok: true, version: version.id };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
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
    current: () => current,
    get closing() {
      return closing;
    },
    reload,
    async close() {
      if (closing) return;
      closing = true;
      logger.info('shutting down');
      await watcher?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = current.config.server.shutdownGraceMs;
      const drained = waitFor(() => current.inflight === 0 && retired.size === 0, grace);
      if (!(await drained)) {
        logger.warn({ inflight: current.inflight }, 'grace period over; closing open connections');
      }
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

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
