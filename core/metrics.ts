/**
 * The gateway's metrics registry: one prom-client `Registry` per gateway (not the global one),
 * created with the gateway and handed to every pipeline version through the runtime. Plugins
 * register series with get-or-create helpers, so a reload finds the series the previous version
 * registered — nothing is registered twice and counters keep counting.
 *
 * @module
 */
import client, { Counter, Gauge, Histogram, Registry, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';
import { ConfigError } from './errors.ts';

type Config<C> = Omit<C, 'registers'>;

/**
 * Registers and finds metrics on the gateway's registry. The first registration of a name
 * defines it; later calls with the same name and label names return the same series (a
 * different kind or label set is a configuration error). A `collect` callback (run at each
 * scrape, in every worker) is rebound by each registration that passes one, so after a reload
 * the new version's callback is the one that runs.
 *
 * @example
 * ```ts
 * setup(runtime) {
 *   const hits = runtime.metrics.counter({ name: 'myplugin_hits_total', help: 'Hits.', labelNames: ['model'] });
 *   hits.inc({ model: 'fast' });
 * }
 * ```
 */
export interface MetricsRegistry {
  /** The underlying prom-client registry (read it; register through the helpers). */
  readonly registry: Registry;
  counter<T extends string>(config: Config<CounterConfiguration<T>>): Counter<T>;
  gauge<T extends string>(config: Config<GaugeConfiguration<T>>): Gauge<T>;
  histogram<T extends string>(config: Config<HistogramConfiguration<T>>): Histogram<T>;
  /**
   * The exposition text for `GET /metrics`. Under `gateway --workers N` it is the sum over all
   * workers (asked of the primary), otherwise this registry's own series.
   */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Options for {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Collect prom-client's default process and Node.js metrics. @default true */
  defaultMetrics?: boolean;
  /** Replaces the exposition (the worker bridge asks the primary for the cluster's sum). */
  render?: (registry: Registry) => Promise<string>;
}

/**
 * Creates a gateway-owned registry. `startGateway` makes one per gateway; pass your own as
 * `startGateway({ metrics })` to share it with an embedding application.
 *
 * @example
 * ```ts
 * const metrics = createMetricsRegistry();
 * const gw = await startGateway({ configPath: './gateway.config.ts', metrics });
 * ```
 */
export function createMetricsRegistry(opts: MetricsRegistryOptions = {}): MetricsRegistry {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: registry });
  function getOrCreate<M extends Counter<string> | Gauge<string> | Histogram<string>>(
    kind: new (c: never) => M,
    config: { name: string; labelNames?: readonly string[]; collect?: unknown },
    make: () => M,
  ): M {
    const existing = registry.getSingleMetric(config.name);
    if (!existing) return make();
    const labels = (existing as unknown as { labelNames?: string[] }).labelNames ?? [];
    const wanted = [...(config.labelNames ?? [])];
    if (!(existing instanceof kind) || labels.length !== wanted.length || labels.some((l, i) => l !== wanted[i])) {
      throw new ConfigError(`metric "${config.name}" is already registered with a different type or labels (${labels.join(', ') || 'none'})`);
    }
    const collect = (config as { collect?: unknown }).collect;
    if (collect) (existing as unknown as { collect: unknown }).collect = collect;
    return existing;
  }
  return {
    registry,
    counter: (c) => getOrCreate(Counter, c, () => new Counter({ ...c, registers: [registry] })),
    gauge: (c) => getOrCreate(Gauge, c, () => new Gauge({ ...c, registers: [registry] })),
    histogram: (c) => getOrCreate(Histogram, c, () => new Histogram({ ...c, registers: [registry] })),
    async render() {
      const body = opts.render ? await opts.render(registry) : await registry.metrics();
      return { contentType: registry.contentType, body };
    },
  };
}
