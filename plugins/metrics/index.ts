/**
 * The `metrics` plugin: Prometheus metrics at `GET /metrics` (prom-client), registered on the
 * gateway's registry through the runtime, so a reload neither duplicates nor resets a series.
 *
 * Label values come only from the config — logical model names (and the `provider/model` pairs
 * the config routes to), provider names, the four wire formats — and everything else counts
 * under `other`, so a client inventing model names cannot grow the series count.
 *
 * Included by default (admin-protected); list it in the pipeline to change its options.
 *
 * @module
 */
import type { GatewayContext, GatewayRuntime, Plugin, RequestOutcome } from '../../core/plugin.ts';
import { definePlugin } from '../../core/plugin.ts';
import { MetricKeys } from './keys.ts';
import { samplesOf, tallyOf, type Samples, type Tally } from './tally.ts';
import { registerSeries, type Series } from './series.ts';

export { registerSeries, type Series, CIRCUIT_STATE, RATE_LIMIT_REJECTIONS } from './series.ts';

/** Options for {@link metrics}. */
export interface MetricsOptions {
  /**
   * `admin` keeps `/metrics` behind the admin guard (the admin key when auth is configured,
   * loopback-only otherwise); `public` opens it to any scraper that can reach the port — for a
   * private network only.
   * @default 'admin'
   */
  access?: 'admin' | 'public';
  /** Where the metrics are served. @default '/metrics' */
  path?: string;
}

/** How an upstream attempt ended, as the `outcome` label says it. */
export type AttemptOutcome = 'ok' | '4xx' | '5xx' | 'timeout' | 'connect_error' | 'aborted';

/**
 * Classifies an attempt record (or the single dispatch of a pipeline without failover).
 *
 * @example
 * ```ts
 * attemptOutcome({ status: 504, code: 'upstream_timeout' }); // 'timeout'
 * ```
 */
export function attemptOutcome(a: { status?: number; code?: string }): AttemptOutcome {
  if (a.code === 'upstream_timeout') return 'timeout';
  if (a.code === 'upstream_unreachable') return 'connect_error';
  if (a.code === 'client_aborted') return 'aborted';
  const status = a.status ?? (a.code ? 500 : 200);
  return status >= 500 ? '5xx' : status >= 400 ? '4xx' : 'ok';
}

/**
 * Serves Prometheus metrics: requests, durations, time to first token, upstream attempts,
 * tokens, in-flight requests and open streams, circuit state, rate-limit rejections, config
 * reloads and version, and the default process metrics.
 *
 * @example
 * ```ts
 * // scraped from a private network without the admin key:
 * pipeline: [auth({ keys: [env.GATEWAY_KEY], adminKeys: [env.ADMIN_KEY] }), metrics({ access: 'public' })]
 * ```
 */
export function metrics(opts: MetricsOptions = {}): Plugin {
  let runtime: GatewayRuntime;
  let series: Series;
  return definePlugin({
    name: 'metrics',
    setup(r) {
      runtime = r;
      series = registerSeries(r.metrics, { status: () => r.status(), circuits: () => readCircuits(r) });
      const models = new Set(Object.keys(r.config.models));
      for (const targets of Object.values(r.config.models)) for (const t of targets) models.add(`${t.provider}/${t.model}`);
      const providers = new Set(Object.keys(r.config.providers));
      const cells: Cells = {
        requests: tallyOf(series.requests),
        tokens: tallyOf(series.tokens),
        attempts: tallyOf(series.attempts),
        duration: samplesOf(series.duration),
        ttft: samplesOf(series.ttft),
        keys: new MetricKeys(),
      };
      // Recorded in the event loop's check phase, the requests of one loop turn together (the
      // same work back to back costs less than spread between requests); a scrape always comes in
      // a later turn, so it sees every request that finished before it.
      let queue: Finished[] = [];
      const drain = () => {
        const batch = queue;
        queue = [];
        for (const f of batch) record(cells, f, models, providers);
      };
      r.onRequestDone((ctx, outcome) => {
        const f = finished(ctx, outcome);
        if (f && queue.push(f) === 1) setImmediate(drain);
      });
    },
    routes: [
      {
        method: 'GET',
        path: opts.path ?? '/metrics',
        access: opts.access ?? 'admin',
        probe: true, // scrapes log their access line at debug (a refused one at info)
        async handler(ctx) {
          const out = await runtime.metrics.render();
          ctx.set('content-type', out.contentType);
          ctx.body = out.body;
        },
      },
    ],
  });
}

/**
 * Circuit state per configured target, read where `failover` keeps it (`health:open:<target>`
 * in the shared store): every instance on a shared store then reports the same state, and an
 * ended cool-down shows as half-open without waiting for the next request.
 */
function readCircuits(runtime: GatewayRuntime): Promise<Array<{ provider: string; model: string; state: number }>> {
  const now = Date.now();
  const targets = new Map<string, { provider: string; model: string }>();
  for (const list of Object.values(runtime.config.models)) for (const t of list) targets.set(`${t.provider}/${t.model}`, t);
  return Promise.all(
    [...targets].map(async ([id, t]) => {
      const rec = await runtime.sharedStore.get<{ until: number }>(`health:open:${id}`).catch(() => undefined);
      return { provider: t.provider, model: t.model, state: !rec ? 0 : now < rec.until ? 2 : 1 };
    }),
  );
}

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

const bounded = (value: string | undefined, allowed: ReadonlySet<string>, none: string) =>
  value === undefined ? none : allowed.has(value) ? value : 'other';

/** Where {@link record} counts: the series' pending increments and observations. */
interface Cells {
  requests: Tally<'format' | 'model' | 'provider' | 'status_class'>;
  tokens: Tally<'model' | 'provider' | 'type'>;
  attempts: Tally<'provider' | 'outcome'>;
  duration: Samples<'format' | 'model' | 'provider'>;
  ttft: Samples<'format' | 'model' | 'provider'>;
  keys: MetricKeys;
}

/** What {@link record} needs of a finished request, taken when it finished (not the whole context). */
interface Finished {
  format: string;
  model: string | undefined;
  provider: string | undefined;
  stream: boolean;
  attempts: ReadonlyArray<{ provider: string; status?: number; code?: string }>;
  outcome: RequestOutcome;
}

/** The part of a finished inference request that is counted; undefined for other routes (scrapes, probes). */
function finished(ctx: GatewayContext, o: RequestOutcome): Finished | undefined {
  const st = ctx.state;
  if (!st.route?.inbound) return undefined;
  const attempts = st.attempts.length
    ? st.attempts
    : st.target
      ? [{ provider: st.target.provider, status: o.error?.status ?? o.status, code: o.aborted ? 'client_aborted' : o.error?.code }]
      : [];
  return { format: st.route.inbound.format, model: st.request?.model, provider: st.target?.provider, stream: st.request?.stream === true, attempts, outcome: o };
}

/** Records one finished request. */
function record(c: Cells, f: Finished, models: ReadonlySet<string>, providers: ReadonlySet<string>): void {
  const o = f.outcome;
  const model = bounded(f.model, models, 'other');
  const provider = bounded(f.provider, providers, 'none');
  const statusClass = STATUS_CLASS[Math.floor(o.status / 100)] ?? `${Math.floor(o.status / 100)}xx`;
  const keys = c.keys.series(f.format, model, provider);
  const requests = keys.status(statusClass);
  c.requests.inc(requests.key, requests.labels);
  c.duration.observe(keys.series.key, keys.series.labels, o.durationMs / 1000);
  if (f.stream && o.ttfbMs !== undefined) c.ttft.observe(keys.series.key, keys.series.labels, o.ttfbMs / 1000);
  if (o.usage) {
    c.tokens.inc(keys.input.key, keys.input.labels, o.usage.inputTokens || 0);
    c.tokens.inc(keys.output.key, keys.output.labels, o.usage.outputTokens || 0);
  }
  for (const a of f.attempts) {
    const at = c.keys.attempt(bounded(a.provider, providers, 'none'), attemptOutcome(a));
    c.attempts.inc(at.key, at.labels);
  }
}
