/**
 * Cost-aware routing: orders a request's candidates by what *this* request would cost on each
 * target — estimated prompt tokens × input price + expected output tokens × output price, from
 * per-target prices in the config (`Target.meta.price`, USD per million tokens).
 *
 * "Healthy" comes from `failover`, placed after it: failover drops targets whose circuit is open
 * or that asked for a Retry-After, and moves to the next-cheapest target when one fails. Health
 * lives in the gateway's shared store, so it survives reloads. This plugin only orders — it
 * implements `plan` (the routing-step convention), so `POST /admin/routing/decide` explains its
 * choices too.
 */
import { definePlugin, explain, type GatewayContext, type IRRequest, type RoutingPlugin, type Target } from 'switchyard';

/** Prices in USD per million tokens, kept in `Target.meta.price`. */
export interface Price {
  input: number;
  output: number;
}

/** Options for {@link costAware}. */
export interface CostAwareOptions {
  /** Output tokens assumed when the request sets no maximum. @default 500 */
  defaultOutputTokens?: number;
}

/**
 * The price a target declares, or undefined (such targets go last).
 *
 * @example
 * ```ts
 * priceOf({ provider: 'oa', model: 'gpt-4o-mini', meta: { price: { input: 0.15, output: 0.6 } } }); // { input: 0.15, output: 0.6 }
 * ```
 */
export function priceOf(t: Target): Price | undefined {
  const p = t.meta?.price as Partial<Price> | undefined;
  return typeof p?.input === 'number' && typeof p.output === 'number' ? { input: p.input, output: p.output } : undefined;
}

function promptChars(ir: IRRequest): number {
  let n = ir.system.reduce((s, p) => s + p.text.length, 0);
  for (const m of ir.messages) for (const p of m.content) n += p.type === 'text' ? p.text.length : JSON.stringify(p).length;
  return n;
}

/**
 * Estimated USD cost of the request on a target (Infinity without a price).
 *
 * @example
 * ```ts
 * const usd = estimateCost(ctx.state.request.ir, target, 500);
 * ```
 */
export function estimateCost(ir: IRRequest, t: Target, defaultOutputTokens = 500): number {
  const price = priceOf(t);
  if (!price) return Infinity;
  const input = Math.ceil(promptChars(ir) / 4);
  const output = ir.maxTokens ?? defaultOutputTokens;
  return (input * price.input + output * price.output) / 1e6;
}

/**
 * Cheapest first; on the way out says which target served and its estimate in
 * `x-route-target` / `x-route-cost-usd`.
 *
 * @example
 * ```ts
 * models: { chat: [{ provider: 'oa', model: 'gpt-4o-mini', meta: { price: { input: 0.15, output: 0.6 } } }, ...] },
 * pipeline: [costAware(), failover()],
 * ```
 */
export function costAware(opts: CostAwareOptions = {}): RoutingPlugin {
  const costs = new WeakMap<GatewayContext, Map<Target, number>>(); // per request, freed with it
  async function plan(ctx: GatewayContext) {
    const req = ctx.state.request;
    if (req.operation !== 'chat') return;
    const cost = new Map(ctx.state.candidates.map((t) => [t, estimateCost(req.ir, t, opts.defaultOutputTokens)]));
    costs.set(ctx, cost);
    ctx.state.candidates = [...ctx.state.candidates].sort((a, b) => cost.get(a)! - cost.get(b)!); // stable: ties keep config order
    for (const t of ctx.state.candidates) {
      const c = cost.get(t)!;
      explain(ctx, t, 'cost-aware', 'reordered', Number.isFinite(c) ? `~$${c.toFixed(6)} for this request` : 'no price: last');
    }
  }
  return definePlugin({
    name: 'cost-aware',
    plan,
    async middleware(ctx, next) {
      await plan(ctx); // the pipeline calls middleware unbound: no `this`
      await next();
      const served = ctx.state.target;
      const cost = served && costs.get(ctx)?.get(served);
      if (!served || cost === undefined) return;
      ctx.set('x-route-target', `${served.provider}/${served.model}`);
      ctx.set('x-route-cost-usd', cost.toFixed(6));
    },
  });
}
