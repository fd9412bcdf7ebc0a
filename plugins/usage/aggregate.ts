/**
 * Usage aggregates: one record per request is folded into hourly buckets (a numeric hash per
 * hour, one field per dimension tuple and metric), and buckets are summed back into groups for
 * `GET /admin/stats`. Pure functions; the plugin does the storing.
 *
 * @module
 */

/** One finished request, as recorded. */
export interface UsageRecord {
  /** Epoch ms the request arrived. */
  at: number;
  requestId: string;
  /** Gateway key name (`-` without auth). */
  key: string;
  /** The model the client asked for (`-` when the request was invalid or named no known model). */
  model: string;
  /** Provider and its model name that served (or last tried) it; `-` when none was tried. */
  provider: string;
  targetModel: string;
  format?: string;
  stream?: boolean;
  status: number;
  /** Error code, when it failed. */
  error?: string;
  /** Upstream attempts made. */
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** Until the response fully ended (streams included). */
  latencyMs: number;
  /** Time to first byte/token for the client. */
  ttftMs?: number;
}

/** Summed metrics of a group. */
export interface UsageTotals {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  attempts: number;
  avgLatencyMs: number;
  avgTtftMs: number | null;
}

/** A dimension stats can be grouped by. */
export type Dimension = 'key' | 'model' | 'provider' | 'targetModel' | 'day';

const SEP = '\u001f';
const SUMS = ['requests', 'errors', 'inputTokens', 'outputTokens', 'cachedTokens', 'reasoningTokens', 'attempts', 'latencyMs', 'ttftMs', 'ttftCount'] as const;
type Sum = (typeof SUMS)[number];
const HOUR = 3_600_000;

/**
 * Start (epoch ms) of the UTC hour holding `t`.
 *
 * @example
 * ```ts
 * hourOf(Date.UTC(2026, 0, 1, 10, 30)); // Date.UTC(2026, 0, 1, 10)
 * ```
 */
export const hourOf = (t: number) => Math.floor(t / HOUR) * HOUR;

/**
 * The fields of the hour index (`hours`: field = hour start, epoch ms) past the retention
 * window: the hour ended `retentionMs` or more before `now`, so its bucket has expired (or is
 * about to, when its first record was written late). Unreadable fields are included.
 *
 * @example
 * ```ts
 * const old = expiredHours(Object.keys(await store.hgetall('hours')), Date.now(), 400 * 86_400_000);
 * if (old.length) await store.hdel('hours', old);
 * ```
 */
export function expiredHours(fields: string[], now: number, retentionMs: number): string[] {
  return fields.filter((f) => !(Number(f) + HOUR + retentionMs > now));
}

const clean = (s: string) => s.replaceAll(SEP, ' ');

/**
 * The hash fields one record adds to its hour's bucket.
 *
 * @example
 * ```ts
 * await store.hincr(`h:${hourOf(rec.at)}`, bucketFields(rec));
 * ```
 */
export function bucketFields(r: UsageRecord): Record<string, number> {
  const dim = [r.key, r.model, r.provider, r.targetModel].map(clean).join(SEP);
  const v: Record<Sum, number> = {
    requests: 1,
    errors: r.status >= 400 || r.error ? 1 : 0,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cachedTokens: r.cachedTokens,
    reasoningTokens: r.reasoningTokens,
    attempts: r.attempts,
    latencyMs: r.latencyMs,
    ttftMs: r.ttftMs ?? 0,
    ttftCount: r.ttftMs === undefined ? 0 : 1,
  };
  const out: Record<string, number> = {};
  for (const m of SUMS) if (v[m]) out[`${dim}${SEP}${m}`] = v[m];
  return out;
}

/** Filters on dimension values (exact match). */
export type UsageFilter = Partial<Record<'key' | 'model' | 'provider' | 'targetModel', string>>;

type Acc = Record<Sum, number>;
const empty = (): Acc => Object.fromEntries(SUMS.map((m) => [m, 0])) as Acc;

function totals(a: Acc): UsageTotals {
  return {
    requests: a.requests,
    errors: a.errors,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    cachedTokens: a.cachedTokens,
    reasoningTokens: a.reasoningTokens,
    totalTokens: a.inputTokens + a.outputTokens,
    attempts: a.attempts,
    avgLatencyMs: a.requests ? Math.round(a.latencyMs / a.requests) : 0,
    avgTtftMs: a.ttftCount ? Math.round(a.ttftMs / a.ttftCount) : null,
  };
}

/**
 * Sums hourly buckets into groups. Each group row carries its dimension values and totals.
 *
 * @example
 * ```ts
 * const rows = groupBuckets([[hour, hash]], ['key', 'day'], { model: 'fast' });
 * ```
 */
export function groupBuckets(
  buckets: Array<[number, Record<string, number>]>,
  by: Dimension[],
  filter: UsageFilter = {},
): Array<Partial<Record<Dimension, string>> & UsageTotals> {
  const groups = new Map<string, { dims: Partial<Record<Dimension, string>>; acc: Acc }>();
  for (const [hour, hash] of buckets) {
    const day = new Date(hour).toISOString().slice(0, 10);
    for (const [field, value] of Object.entries(hash)) {
      const parts = field.split(SEP);
      if (parts.length !== 5) continue;
      const [key, model, provider, targetModel, metric] = parts as [string, string, string, string, Sum];
      const all = { key, model, provider, targetModel, day };
      if ((Object.keys(filter) as Array<keyof UsageFilter>).some((f) => filter[f] !== undefined && all[f] !== filter[f])) continue;
      const dims = Object.fromEntries(by.map((d) => [d, all[d]])) as Partial<Record<Dimension, string>>;
      const id = by.map((d) => all[d]).join(SEP);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { dims, acc: empty() }));
      if (metric in g.acc) g.acc[metric] += value;
    }
  }
  return [...groups.values()]
    .map((g) => ({ ...g.dims, ...totals(g.acc) }))
    .sort((a, b) => by.map((d) => String(a[d]).localeCompare(String(b[d]))).find((x) => x !== 0) ?? 0);
}
