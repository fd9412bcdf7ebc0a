/**
 * Validating a user config and filling its defaults: every error names the file and the field.
 *
 * @module
 */
import { ConfigError } from './errors.ts';
import { resolveLogConfig } from './logging.ts';
import type { Plugin, Provider, Target } from './plugin.ts';
import type { StoreConfig } from './store.ts';
import type { PluginOption, ResolvedConfig, UserConfig } from './config.ts';

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
