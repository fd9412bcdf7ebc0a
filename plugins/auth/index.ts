/**
 * The `auth` plugin: gateway keys. A client presents its key the way its SDK does —
 * `Authorization: Bearer`, `x-api-key` (Anthropic), `x-goog-api-key` or `?key=` (Gemini) — and
 * the key is compared in constant time (SHA-256 digests, `crypto.timingSafeEqual`, every
 * configured key checked). A missing or unknown key is a 401 in the caller's wire format. Each
 * key has a name (in logs, usage and limits), optional allowed models, and per-key limits and
 * quota that `rateLimit` enforces. `adminKeys` protect `/admin/*`.
 *
 * Client keys never reach an upstream: providers send their own configured credentials and no
 * provider forwards the client's. (A provider-level opt-in to forward client credentials may be
 * added later; it would be explicit per provider.)
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, GatewayError } from '../../core/errors.ts';
import { definePlugin, type GatewayContext, type Plugin } from '../../core/plugin.ts';
import { appliesKeyRules, isRateLimit } from '../rate-limit/index.ts';
import { compileQuota, compileRules, globs, type LimitRule, type QuotaRule } from '../rate-limit/rules.ts';

/** One gateway key with its policy. */
export interface GatewayKey {
  /** The secret itself, usually from the environment (`env.ALICE_KEY`). */
  key: string | undefined;
  /** Its name in logs, usage and limits. @default `key-` + the first 8 hex digits of its SHA-256 */
  name?: string;
  /** Asked models this key may use (logical names or `provider/model`; `*` globs). @default every model */
  models?: string[];
  /** Limits for this key (counted per key; `by` may add `model` or `target`). Enforced by `rateLimit`. */
  limits?: LimitRule[];
  /** A token or cost budget for this key. Enforced by `rateLimit`. */
  quota?: QuotaRule;
}

/** What the rest of the pipeline learns about the key (`ctx.state.gatewayKey`). */
export interface KeyPolicy {
  name: string;
  limits?: LimitRule[];
  quota?: QuotaRule;
}

declare module '../../core/plugin.ts' {
  interface GatewayState {
    /** The authenticated key's policy (set by `auth`; read by `rateLimit`). */
    gatewayKey?: KeyPolicy;
  }
}

/** Options for {@link auth}. */
export interface AuthOptions {
  /** Accepted keys: plain secrets (`env.GATEWAY_KEY`) or objects with a name and a policy. */
  keys: Array<string | undefined | GatewayKey>;
  /** Keys for `/admin/*`. Without them admin routes stay loopback-only. */
  adminKeys?: Array<string | undefined>;
}

interface Entry {
  digest: Buffer;
  policy: KeyPolicy;
  models?: RegExp;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Every configured key is compared (no early exit), so timing does not tell which matched. */
function find<T extends { digest: Buffer }>(entries: T[], presented: string): T | undefined {
  const d = digest(presented);
  let found: T | undefined;
  for (const e of entries) if (timingSafeEqual(d, e.digest) && !found) found = e;
  return found;
}

/**
 * The key a request presents, in the order SDKs send them: Bearer, `x-api-key`,
 * `x-goog-api-key`, `?key=`.
 *
 * @example
 * ```ts
 * const key = presentedKey(ctx); // 'sk-...' or undefined
 * ```
 */
export function presentedKey(ctx: GatewayContext): string | undefined {
  const bearer = /^Bearer\s+(\S.*)$/i.exec(ctx.get('authorization'));
  const v = bearer?.[1] ?? (ctx.get('x-api-key') || ctx.get('x-goog-api-key') || (typeof ctx.query.key === 'string' ? ctx.query.key : ''));
  return v.trim() || undefined;
}

const unauthorized = (message: string, code: string) =>
  new GatewayError(code, message, { status: 401, headers: { 'www-authenticate': 'Bearer realm="switchyard"' } });

/**
 * Gateway keys. Runs first (`enforce: 'pre'`) wherever it is listed.
 *
 * @example
 * ```ts
 * pipeline: [
 *   auth({
 *     keys: [
 *       env.GATEWAY_KEY,
 *       { name: 'alice', key: env.ALICE_KEY, models: ['fast', 'demo'], limits: [{ requests: 60, per: '1m' }], quota: { tokens: 1_000_000, reset: '0 0 1 * *' } },
 *     ],
 *     adminKeys: [env.ADMIN_KEY],
 *   }),
 *   rateLimit(),
 * ]
 * ```
 */
export function auth(opts: AuthOptions): Plugin {
  if (!opts || !Array.isArray(opts.keys)) throw new ConfigError('auth: "keys" must be a list of keys');
  const entries: Entry[] = [];
  const names = new Set<string>();
  const secrets: string[] = [];
  opts.keys.forEach((k, i) => {
    const spec: GatewayKey = typeof k === 'object' && k !== null ? k : { key: k };
    if (typeof spec.key !== 'string' || !spec.key.trim()) throw new ConfigError(`auth: keys[${i}]: the key is empty (is its environment variable set?)`);
    const d = digest(spec.key);
    const name = spec.name ?? `key-${d.toString('hex').slice(0, 8)}`;
    if (entries.some((e) => e.digest.equals(d))) throw new ConfigError(`auth: keys[${i}] ("${name}"): the same key is listed twice`);
    if (names.has(name)) throw new ConfigError(`auth: keys[${i}]: the name "${name}" is used twice`);
    names.add(name);
    const where = `auth: keys[${i}] ("${name}")`;
    if (spec.limits) compileRules(spec.limits, `${where}.limits`, '', 'key');
    if (spec.quota) compileQuota(spec.quota, `${where}.quota`, '');
    entries.push({ digest: d, policy: { name, limits: spec.limits, quota: spec.quota }, models: globs(spec.models, `${where}.models`) });
    secrets.push(spec.key);
  });
  if (!entries.length) throw new ConfigError('auth: "keys" is empty: no client could call the gateway');
  const admins = (opts.adminKeys ?? []).map((k, i) => {
    if (typeof k !== 'string' || !k.trim()) throw new ConfigError(`auth: adminKeys[${i}]: the key is empty (is its environment variable set?)`);
    secrets.push(k);
    return { digest: digest(k) };
  });
  const needsLimiter = entries.filter((e) => e.policy.limits?.length || e.policy.quota).map((e) => e.policy.name);

  const plugin: Plugin = definePlugin({
    name: 'auth',
    enforce: 'pre',
    secrets,
    setup(runtime) {
      const limiter = runtime.plugins.find((p) => isRateLimit(p) && appliesKeyRules(p, runtime.plugins));
      if (needsLimiter.length && !limiter) {
        throw new ConfigError(`auth: keys ${needsLimiter.map((n) => `"${n}"`).join(', ')} have limits or a quota, but no rateLimit() before failover enforces them`);
      }
    },
    async middleware(ctx, next) {
      const presented = presentedKey(ctx);
      if (!presented) throw unauthorized('Missing API key: send it as "Authorization: Bearer <key>", "x-api-key", "x-goog-api-key" or "?key=".', 'missing_api_key');
      const entry = find(entries, presented);
      if (!entry) throw unauthorized('Incorrect API key provided.', 'invalid_api_key');
      ctx.state.keyName = entry.policy.name;
      ctx.state.gatewayKey = entry.policy;
      const model = ctx.state.request.model;
      if (entry.models && !entry.models.test(model)) {
        throw new GatewayError('model_not_allowed', `The key "${entry.policy.name}" may not use the model \`${model}\`.`, { status: 403, param: 'model' });
      }
      await next();
    },
  });
  if (admins.length) {
    plugin.adminGuard = async function adminGuard(ctx, next) {
      const presented = presentedKey(ctx);
      if (!presented) throw unauthorized('Missing admin key.', 'missing_api_key');
      if (!find(admins, presented)) throw unauthorized('Incorrect admin key provided.', 'invalid_api_key');
      ctx.state.keyName = 'admin';
      await next();
    };
  }
  return plugin;
}
