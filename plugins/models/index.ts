/**
 * The `models` plugin: turns the model name a client asked for into ordered candidate targets,
 * and serves `GET /v1/models`.
 *
 * Resolution order: a logical name from `config.models`; then `provider/model` naming a
 * configured provider directly. Anything else is a 404 `model_not_found`.
 *
 * @module
 */
import { GatewayError } from '../../core/errors.ts';
import type { ResolvedConfig } from '../../core/config.ts';
import { definePlugin, type GatewayContext, type Plugin, type Target } from '../../core/plugin.ts';

/** Options for {@link models}. */
export interface ModelsOptions {
  /** Random source for weighted ordering (tests pass a seeded one). @default Math.random */
  random?: () => number;
}

/**
 * Orders targets: lowest `priority` first; within a priority, a weighted random permutation
 * (each draw picks a remaining target with probability weight / remaining weight).
 *
 * @example
 * ```ts
 * orderTargets([{ provider: 'a', model: 'x', weight: 3 }, { provider: 'b', model: 'y' }]);
 * ```
 */
export function orderTargets(targets: readonly Target[], random: () => number = Math.random): Target[] {
  const byPriority = new Map<number, Target[]>();
  for (const t of targets) {
    const p = t.priority ?? 0;
    byPriority.set(p, [...(byPriority.get(p) ?? []), t]);
  }
  const out: Target[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    const pool = [...byPriority.get(p)!];
    while (pool.length) {
      const total = pool.reduce((n, t) => n + (t.weight ?? 1), 0);
      let r = random() * total;
      let i = 0;
      while (i < pool.length - 1 && (r -= pool[i]!.weight ?? 1) >= 0) i++;
      out.push(pool.splice(i, 1)[0]!);
    }
  }
  return out;
}

/** Resolves a model name against the config: logical names, then `provider/model`. */
export function resolveModel(config: ResolvedConfig, name: string, random?: () => number): Target[] | undefined {
  const logical = config.models[name];
  if (logical) return orderTargets(logical, random);
  const slash = name.indexOf('/');
  if (slash > 0) {
    const provider = name.slice(0, slash);
    const model = name.slice(slash + 1);
    if (model && provider in config.providers) return [{ provider, model }];
  }
  return undefined;
}

/** Every routable name once: logical names, then `provider/model` for each configured target. */
export function listModelNames(config: ResolvedConfig): string[] {
  const names = new Set(Object.keys(config.models));
  for (const targets of Object.values(config.models)) for (const t of targets) names.add(`${t.provider}/${t.model}`);
  return [...names];
}

/**
 * Maps the asked model to candidate targets. Added automatically when the pipeline has no
 * plugin named `models`.
 *
 * @example
 * ```ts
 * pipeline: [auth({ keys }), models(), failover()]
 * ```
 */
export function models(opts: ModelsOptions = {}): Plugin {
  let config: ResolvedConfig;
  return definePlugin({
    name: 'models',
    setup(runtime) {
      config = runtime.config;
    },
    async middleware(ctx: GatewayContext, next) {
      const name = ctx.state.request.model;
      const candidates = resolveModel(config, name, opts.random);
      if (!candidates?.length) {
        throw new GatewayError('model_not_found', `The model \`${name}\` does not exist or you do not have access to it.`, {
          status: 404,
          param: 'model',
        });
      }
      ctx.state.candidates = candidates;
      await next();
    },
    routes: [
      {
        method: 'GET',
        path: '/v1/models',
        handler(ctx) {
          ctx.body = {
            object: 'list',
            data: listModelNames(config).map((id) => ({ id, object: 'model', created: 0, owned_by: 'switchyard' })),
          };
        },
      },
    ],
  });
}
