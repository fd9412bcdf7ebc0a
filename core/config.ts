/**
 * `defineConfig`, loading `gateway.config.ts` with tsx (reporting every local file it imports,
 * so hot reload can watch them), and validation with field-named errors.
 *
 * @module
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { configFilesAreEsm } from './config-esm.ts';
import { ConfigError } from './errors.ts';
import { resolveLogConfig, type LogConfig, type ResolvedLogConfig } from './logging.ts';
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

/**
 * Validates a user config and fills defaults. Errors name the file and the field.
 *
 * @example
 * ```ts
 * const resolved = resolveConfig({ providers: { echo: mock() } }, '');
 * ```
 */
export function resolveConfig(user: unknown, path: string): ResolvedConfig {
  const where = path || 'config';
  const fail = (field: string, msg: string): never => {
    throw new ConfigError(`${where}: ${field}: ${msg}`);
  };
  if (!user || typeof user !== 'object' || Array.isArray(user)) {
    throw new ConfigError(`${where}: must export default defineConfig({...}) (got ${describe(user)})`);
  }
  const u = user as UserConfig;
  const server = u.server ?? {};
  if (server.port !== undefined && (!Number.isInteger(server.port) || server.port < 0 || server.port > 65535)) {
    fail('server.port', `must be an integer 0-65535 (got ${describe(server.port)})`);
  }
  if (server.bodyLimit !== undefined && !(Number.isInteger(server.bodyLimit) && server.bodyLimit > 0)) {
    fail('server.bodyLimit', 'must be a positive number of bytes');
  }
  if (!u.providers || typeof u.providers !== 'object') fail('providers', 'is required: an object of name → provider');
  for (const [name, p] of Object.entries(u.providers)) {
    if (!p || typeof p !== 'object' || typeof (p as Provider).call !== 'function') {
      fail(`providers.${name}`, `expected a provider made by a factory such as openai({...}) or mock() (got ${describe(p)})`);
    }
    if (name.includes('/')) fail(`providers.${name}`, 'a provider name may not contain "/"');
  }
  const models: Record<string, Target[]> = {};
  for (const [name, spec] of Object.entries(u.models ?? {})) {
    const list = Array.isArray(spec) ? spec : [spec];
    if (!list.length) fail(`models.${name}`, 'needs at least one target');
    models[name] = list.map((t, i) => {
      const field = Array.isArray(spec) ? `models.${name}[${i}]` : `models.${name}`;
      const target = typeof t === 'string' ? splitTarget(t) : t;
      if (!target || typeof target !== 'object') return fail(field, `expected { provider, model } or "provider/model" (got ${describe(t)})`);
      if (typeof target.provider !== 'string' || !(target.provider in u.providers)) {
        fail(`${field}.provider`, `unknown provider ${describe(target.provider)} (known: ${Object.keys(u.providers).join(', ') || 'none'})`);
      }
      if (typeof target.model !== 'string' || !target.model) fail(`${field}.model`, 'must be a non-empty string');
      for (const k of ['priority', 'weight', 'maxContextTokens', 'timeoutMs', 'retries'] as const) {
        const v = target[k];
        if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) fail(`${field}.${k}`, 'must be a non-negative number');
      }
      return Object.freeze({ ...target });
    });
  }
  const pipeline = flattenPlugins(u.pipeline ?? [], where);
  if (server.sseKeepAliveMs !== undefined && !(Number.isInteger(server.sseKeepAliveMs) && server.sseKeepAliveMs >= 0)) {
    fail('server.sseKeepAliveMs', `must be a non-negative number of ms (got ${describe(server.sseKeepAliveMs)})`);
  }
  if (server.allowPerWorkerState !== undefined && typeof server.allowPerWorkerState !== 'boolean') {
    fail('server.allowPerWorkerState', `must be true or false (got ${describe(server.allowPerWorkerState)})`);
  }
  return Object.freeze({
    path,
    server: Object.freeze({
      host: server.host ?? '127.0.0.1',
      port: server.port ?? 8787,
      bodyLimit: server.bodyLimit ?? 10 * 1024 * 1024,
      shutdownGraceMs: server.shutdownGraceMs ?? 30_000,
      sseKeepAliveMs: server.sseKeepAliveMs ?? 15_000,
      allowPerWorkerState: server.allowPerWorkerState ?? false,
    }),
    providers: Object.freeze({ ...u.providers }),
    models: Object.freeze(models),
    pipeline,
    pipelineGiven: u.pipeline !== undefined,
    log: resolveLogConfig(u.log, where),
    store: u.store ?? ({ type: 'memory' } as StoreConfig),
  });
}

function splitTarget(s: string): Target | undefined {
  const i = s.indexOf('/');
  return i > 0 && i < s.length - 1 ? { provider: s.slice(0, i), model: s.slice(i + 1) } : undefined;
}

/** Drops falsy entries, flattens presets, sorts into pre/normal/post tiers, rejects duplicates. */
function flattenPlugins(list: PluginOption[], where: string): readonly Plugin[] {
  if (!Array.isArray(list)) throw new ConfigError(`${where}: pipeline: must be an array of plugins`);
  const flat: Plugin[] = [];
  const walk = (items: PluginOption[], path: string) =>
    items.forEach((p, i) => {
      if (!p) return;
      if (Array.isArray(p)) return walk(p, `${path}[${i}]`);
      if (typeof p !== 'object' || typeof p.name !== 'string' || !p.name) {
        throw new ConfigError(`${where}: ${path}[${i}]: expected a plugin object with a name (got ${describe(p)})`);
      }
      if (p.middleware !== undefined && typeof p.middleware !== 'function') {
        throw new ConfigError(`${where}: ${path}[${i}] (${p.name}): middleware must be a function`);
      }
      flat.push(p);
    });
  walk(list, 'pipeline');
  const seen = new Set<string>();
  for (const p of flat) {
    if (seen.has(p.name)) throw new ConfigError(`${where}: pipeline: plugin name "${p.name}" is used twice`);
    seen.add(p.name);
  }
  const tier = (p: Plugin) => (p.enforce === 'pre' ? 0 : p.enforce === 'post' ? 2 : 1);
  return Object.freeze(flat.map((p, i) => [p, i] as const).sort((a, b) => tier(a[0]) - tier(b[0]) || a[1] - b[1]).map(([p]) => p));
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v;
}
