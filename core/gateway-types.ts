/**
 * The shapes of a running gateway: the options {@link startGateway} takes and the handle it
 * returns (re-exported by `gateway.ts`).
 *
 * @module
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { ConfigExport } from './config.ts';
import type { LogOptions } from './logging.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { Builtins, PipelineVersion } from './pipeline.ts';
import type { GatewayStatus } from './plugin.ts';
import type { Store } from './store.ts';
import type { startGateway } from './gateway.ts';

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
  /**
   * How the gateway logs. `level` wins over `LOG_LEVEL`, which wins over the config's
   * `log.level`; every config's secrets are censored from every line.
   */
  log?: Omit<LogOptions, 'secrets'>;
  /** A ready-made logger instead of `log` (embedding): its redaction is then the caller's. */
  logger?: Logger;
  /** The metrics registry (one per gateway). @default a new one, with process metrics */
  metrics?: MetricsRegistry;
  /** Environment handed to config functions (`defineConfig(({ env }) => ...)`). @default process.env */
  env?: Record<string, string | undefined>;
  /** Built-in plugins (formats, models, admin): supplied by the package root. */
  builtins: () => Builtins;
  /** Set by `--workers`: this worker's stable slot (1..N); the embedded store keeps one file per slot. */
  workerSlot?: number;
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
  metrics: MetricsRegistry;
  /** Shutting down, serving version, in-flight requests and open streams. */
  status(): GatewayStatus;
  /** The version serving new requests. */
  current(): PipelineVersion;
  /** True once shutdown began (`/ready` answers 503). */
  readonly closing: boolean;
  /** Reloads the config; on failure the running version stays. */
  reload(reason?: string): Promise<ReloadResult>;
  /** Stops accepting, waits for in-flight requests and streams (up to the grace period), closes. */
  close(): Promise<void>;
}
