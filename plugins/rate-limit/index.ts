/**
 * The `rateLimit` plugin: requests, tokens and cost per period, per key, per asked model and per
 * provider target, in the gateway store (so every instance on a shared store enforces one limit).
 *
 * Each request reserves what it may use on every matching counter in one atomic, all-or-nothing
 * store call — 1 request, and for token rules an estimate (prompt at ~4 chars per token plus the
 * request's max tokens, capped at the limit) — so concurrent requests cannot overshoot. When the
 * response has fully ended (streams included) the reservation is settled with the real usage;
 * a failure that sent nothing is settled to 0; a stream cut without a usage report keeps the
 * estimate. Requests stay counted whatever the outcome.
 *
 * Placement: before `failover` a full counter is a 429 with `Retry-After` in the caller's format
 * (`rate_limit_exceeded`, or `insufficient_quota` for budgets, as OpenAI names it). After `failover` it runs once per
 * attempt, and a full per-target counter throws `rate_limited_target` (429 + Retry-After), which
 * failover answers by moving on to the next target at once (for this request only: the counter
 * may be per key, so the target is not cooled down for others).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ConfigError, GatewayError, UpstreamError } from '../../core/errors.ts';
import { definePlugin, type GatewayContext, type Plugin, type RequestOutcome } from '../../core/plugin.ts';
import type { LimitSpec, Store } from '../../core/store.ts';
import type { KeyPolicy } from '../auth/index.ts';
import { RATE_LIMIT_REJECTIONS } from '../metrics/series.ts';
import { costOf, estimateTokens, priceOf, usageTokens, type Price } from './estimate.ts';
import { compileQuota, compileRules, windowAt, type Counter, type LimitRule, type QuotaRule } from './rules.ts';

export type { LimitRule, QuotaRule, Scope } from './rules.ts';
export type { Price } from './estimate.ts';

/** Options for {@link rateLimit}. */
export interface RateLimitOptions {
  /** Plugin name; a second instance (say after `failover`) needs its own. @default 'rate-limit' */
  name?: string;
  /** Limits for every request (each counted per its `by`). */
  rules?: LimitRule[];
  /** Budget for each key that has no `quota` of its own on its auth key. */
  quota?: QuotaRule;
  /** Enforce the limits and quota declared on `auth` keys. @default true, unless placed after `failover` */
  keyRules?: boolean;
  /** USD per million tokens, by `provider/model`, provider model name or asked model: for cost budgets. */
  prices?: Record<string, Price>;
  /** Output tokens reserved when a request sets no max tokens. @default 1024 */
  defaultMaxTokens?: number;
}

/** The plugin object; `rateLimit` marks it for `auth`'s start-up check. */
export interface RateLimitPlugin extends Plugin {
  readonly rateLimit: { keyRules?: boolean };
}

/**
 * Whether a plugin is a rateLimit instance.
 *
 * @example
 * ```ts
 * const limiters = runtime.plugins.filter(isRateLimit);
 * ```
 */
export function isRateLimit(p: Plugin): p is RateLimitPlugin {
  return typeof (p as Partial<RateLimitPlugin>).rateLimit === 'object';
}

/**
 * Whether this instance enforces auth keys' rules: explicitly, or by sitting before `failover`.
 *
 * @example
 * ```ts
 * const enforced = runtime.plugins.some((p) => isRateLimit(p) && appliesKeyRules(p, runtime.plugins));
 * ```
 */
export function appliesKeyRules(p: RateLimitPlugin, plugins: readonly Plugin[]): boolean {
  if (p.rateLimit.keyRules !== undefined) return p.rateLimit.keyRules;
  const f = plugins.findIndex((x) => x.name === 'failover');
  return f < 0 || plugins.indexOf(p) < f;
}

interface Held {
  spec: LimitSpec;
  /** Whom the counter counts (`alice`, `alice|fast`, `oa/gpt-4o` ...). */
  who: string;
  counter: Counter;
  store: Store;
}

const secs = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/**
 * Rate limits and budgets.
 *
 * @example
 * ```ts
 * pipeline: [
 *   auth({ keys: [{ name: 'alice', key: env.ALICE_KEY, limits: [{ tokens: 50_000, per: '1m' }] }] }),
 *   rateLimit({ rules: [{ by: 'key', requests: 60, per: '1m' }, { by: 'model', tokens: 1e6, reset: '0 0 * * *' }] }),
 *   failover(),
 *   rateLimit({ name: 'target-limits', rules: [{ by: 'target', requests: 100, per: '1m', window: 'sliding' }] }),
 * ]
 * ```
 */
export function rateLimit(opts: RateLimitOptions = {}): RateLimitPlugin {
  const name = opts.name ?? 'rate-limit';
  const rules = compileRules(opts.rules ?? [], `${name}: rules`);
  const defaultQuota = opts.quota ? compileQuota(opts.quota, `${name}: quota`, '') : [];
  const prices = opts.prices ?? {};
  const maxTokens = opts.defaultMaxTokens ?? 1024;
  if (!(Number.isInteger(maxTokens) && maxTokens >= 0)) throw new ConfigError(`${name}: "defaultMaxTokens" must be a non-negative integer`);
  const perKey = new WeakMap<KeyPolicy, Counter[]>();
  let volatile: Store;
  let durable: Store;
  let keyRules = true;
  let reject: (rule: string) => void = () => {};

  const keyCounters = (p: KeyPolicy | undefined): Counter[] => {
    if (!p) return keyRules ? defaultQuota : [];
    if (!keyRules) return [];
    let c = perKey.get(p);
    if (!c) {
      const prefix = `key:${p.name}:`;
      c = [...compileRules(p.limits ?? [], `auth key "${p.name}" limits`, prefix, 'key'), ...(p.quota ? compileQuota(p.quota, `auth key "${p.name}" quota`, prefix) : defaultQuota)];
      perKey.set(p, c);
    }
    return c;
  };

  const subject = (ctx: GatewayContext, c: Counter): string | undefined => {
    const t = ctx.state.target ?? ctx.state.candidates[0];
    const parts: string[] = [];
    for (const s of c.by) {
      if (s === 'key') parts.push(ctx.state.keyName ?? `ip:${ctx.ip}`);
      else if (s === 'model') parts.push(ctx.state.request.model);
      else if (!t) return undefined;
      else parts.push(`${t.provider}/${t.model}`);
    }
    return parts.length ? parts.join('|') : '*';
  };

  const fail = (ctx: GatewayContext, c: Counter, who: string, retryMs: number | undefined): GatewayError => {
    reject(c.id);
    const headers: Record<string, string> = retryMs === undefined ? {} : { 'retry-after': secs(retryMs) };
    const what = `${c.unit === 'cost' ? `$${c.limit}` : `${c.limit} ${c.unit}`} ${c.quota ? '' : `per ${c.period} `}for "${who}" (rule "${c.id}")`;
    const t = ctx.state.target;
    if (t && c.by.includes('target')) {
      return new UpstreamError('rate_limited_target', `target ${t.provider}/${t.model} is rate limited: ${what}`, { status: 429, provider: t.provider, headers });
    }
    if (c.quota) {
      return new GatewayError('insufficient_quota', `Quota exceeded: ${what}.`, { status: 429, headers });
    }
    return new GatewayError('rate_limit_exceeded', `Rate limit reached: ${what}.${retryMs === undefined ? '' : ` Retry in ${secs(retryMs)}s.`}`, { status: 429, headers });
  };

  /** Reserves on both stores (volatile first); all-or-nothing overall. */
  const reserve = async (ctx: GatewayContext, id: string, held: Held[], now: number): Promise<void> => {
    const groups = [held.filter((h) => h.store === volatile), held.filter((h) => h.store === durable)];
    const done: Held[][] = [];
    for (const g of groups) {
      if (!g.length) continue;
      const r = await g[0]!.store.reserve(id, g.map((h) => h.spec), { now });
      if (!r.ok) {
        for (const d of done) await d[0]!.store.settle(id, d.map((h) => ({ key: h.spec.key, window: h.spec.window, delta: -h.spec.amount })));
        const h = g[r.failed!]!;
        throw fail(ctx, h.counter, h.who, r.retryAfterMs);
      }
      done.push(g);
    }
  };

  const plugin: RateLimitPlugin = definePlugin({
    name,
    rateLimit: { keyRules: opts.keyRules },
    setup(runtime) {
      volatile = runtime.store;
      durable = runtime.store.durable();
      keyRules = appliesKeyRules(plugin, runtime.plugins);
      const counter = runtime.metrics.counter(RATE_LIMIT_REJECTIONS);
      reject = (rule) => counter.inc({ rule: `${name}/${rule}` });
      if (defaultQuota.some((c) => c.unit === 'cost') && !Object.keys(prices).length) {
        throw new ConfigError(`${name}: a "costUsd" quota needs "prices"`);
      }
    },
    async middleware(ctx, next) {
      const req = ctx.state.request;
      const key = ctx.state.keyName;
      const counters = [...rules, ...keyCounters(ctx.state.gatewayKey)].filter(
        (c) => (!c.keys || (key !== undefined && c.keys.test(key))) && (!c.models || c.models.test(req.model)),
      );
      if (!counters.length) return next();
      const now = Date.now();
      const needs = new Set(counters.map((c) => c.unit));
      const est = needs.has('tokens') || needs.has('cost') ? estimateTokens(req, maxTokens) : { input: 0, output: 0 };
      const estUsage = { inputTokens: est.input, outputTokens: est.output };
      const targets = ctx.state.target ? [ctx.state.target] : ctx.state.candidates;
      const estCost = needs.has('cost') ? Math.max(0, ...targets.map((t) => costOf(estUsage, priceOf(prices, t, req.model) ?? { input: 0, output: 0 }))) : 0;
      const held: Held[] = [];
      for (const c of counters) {
        const who = subject(ctx, c);
        if (who === undefined) continue;
        const { window, suffix } = windowAt(c.window, now);
        const want = c.unit === 'requests' ? 1 : c.unit === 'tokens' ? est.input + est.output : estCost;
        const spec: LimitSpec = { key: `${c.id}:${who}${suffix}`, amount: Math.min(want, c.limit), limit: c.limit, window };
        held.push({ spec, who, counter: c, store: c.durable ? durable : volatile });
      }
      const id = randomUUID();
      await reserve(ctx, id, held, now);
      const open = held.filter((h) => h.counter.unit !== 'requests');
      let settled = !open.length;
      const settle = async (actual: (h: Held) => number | undefined) => {
        if (settled) return;
        settled = true;
        for (const st of [volatile, durable]) {
          const adj = open
            .filter((h) => h.store === st)
            .map((h) => ({ key: h.spec.key, window: h.spec.window, delta: (actual(h) ?? h.spec.amount) - h.spec.amount }))
            .filter((a) => a.delta !== 0);
          if (adj.length) await st.settle(id, adj).catch((err) => ctx.state.logger.warn({ err: String(err) }, 'rate-limit: settle failed'));
        }
      };
      try {
        await next();
      } catch (err) {
        await settle(() => 0); // this attempt failed: nothing was generated for the client
        throw err;
      }
      ctx.state.onDone((o: RequestOutcome) =>
        settle((h) => {
          if (!o.usage) return o.ttfbMs === undefined ? 0 : undefined;
          if (h.counter.unit === 'tokens') return usageTokens(o.usage);
          return costOf(o.usage, priceOf(prices, ctx.state.target, req.model) ?? { input: 0, output: 0 });
        }),
      );
    },
  });
  return plugin;
}
