/**
 * Zero-config discovery for the `models` plugin: each chosen provider's own model list
 * (`Provider.listModels`, e.g. `GET /models`), cached in the gateway store with a TTL, so those
 * names become routable without a `models` entry. Refreshes are lazy (on a miss or a listing
 * once the TTL has passed) and shared by concurrent callers; a failed refresh keeps the last
 * good list and is retried after `retryMs`.
 *
 * @module
 */
import { ConfigError } from '../../core/errors.ts';
import type { GatewayRuntime } from '../../core/plugin.ts';

/** Options for discovery (`models({ discover })`). */
export interface DiscoveryOptions {
  /** Providers whose lists are used. @default every provider that can list its models */
  providers?: string[];
  /** How long a fetched list is trusted. @default 600_000 (10 min) */
  ttlMs?: number;
  /** How soon a failed fetch is retried. @default 30_000 */
  retryMs?: number;
}

/** One provider's cached list, as stored. */
export interface DiscoveredList {
  models: string[];
  fetchedAt: number;
  /** Set when the last fetch failed (the list is then the previous good one, or empty). */
  error?: string;
  /** When the next fetch is due. */
  staleAt: number;
}

/** The discovery cache of one pipeline version (its data lives in the store). */
export interface Discovery {
  /** Providers discovered from. */
  readonly providers: readonly string[];
  /** Model name → providers listing it (refreshing stale lists first). */
  index(): Promise<Map<string, string[]>>;
  /** Every provider's list as cached (refreshing stale lists first). */
  lists(): Promise<Record<string, DiscoveredList>>;
}

/**
 * Builds the discovery cache for a version; state is in `runtime.store` under `discovery:*`.
 *
 * @example
 * ```ts
 * const discovery = createDiscovery(runtime, { providers: ['local'], ttlMs: 60_000 });
 * (await discovery.index()).get('llama3.2'); // ['local']
 * ```
 */
export function createDiscovery(runtime: GatewayRuntime, opts: DiscoveryOptions): Discovery {
  const all = Object.entries(runtime.config.providers);
  const providers = opts.providers ?? all.filter(([, p]) => typeof p.listModels === 'function').map(([n]) => n);
  const ttlMs = opts.ttlMs ?? 600_000;
  const retryMs = opts.retryMs ?? 30_000;
  const inflight = new Map<string, Promise<DiscoveredList>>();
  const key = (name: string) => `discovery:${name}`;

  const fetchList = async (name: string, previous?: DiscoveredList): Promise<DiscoveredList> => {
    const provider = runtime.config.providers[name]!;
    const now = Date.now();
    let entry: DiscoveredList;
    try {
      const models = await provider.listModels!({ name, signal: runtime.signal, dispatcher: runtime.dispatcher, logger: runtime.logger });
      entry = { models: [...new Set(models)], fetchedAt: now, staleAt: now + ttlMs };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      runtime.logger.warn({ provider: name, error }, 'model discovery failed; keeping the last list');
      entry = { models: previous?.models ?? [], fetchedAt: previous?.fetchedAt ?? 0, error, staleAt: now + Math.min(retryMs, ttlMs) };
    }
    // Kept a little past staleness so a failed refresh can still fall back on it.
    await runtime.store.set(key(name), entry, { ttlMs: ttlMs * 10 });
    return entry;
  };

  const get = async (name: string): Promise<DiscoveredList> => {
    const cached = await runtime.store.get<DiscoveredList>(key(name));
    if (cached && cached.staleAt > Date.now()) return cached;
    let p = inflight.get(name);
    if (!p) {
      p = fetchList(name, cached).finally(() => inflight.delete(name));
      inflight.set(name, p);
    }
    return p;
  };

  const lists = async () => {
    const entries = await Promise.all(providers.map(async (n) => [n, await get(n)] as const));
    return Object.fromEntries(entries);
  };

  return {
    providers,
    lists,
    async index() {
      const out = new Map<string, string[]>();
      for (const [provider, list] of Object.entries(await lists())) {
        for (const m of list.models) out.set(m, [...(out.get(m) ?? []), provider]);
      }
      return out;
    },
  };
}

/**
 * Checks discovery options against the config at load time.
 *
 * @example
 * ```ts
 * checkDiscovery(runtime.config, { providers: ['local'] }); // throws a message naming the option
 * ```
 */
export function checkDiscovery(config: GatewayRuntime['config'], opts: DiscoveryOptions): void {
  for (const name of opts.providers ?? []) {
    const p = config.providers[name];
    if (!p) throw new ConfigError(`models: discover.providers: unknown provider "${name}"`);
    if (typeof p.listModels !== 'function') throw new ConfigError(`models: discover.providers: provider "${name}" cannot list its models`);
  }
  for (const k of ['ttlMs', 'retryMs'] as const) {
    const v = opts[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) throw new ConfigError(`models: discover.${k} must be a positive number of ms`);
  }
}
