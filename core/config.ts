/**
 * `defineConfig` and loading `gateway.config.ts` with tsx (reporting every local file it imports,
 * so hot reload can watch them). Validation with field-named errors is `config-resolve.ts`.
 *
 * @module
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { configFilesAreEsm, shareModules } from './config-esm.ts';
import { resolveConfig } from './config-resolve.ts';
import { ConfigError } from './errors.ts';
import type { LogConfig, ResolvedLogConfig } from './logging.ts';
import type { Plugin, Provider, Target } from './plugin.ts';
import type { StoreConfig } from './store.ts';

/** A target in the config: an object, or the shorthand `'provider/model'`. */
export type TargetSpec = Target | `${string}/${string}`;

/** A pipeline entry: falsy entries are dropped and nested arrays flattened (presets). */
export type PluginOption = Plugin | false | null | undefined | PluginOption[];

/** The config as a user writes it. */
export interface UserConfig {
  server?: {
    /** @default '127.0.0.1' */
    host?: string;
    /** @default 8787 */
    port?: number;
    /** Largest accepted request body in bytes. @default 10 * 1024 * 1024 */
    bodyLimit?: number;
    /** How long shutdown waits for in-flight requests and streams. @default 30_000 */
    shutdownGraceMs?: number;
    /**
     * A streamed answer silent this long (a model thinking) gets an SSE comment line, which every
     * client ignores, so idle timeouts of proxies and load balancers on the way do not cut it.
     * `0` turns it off. @default 15_000
     */
    sseKeepAliveMs?: number;
    /**
     * Lets `gateway --workers N` run with the embedded memory store, each worker then keeping
     * its own limits, sticky bindings and circuits. Without it, workers need a shared store.
     * @default false
     */
    allowPerWorkerState?: boolean;
  };
  /** Upstreams by name, each made by a factory (`openai()`, `anthropic()`, `mock()` ...). */
  providers: Record<string, Provider>;
  /** Logical model name → one target or a list (priority, weight). */
  models?: Record<string, TargetSpec | TargetSpec[]>;
  /** Ordered plugins. Omitted means the default pipeline. Order is meaning. */
  pipeline?: PluginOption[];
  /** Logging. */
  log?: LogConfig;
  /** The gateway's state store. @default { type: 'memory' } */
  store?: StoreConfig;
}

/** What `defineConfig` accepts: the config, or a (possibly async) function of the environment. */
export type ConfigExport = UserConfig | ((env: ConfigEnv) => UserConfig | Promise<UserConfig>);

/** Passed to a config function. */
export interface ConfigEnv {
  env: Record<string, string | undefined>;
}

/** The validated config with defaults filled in. Frozen; plugins never mutate it. */
export interface ResolvedConfig {
  /** Absolute path of the config file ('' for inline configs). */
  path: string;
  server: Required<NonNullable<UserConfig['server']>>;
  providers: Readonly<Record<string, Provider>>;
  models: Readonly<Record<string, readonly Target[]>>;
  /** The user's pipeline, flattened and tier-sorted (before built-ins are added). */
  pipeline: readonly Plugin[];
  /** Whether the config declared `pipeline` (otherwise the default pipeline is used). */
  pipelineGiven: boolean;
  log: ResolvedLogConfig;
  store: StoreConfig;
}

/**
 * Identity function that types a config. Accepts an object or a function of `{ env }`.
 *
 * @example
 * ```ts
 * import { defineConfig, mock } from 'switchyard';
 * export default defineConfig({ providers: { echo: mock() }, models: { demo: 'echo/echo' } });
 * ```
 */
export function defineConfig<T extends ConfigExport>(config: T): T {
  return config;
}

let loads = 0;
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** This package's own folders: a config load shares their modules with the running gateway. */
const SHARED = ['core', 'plugins'].map((d) => pathToFileURL(`${packageRoot}/${d}/`).href);

/** A loaded config file and the local files it imported (to watch). */
export interface LoadedConfig {
  path: string;
  config: ResolvedConfig;
  dependencies: string[];
}

/**
 * Imports a config file with tsx in a fresh namespace (so edited imported files are really
 * re-evaluated), calls it when it is a function, and validates it.
 *
 * @example
 * ```ts
 * const { config, dependencies } = await loadConfig('./gateway.config.ts');
 * ```
 */
export async function loadConfig(file: string, env: ConfigEnv = { env: process.env }): Promise<LoadedConfig> {
  const path = resolve(file);
  const deps = new Set<string>();
  configFilesAreEsm(import.meta.url);
  const api = register({
    namespace: `switchyard-config-${++loads}`,
    onImport(url) {
      if (!url.startsWith('file:')) return;
      const f = fileURLToPath(url.split('?')[0]!);
      if (f.includes('/node_modules/') || f.startsWith(packageRoot + '/core/') || f.startsWith(packageRoot + '/plugins/')) return;
      deps.add(f);
    },
  });
  const shared = shareModules(SHARED);
  let exported: unknown;
  try {
    const mod = (await api.import(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
    exported = mod.default;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && !deps.size) {
      throw new ConfigError(`${path}: file not found`);
    }
    throw new ConfigError(`${path}: failed to load: ${firstLine(err)}`, { cause: err });
  } finally {
    shared.release();
    await api.unregister();
  }
  const user = typeof exported === 'function' ? await (exported as (e: ConfigEnv) => unknown)(env) : exported;
  deps.add(path);
  return { path, config: resolveConfig(user, path), dependencies: [...deps] };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const lines = msg.split('\n').filter((l) => l.trim());
  // esbuild (inside tsx) puts the useful part, "file:line:col: ERROR: ...", on the second line
  const located = lines.find((l) => /:\d+:\d+: ERROR: /.test(l));
  return located ? located.replace(/^.*?:(\d+:\d+): ERROR: /, 'line $1: ') : (lines[0] ?? 'unknown error');
}

export { resolveConfig };
