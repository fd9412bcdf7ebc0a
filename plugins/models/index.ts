/**
 * The `models` plugin: turns the model name a client asked for into ordered candidate targets,
 * and serves `GET /v1/models`.
 *
 * Resolution order: a logical name from `config.models`; an alias (option `aliases`); a
 * `provider/model` name; a wildcard entry of `config.models` (a key with `*`, e.g. `claude-*`,
 * whose target model `*` is replaced by the asked name); a discovered name (option `discover`).
 * Anything else is a 404 `model_not_found`. Targets are ordered by priority, then weighted
 * random within a priority; a target whose `maxContextTokens` the request would overflow is
 * skipped.
 *
 * @module
 */
import type { ResolvedConfig } from '../../core/config.ts';
import { ConfigError, GatewayError } from '../../core/errors.ts';
import { definePlugin, type GatewayContext, type Target } from '../../core/plugin.ts';
import { checkDiscovery, createDiscovery, type Discovery, type DiscoveryOptions } from './discovery.ts';
import { compilePatterns, estimatePromptTokens, orderTargets, resolveName, type Pattern, type Resolution, type ResolveContext, type ResolvedVia } from './resolve.ts';
import { explain, targetId, type RoutingPlugin } from './routing.ts';

export { orderTargets } from './resolve.ts';

/** Options for {@link models}. */
export interface ModelsOptions {
  /** Random source for weighted ordering (tests pass a seeded one). @default Math.random */
  random?: () => number;
  /**
   * Extra names for models: alias → a logical name, a `provider/model`, a name a wildcard
   * matches, or a discovered name. @default {}
   */
  aliases?: Record<string, string>;
  /**
   * Zero-config discovery: names in the providers' own model lists become routable (cached in
   * the store with a TTL). `true` uses every provider that can list its models. @default false
   */
  discover?: boolean | DiscoveryOptions;
}

/** One routable name, as the routing API lists it. */
export interface CatalogEntry {
  name: string;
  via: Exclude<ResolvedVia, 'direct'>;
  /** For aliases: the name it stands for. */
  aliasOf?: string;
  /** Targets in config order (wildcard targets keep `*` in the model). */
  targets: Target[];
}

/** The `models` plugin object: a routing step that also lists what is routable. */
export interface ModelsPlugin extends RoutingPlugin {
  /** Every routable name: logical, wildcard patterns, aliases, discovered. */
  catalog(): Promise<CatalogEntry[]>;
  /** Providers' discovered lists (empty when discovery is off). */
  discovered(): Promise<Record<string, { models: string[]; fetchedAt: number; error?: string }>>;
}

function checkAliases(aliases: Record<string, string>): void {
  for (const [from, to] of Object.entries(aliases)) {
    if (typeof to !== 'string' || !to) throw new ConfigError(`models: aliases.${from} must be a model name`);
    const seen = new Set([from]);
    for (let n = to; aliases[n] !== undefined; n = aliases[n]!) {
      if (seen.has(n)) throw new ConfigError(`models: aliases.${from}: alias cycle through "${n}"`);
      seen.add(n);
    }
  }
}

/**
 * Maps the asked model to candidate targets. Added automatically (without options) when the
 * pipeline has no plugin named `models`; list it to pass options.
 *
 * @example
 * ```ts
 * models: { fast: [{ provider: 'oa', model: 'gpt-4o-mini', weight: 3 }, 'gem/gemini-2.5-flash'], 'claude-*': 'claude/*' },
 * pipeline: [models({ aliases: { 'gpt-4': 'fast' }, discover: { providers: ['local'] } }), failover()],
 * ```
 */
export function models(opts: ModelsOptions = {}): ModelsPlugin {
  const aliases = { ...opts.aliases };
  checkAliases(aliases);
  const discoverOpts: DiscoveryOptions | undefined = opts.discover === true ? {} : opts.discover || undefined;
  let config: ResolvedConfig;
  let patterns: Pattern[] = [];
  let discovery: Discovery | undefined;

  let rc: ResolveContext; // set up with the config
  /** Resolves from the config alone; PENDING when only discovery (async) can tell. */
  const resolveNow = (asked: string): Resolution | undefined | typeof PENDING => {
    const found = resolveName(rc, asked);
    return found || !discovery ? found : PENDING;
  };
  const resolve = async (asked: string): Promise<Resolution | undefined> => {
    const found = resolveName(rc, asked);
    if (found || !discovery) return found;
    return resolveName({ ...rc, discovered: await discovery.index() }, asked);
  };

  /** Orders the resolved targets into `ctx.state.candidates` (or says why there are none). */
  const choose = (ctx: GatewayContext, found: Resolution | undefined): void => {
    const req = ctx.state.request;
    if (!found?.targets.length) {
      throw new GatewayError('model_not_found', `The model \`${req.model}\` does not exist or you do not have access to it.`, {
        status: 404,
        param: 'model',
      });
    }
    const ordered = found.targets.length === 1 ? found.targets : orderTargets(found.targets, opts.random);
    const windows = req.operation === 'chat' && ordered.some((t) => t.maxContextTokens !== undefined);
    const needed = windows ? estimatePromptTokens(req.ir) + (req.ir.maxTokens ?? 0) : 0;
    const notes = ctx.state.routeNotes !== undefined; // explanations are built only when asked for
    const kept: Target[] = [];
    for (const t of ordered) {
      if (t.maxContextTokens !== undefined && windows && needed > t.maxContextTokens) {
        if (notes) explain(ctx, t, 'models', 'skipped', `needs ~${needed} tokens (prompt + max tokens), over its maxContextTokens ${t.maxContextTokens}`);
        continue;
      }
      if (notes) explain(ctx, t, 'models', 'kept', keptReason(req.model, found, t));
      kept.push(t);
    }
    if (!kept.length) {
      throw new GatewayError(
        'context_length_exceeded',
        `the request needs ~${needed} tokens, more than the context window of every target of \`${req.model}\``,
        { status: 400, param: 'messages' },
      );
    }
    ctx.state.candidates = kept;
  };

  const plugin: ModelsPlugin = definePlugin({
    name: 'models',
    setup(runtime) {
      config = runtime.config;
      patterns = compilePatterns(config);
      rc = { config, patterns, aliases, discovered: new Map() };
      if (discoverOpts) {
        checkDiscovery(config, discoverOpts);
        discovery = createDiscovery(runtime, discoverOpts);
      }
      for (const [from, to] of Object.entries(aliases)) {
        if (!discovery && !resolveName({ config, patterns, aliases, discovered: new Map() }, to)) {
          throw new ConfigError(`models: aliases.${from}: "${to}" is not a configured model`);
        }
      }
    },
    async plan(ctx: GatewayContext) {
      const found = resolveNow(ctx.state.request.model);
      choose(ctx, found === PENDING ? await resolve(ctx.state.request.model) : found);
    },
    middleware(ctx, next) {
      // The usual case (a configured name) is decided at once: no await of its own before next().
      const found = resolveNow(ctx.state.request.model);
      if (found !== PENDING) {
        choose(ctx, found);
        return next();
      }
      return resolve(ctx.state.request.model).then((f) => {
        choose(ctx, f);
        return next();
      });
    },
    async catalog() {
      const out: CatalogEntry[] = Object.entries(config.models).map(([name, targets]) => ({
        name,
        via: name.includes('*') ? ('wildcard' as const) : ('logical' as const),
        targets: [...targets],
      }));
      for (const [name, to] of Object.entries(aliases)) {
        const r = await resolve(to);
        out.push({ name, via: 'alias', aliasOf: to, targets: r?.targets ?? [] });
      }
      for (const [name, providers] of discovery ? await discovery.index() : []) {
        out.push({ name, via: 'discovered', targets: providers.map((provider) => ({ provider, model: name })) });
      }
      return out;
    },
    async discovered() {
      if (!discovery) return {};
      const lists = await discovery.lists();
      return Object.fromEntries(Object.entries(lists).map(([p, l]) => [p, { models: l.models, fetchedAt: l.fetchedAt, error: l.error }]));
    },
    routes: [
      {
        method: 'GET',
        path: '/v1/models',
        async handler(ctx) {
          const names = new Set<string>();
          const direct: string[] = [];
          for (const e of await plugin.catalog()) {
            if (e.via !== 'wildcard') names.add(e.name);
            if (e.via === 'logical') direct.push(...e.targets.map(targetId));
          }
          for (const id of direct) names.add(id);
          ctx.body = { object: 'list', data: [...names].map((id) => ({ id, object: 'model', created: 0, owned_by: 'switchyard' })) };
        },
      },
    ],
  });
  return plugin;
}

const PENDING = Symbol('pending');

/** Why `models` kept a target, for the routing API. */
function keptReason(asked: string, found: Resolution, t: Target): string {
  const source = found.via === 'alias' ? `alias "${asked}" → "${found.entry}"` : `${found.via} "${found.entry}"`;
  if (found.targets.length === 1) return source;
  const p = t.priority ?? 0;
  const total = found.targets.filter((x) => (x.priority ?? 0) === p).reduce((n, x) => n + (x.weight ?? 1), 0);
  return `${source}: priority ${p}, weight ${t.weight ?? 1} of ${total}`;
}
