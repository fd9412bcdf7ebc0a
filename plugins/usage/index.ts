/**
 * The `usage` plugin: records every inference request once it has fully ended (streams
 * included; also requests rejected by auth, limits or validation) — key, asked model, provider,
 * target model, status, attempts, input/output/cached/reasoning tokens, latency and time to
 * first token — and serves aggregates by key, model, provider and day at `GET /admin/stats`.
 *
 * Data lives in the store's durable part: on the embedded store every write is journaled to a
 * local SQLite file before it is acknowledged, so a restart or a `kill -9` loses at most the
 * requests whose response was ending at that very moment (their record is written right after
 * the response's last byte); on Redis it is shared by every instance and as durable as the
 * Redis server is configured to be. Time filters have hour precision (buckets are hourly, UTC).
 *
 * Each hourly bucket `h:<hour>` expires after `retentionDays`; the index of hours `hours` (one
 * field per hour) has no TTL, so its fields past the retention window are removed once per clock
 * hour per process (on the first request of the hour: one index read, one `hdel`), and by
 * `/admin/stats`, which also drops fields whose bucket is gone.
 *
 * @module
 */
import { ConfigError, GatewayError } from '../../core/errors.ts';
import { definePlugin, type GatewayContext, type GatewayRuntime, type Plugin, type RequestOutcome } from '../../core/plugin.ts';
import type { Store } from '../../core/store.ts';
import { bucketFields, expiredHours, groupBuckets, hourOf, type Dimension, type UsageFilter, type UsageRecord } from './aggregate.ts';

export type { UsageRecord, UsageTotals, Dimension } from './aggregate.ts';

/** Options for {@link usage}. */
export interface UsageOptions {
  /** Newest per-request records kept for `GET /admin/stats/requests`. @default 1000 */
  keepRecords?: number;
  /** How long hourly aggregates are kept, in days. @default 400 */
  retentionDays?: number;
}

const DIMENSIONS: Dimension[] = ['key', 'model', 'provider', 'targetModel', 'day'];

/** Longest model name recorded (a `provider/model` request may name anything). */
const MAX_NAME = 200;
const clip = (v: string) => (v.length > MAX_NAME ? `${v.slice(0, MAX_NAME)}…` : v);

/**
 * The asked model as recorded: only a name the routing resolved or the config declares. Any
 * other name is the client's free text — recording it would let any caller, even one without a
 * key, add aggregate rows at will — so it is `-` (the error code says why it failed).
 */
function modelOf(ctx: GatewayContext, declared: Readonly<Record<string, unknown>>): string {
  const s = ctx.state;
  const asked = s.request?.model;
  if (asked === undefined) return '-';
  return s.candidates.length || s.target || Object.hasOwn(declared, asked) ? clip(asked) : '-';
}

function toRecord(ctx: GatewayContext, o: RequestOutcome, declared: Readonly<Record<string, unknown>>): UsageRecord {
  const s = ctx.state;
  const last = s.attempts.at(-1);
  const provider = s.target?.provider ?? last?.provider;
  const u = o.usage;
  const targetModel = s.target?.model ?? last?.model;
  return {
    at: s.startedAt,
    requestId: s.requestId,
    key: s.keyName ?? '-',
    model: modelOf(ctx, declared),
    provider: provider ?? '-',
    targetModel: targetModel === undefined ? '-' : clip(targetModel),
    format: s.request?.format,
    stream: s.request?.stream,
    status: o.status,
    ...(o.error ? { error: o.error.code } : {}),
    attempts: s.attempts.length || (provider ? 1 : 0),
    inputTokens: u?.inputTokens ?? 0,
    outputTokens: u?.outputTokens ?? 0,
    cachedTokens: u?.cachedTokens ?? 0,
    reasoningTokens: u?.reasoningTokens ?? 0,
    latencyMs: o.durationMs,
    ...(o.ttfbMs !== undefined ? { ttftMs: o.ttfbMs } : {}),
  };
}

function parseTime(v: unknown, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const s = String(v);
  const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(t)) throw new GatewayError('invalid_request', `"${name}" must be epoch ms or an ISO date (got ${JSON.stringify(s)})`, { status: 400, param: name });
  return t;
}

function parseGroupBy(v: unknown): Dimension[] | undefined {
  if (v === undefined || v === '') return undefined;
  const dims = String(v).split(',').map((d) => d.trim()) as Dimension[];
  const bad = dims.find((d) => !DIMENSIONS.includes(d));
  if (bad) throw new GatewayError('invalid_request', `"groupBy" takes ${DIMENSIONS.join(', ')} (got ${JSON.stringify(bad)})`, { status: 400, param: 'groupBy' });
  return dims;
}

/**
 * Usage accounting with `GET /admin/stats` (`?from=&to=` epoch ms or ISO, `key=`, `model=`,
 * `provider=`, `groupBy=key,model,provider,targetModel,day`) and `GET /admin/stats/requests?limit=`.
 *
 * @example
 * ```ts
 * pipeline: [auth({ keys, adminKeys: [env.ADMIN_KEY] }), usage(), rateLimit({ rules })]
 * // curl -H "authorization: Bearer $ADMIN_KEY" 'http://127.0.0.1:8787/admin/stats?from=2026-01-01&groupBy=key,day'
 * ```
 */
export function usage(opts: UsageOptions = {}): Plugin {
  const keep = opts.keepRecords ?? 1000;
  const retentionDays = opts.retentionDays ?? 400;
  if (!(Number.isInteger(keep) && keep >= 0)) throw new ConfigError('usage: "keepRecords" must be a non-negative integer');
  if (!(Number.isFinite(retentionDays) && retentionDays > 0)) throw new ConfigError('usage: "retentionDays" must be a positive number');
  const ttlMs = retentionDays * 86_400_000;
  let store: Store;
  let log: GatewayRuntime['logger'];
  /** The clock hour this process last pruned the index in: `record` runs for every request. */
  let prunedHour = -Infinity;

  const pruneIndex = async () => {
    const old = expiredHours(Object.keys(await store.hgetall('hours')), Date.now(), ttlMs);
    if (old.length) await store.hdel('hours', old);
  };

  const record = async (rec: UsageRecord) => {
    const hour = hourOf(rec.at);
    const now = hourOf(Date.now());
    if (now > prunedHour) {
      prunedHour = now; // before the first await: concurrent requests do not prune again
      pruneIndex().catch((err) => log.warn({ err: String(err) }, 'usage: pruning the hour index failed; retried next hour'));
    }
    await Promise.all([
      store.hincr(`h:${hour}`, bucketFields(rec), { ttlMs }),
      store.hincr('hours', { [hour]: 1 }),
      keep ? store.push('log', rec, { max: keep }) : undefined,
    ]);
  };

  const stats = async (ctx: GatewayContext) => {
    const q = ctx.query;
    const from = parseTime(q.from, 'from');
    const to = parseTime(q.to, 'to');
    const by = parseGroupBy(q.groupBy);
    const filter: UsageFilter = {};
    for (const f of ['key', 'model', 'provider', 'targetModel'] as const) if (typeof q[f] === 'string' && q[f]) filter[f] = q[f] as string;
    const now = Date.now();
    const index = Object.keys(await store.hgetall('hours'));
    const expired = expiredHours(index, now, ttlMs);
    const stale = new Set(expired);
    const hours = index
      .filter((f) => !stale.has(f))
      .map(Number)
      .filter((h) => (from === undefined || h >= hourOf(from)) && (to === undefined || h < to))
      .sort((a, b) => a - b);
    const read = await Promise.all(hours.map(async (h) => [h, await store.hgetall(`h:${h}`)] as [number, Record<string, number>]));
    const buckets = read.filter(([, b]) => Object.keys(b).length);
    // A bucket gone before its hour left the window (evicted, or a shorter retention earlier).
    // Not the current or previous hour: a record may be writing its bucket right now.
    const gone = read.filter(([h, b]) => !Object.keys(b).length && h < hourOf(now) - 3_600_000).map(([h]) => String(h));
    const drop = [...expired, ...gone];
    if (drop.length) await store.hdel('hours', drop).catch((err) => log.warn({ err: String(err) }, 'usage: pruning the hour index failed'));
    const group = (d: Dimension[]) => groupBuckets(buckets, d, filter);
    const [totals] = group([]);
    ctx.body = {
      from: from === undefined ? null : new Date(from).toISOString(),
      to: to === undefined ? null : new Date(to).toISOString(),
      filter,
      totals: totals ?? emptyTotals(),
      byKey: group(['key']),
      byModel: group(['model']),
      byProvider: group(['provider']),
      byDay: group(['day']),
      ...(by ? { groupBy: by, rows: group(by) } : {}),
    };
  };

  return definePlugin({
    name: 'usage',
    setup(runtime) {
      store = runtime.store.durable();
      log = runtime.logger;
      runtime.onRequestDone((ctx, o) => {
        if (!ctx.state.route?.inbound) return;
        const rec = toRecord(ctx, o, runtime.config.models);
        record(rec).catch((err) => runtime.logger.error({ err: String(err), requestId: rec.requestId }, 'usage: record lost'));
      });
    },
    routes: [
      { method: 'GET', path: '/admin/stats', access: 'admin', handler: stats },
      {
        method: 'GET',
        path: '/admin/stats/requests',
        access: 'admin',
        async handler(ctx) {
          const n = Math.max(1, Math.min(keep || 1, Number(ctx.query.limit) || 100));
          const list = await store.list<UsageRecord>('log');
          ctx.body = { data: list.slice(-n).reverse() };
        },
      },
    ],
  });
}

function emptyTotals() {
  return { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, reasoningTokens: 0, totalTokens: 0, attempts: 0, avgLatencyMs: 0, avgTtftMs: null };
}
