/**
 * Limit rules as a user writes them (in `rateLimit({ rules })` or on an `auth` key), checked at
 * load time and compiled into counters: what is counted (requests, tokens, cost), per what
 * (key, model, target, or everything), and over which window (fixed, sliding, cron, total).
 *
 * @module
 */
import { Cron } from 'croner';
import { ConfigError } from '../../core/errors.ts';
import type { LimitWindow } from '../../core/store.ts';

/** What a rule counts per: the gateway key, the asked (logical) model, the provider target. */
export type Scope = 'key' | 'model' | 'target';

/**
 * One limit. Give `requests` and/or `tokens`, and a period: `per` (a duration: `'30s'`, `'1m'`,
 * `'1h'`, `'1d'` or ms) or `reset` (a cron expression, croner syntax: the counter empties at each
 * occurrence). Neither makes a budget that never resets.
 *
 * @example
 * ```ts
 * { by: 'key', requests: 60, per: '1m' }
 * { by: ['key', 'model'], tokens: 100_000, per: '1h', window: 'sliding' }
 * { by: 'target', requests: 500, reset: '0 0 * * *', timezone: 'UTC' }
 * ```
 */
export interface LimitRule {
  /** What the limit is counted per; `[]` (or 'global') means one counter for everything. @default 'key' */
  by?: Scope | 'global' | Scope[];
  /** Requests allowed per period. */
  requests?: number;
  /** Tokens (prompt + completion) allowed per period; reserved up front, reconciled after. */
  tokens?: number;
  /** Window length, e.g. `'1m'`. */
  per?: string | number;
  /** `fixed` windows start at multiples of `per` (epoch-aligned); `sliding` ones look back `per`. @default 'fixed' */
  window?: 'fixed' | 'sliding';
  /** Cron expression for reset times instead of `per` (e.g. `'0 0 1 * *'`: monthly). */
  reset?: string;
  /** Timezone for `reset`. @default the machine's */
  timezone?: string;
  /** Only for these keys (names; `*` globs). @default every key */
  keys?: string[];
  /** Only for these asked models (`*` globs). @default every model */
  models?: string[];
  /** Names the rule in errors, metrics and store keys. @default its position */
  name?: string;
}

/**
 * A budget per key (One API's pre-charge/settle): tokens and/or cost in USD, reserved before the
 * call and settled with the real usage. `reset` (cron) renews it; omitted, it never renews.
 *
 * @example
 * ```ts
 * quota: { costUsd: 20, reset: '0 0 1 * *' }
 * ```
 */
export interface QuotaRule {
  tokens?: number;
  costUsd?: number;
  reset?: string;
  timezone?: string;
}

/** What one counter counts. */
export type Unit = 'requests' | 'tokens' | 'cost';

/** How a counter's window is computed at a given time. */
export type WindowDef = { kind: 'fixed' | 'sliding'; ms: number } | { kind: 'cron'; cron: Cron } | { kind: 'total' };

/** A compiled rule: one unit, one window. */
export interface Counter {
  /** Unique within its plugin: names store keys, errors and metrics. */
  id: string;
  unit: Unit;
  limit: number;
  by: Scope[];
  window: WindowDef;
  /** Human period, for messages (`1m`, `cron 0 0 * * *`, `total`). */
  period: string;
  keys?: RegExp;
  models?: RegExp;
  /** A budget (`insufficient_quota`) rather than a rate (`rate_limit_exceeded`). */
  quota: boolean;
  /** Kept in the store's durable part: budgets and windows of an hour or more. */
  durable: boolean;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `'1m'`, `'30s'`, `'1.5h'` or a number of ms; throws a ConfigError naming `where`.
 *
 * @example
 * ```ts
 * parseDuration('1m', 'rules[0]'); // 60_000
 * ```
 */
export function parseDuration(v: string | number, where: string): number {
  const ms = typeof v === 'number' ? v : (() => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(v);
    return m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  })();
  if (!(Number.isFinite(ms) && ms >= 1)) throw new ConfigError(`${where}: "per" must be a duration like "30s", "1m", "1h", "1d" or a number of ms (got ${JSON.stringify(v)})`);
  return Math.round(ms);
}

/**
 * `*` globs → one anchored regexp (undefined when no list is given).
 *
 * @example
 * ```ts
 * globs(['gpt-*', 'demo'], 'models')!.test('gpt-4o'); // true
 * ```
 */
export function globs(list: string[] | undefined, where: string): RegExp | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || !s)) throw new ConfigError(`${where}: must be a list of names ("*" globs allowed)`);
  const esc = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^(?:${list.map(esc).join('|')})$`);
}

function cronOf(expr: string, timezone: string | undefined, where: string): Cron {
  try {
    return new Cron(expr, { paused: true, ...(timezone ? { timezone } : {}) });
  } catch (err) {
    throw new ConfigError(`${where}: "reset" is not a valid cron expression (${(err as Error).message})`);
  }
}

const positive = (v: unknown, where: string, field: string) => {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ConfigError(`${where}: "${field}" must be a positive number`);
};

/**
 * Checks rules and compiles them into counters. `alwaysBy` adds a scope (per-key rules on an
 * auth key are always counted per key, plus any `by` they give). Throws a ConfigError naming the rule and field.
 *
 * @example
 * ```ts
 * const counters = compileRules([{ requests: 10, per: '1m' }], 'rate-limit: rules');
 * ```
 */
export function compileRules(rules: LimitRule[], where: string, idPrefix = '', alwaysBy?: Scope): Counter[] {
  if (!Array.isArray(rules)) throw new ConfigError(`${where}: must be a list of rules`);
  const out: Counter[] = [];
  rules.forEach((r, i) => {
    const at = `${where}[${i}]`;
    if (!r || typeof r !== 'object') throw new ConfigError(`${at}: expected a rule object`);
    positive(r.requests, at, 'requests');
    positive(r.tokens, at, 'tokens');
    if (r.requests === undefined && r.tokens === undefined) throw new ConfigError(`${at}: give "requests" and/or "tokens"`);
    if (r.per !== undefined && r.reset !== undefined) throw new ConfigError(`${at}: give either "per" or "reset", not both`);
    if (r.window !== undefined && r.window !== 'fixed' && r.window !== 'sliding') throw new ConfigError(`${at}: "window" must be "fixed" or "sliding"`);
    if (r.window === 'sliding' && r.per === undefined) throw new ConfigError(`${at}: a sliding window needs "per"`);
    const given = r.by === undefined ? ['key'] : r.by === 'global' ? [] : Array.isArray(r.by) ? r.by : [r.by];
    const scopes = alwaysBy ? [alwaysBy, ...given] : given;
    for (const s of scopes) if (s !== 'key' && s !== 'model' && s !== 'target') throw new ConfigError(`${at}: "by" must be "key", "model", "target", "global" or a list of them (got ${JSON.stringify(s)})`);
    const ms = r.per === undefined ? undefined : parseDuration(r.per, at);
    const window: WindowDef = ms !== undefined ? { kind: r.window ?? 'fixed', ms } : r.reset !== undefined ? { kind: 'cron', cron: cronOf(r.reset, r.timezone, at) } : { kind: 'total' };
    const period = ms !== undefined ? String(r.per) : r.reset !== undefined ? `cron "${r.reset}"` : 'total';
    const durable = window.kind === 'cron' || window.kind === 'total' || (ms ?? 0) >= 3_600_000;
    const name = `${idPrefix}${r.name ?? i}`;
    const base = { by: [...new Set(scopes)] as Scope[], window, period, keys: globs(r.keys, `${at}.keys`), models: globs(r.models, `${at}.models`), quota: window.kind === 'total', durable };
    if (r.requests !== undefined) out.push({ ...base, id: `${name}:requests`, unit: 'requests', limit: r.requests });
    if (r.tokens !== undefined) out.push({ ...base, id: `${name}:tokens`, unit: 'tokens', limit: r.tokens });
  });
  return out;
}

/**
 * Compiles a per-key quota into counters (always per key, always durable).
 *
 * @example
 * ```ts
 * compileQuota({ costUsd: 20, reset: '0 0 1 * *' }, 'auth: keys[0].quota', 'key:alice:');
 * ```
 */
export function compileQuota(q: QuotaRule, where: string, idPrefix: string): Counter[] {
  if (!q || typeof q !== 'object') throw new ConfigError(`${where}: expected { tokens?, costUsd?, reset? }`);
  positive(q.tokens, where, 'tokens');
  positive(q.costUsd, where, 'costUsd');
  if (q.tokens === undefined && q.costUsd === undefined) throw new ConfigError(`${where}: give "tokens" and/or "costUsd"`);
  const window: WindowDef = q.reset !== undefined ? { kind: 'cron', cron: cronOf(q.reset, q.timezone, where) } : { kind: 'total' };
  const base = { by: ['key'] as Scope[], window, period: q.reset ? `cron "${q.reset}"` : 'total', quota: true, durable: true };
  const out: Counter[] = [];
  if (q.tokens !== undefined) out.push({ ...base, id: `${idPrefix}quota:tokens`, unit: 'tokens', limit: q.tokens });
  if (q.costUsd !== undefined) out.push({ ...base, id: `${idPrefix}quota:cost`, unit: 'cost', limit: q.costUsd });
  return out;
}

/**
 * The store window of a counter at `now`, and the suffix that names this window in its key.
 *
 * @example
 * ```ts
 * windowAt({ kind: 'fixed', ms: 60_000 }, Date.now()); // { window: { type: 'fixed', resetAt }, suffix: ':<start>' }
 * ```
 */
export function windowAt(w: WindowDef, now: number): { window: LimitWindow; suffix: string } {
  if (w.kind === 'sliding') return { window: { type: 'sliding', ms: w.ms }, suffix: '' };
  if (w.kind === 'fixed') {
    const start = Math.floor(now / w.ms) * w.ms;
    return { window: { type: 'fixed', resetAt: start + w.ms }, suffix: `:${start}` };
  }
  if (w.kind === 'cron') {
    const at = new Date(now);
    const next = w.cron.nextRun(at);
    const start = w.cron.previousRuns(1, at)[0]?.getTime() ?? 0;
    if (!next) return { window: { type: 'total' }, suffix: `:${start}` };
    return { window: { type: 'fixed', resetAt: next.getTime() }, suffix: `:${start}` };
  }
  return { window: { type: 'total' }, suffix: '' };
}
