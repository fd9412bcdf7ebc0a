/**
 * The gateway's metric series, defined once. Every definition goes through the runtime's
 * get-or-create helpers, so any plugin may call {@link registerSeries} (or define a single
 * series with the same name and labels) on any pipeline version and get the same series.
 *
 * @module
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { MetricsRegistry } from '../../core/metrics.ts';
import type { GatewayStatus } from '../../core/plugin.ts';
import { flushPending } from './tally.ts';

/**
 * Circuit state per target, set by the circuit breaker: 0 closed, 1 half-open, 2 open.
 * Labels `provider`, `model` (the target's; both from the config).
 *
 * @example
 * ```ts
 * runtime.metrics.gauge(CIRCUIT_STATE).set({ provider: 'oa', model: 'gpt-4o-mini' }, 2);
 * ```
 */
export const CIRCUIT_STATE = {
  name: 'switchyard_circuit_state',
  help: 'Circuit state per target: 0 closed, 1 half-open, 2 open.',
  labelNames: ['provider', 'model'] as const,
  aggregator: 'max' as const,
};

/**
 * Requests rejected by the rate limiter, per rule (`rule`: the rule's configured name).
 *
 * @example
 * ```ts
 * runtime.metrics.counter(RATE_LIMIT_REJECTIONS).inc({ rule: 'per-key-rpm' });
 * ```
 */
export const RATE_LIMIT_REJECTIONS = {
  name: 'switchyard_rate_limit_rejections_total',
  help: 'Requests rejected by a rate-limit rule.',
  labelNames: ['rule'] as const,
};

/** Every series the metrics plugin maintains. */
export interface Series {
  requests: Counter<'format' | 'model' | 'provider' | 'status_class'>;
  duration: Histogram<'format' | 'model' | 'provider'>;
  ttft: Histogram<'format' | 'model' | 'provider'>;
  attempts: Counter<'provider' | 'outcome'>;
  tokens: Counter<'model' | 'provider' | 'type'>;
  inflight: Gauge<string>;
  streams: Gauge<string>;
  circuit: Gauge<'provider' | 'model'>;
  rateLimited: Counter<'rule'>;
}

/** Where the point-in-time gauges read their values at each scrape. */
export interface SeriesSources {
  status(): GatewayStatus;
  /** Circuit state per target: 0 closed, 1 half-open, 2 open. */
  circuits(): Promise<Array<{ provider: string; model: string; state: number }>>;
}

/**
 * Gets (or creates, on first use) the gateway's series on a registry. With `sources`, the
 * in-flight, open-stream and circuit gauges are refreshed at every scrape (in every worker).
 *
 * @example
 * ```ts
 * const s = registerSeries(runtime.metrics);
 * s.requests.inc({ format: 'openai', model: 'fast', provider: 'oa', status_class: '2xx' });
 * ```
 */
export function registerSeries(m: MetricsRegistry, sources?: SeriesSources): Series {
  const labels = ['format', 'model', 'provider'] as const;
  const series: Series = {
    requests: m.counter({
      name: 'switchyard_requests_total',
      help: 'Inference requests by client format, logical model, provider and status class.',
      labelNames: [...labels, 'status_class'] as const,
      collect() {
        flushPending(this);
      },
    }),
    duration: m.histogram({
      name: 'switchyard_request_duration_seconds',
      help: 'Time from request arrival to the end of the response or stream.',
      labelNames: labels,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      collect() {
        flushPending(this);
      },
    }),
    ttft: m.histogram({
      name: 'switchyard_time_to_first_token_seconds',
      help: 'Time from request arrival to the first streamed byte sent to the client.',
      labelNames: labels,
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      collect() {
        flushPending(this);
      },
    }),
    attempts: m.counter({
      name: 'switchyard_upstream_attempts_total',
      help: 'Upstream attempts by provider and outcome (ok, 4xx, 5xx, timeout, connect_error, aborted).',
      labelNames: ['provider', 'outcome'] as const,
      collect() {
        flushPending(this);
      },
    }),
    tokens: m.counter({
      name: 'switchyard_tokens_total',
      help: 'Tokens by logical model, provider and type (input, output).',
      labelNames: ['model', 'provider', 'type'] as const,
      collect() {
        flushPending(this);
      },
    }),
    inflight: m.gauge({
      name: 'switchyard_inflight_requests',
      help: 'Inference requests in progress (streams included).',
      ...(sources && { collect: () => void series.inflight.set(sources.status().inflight) }),
    }),
    streams: m.gauge({
      name: 'switchyard_open_streams',
      help: 'Streamed responses currently open.',
      ...(sources && { collect: () => void series.streams.set(sources.status().streams) }),
    }),
    circuit: m.gauge({
      ...CIRCUIT_STATE,
      ...(sources && {
        collect: async () => {
          const states = await sources.circuits();
          // only configured targets: not one a reload removed, nor a `provider/model` a client named
          series.circuit.reset();
          for (const c of states) series.circuit.set({ provider: c.provider, model: c.model }, c.state);
        },
      }),
    }),
    rateLimited: m.counter(RATE_LIMIT_REJECTIONS),
  };
  return series;
}
