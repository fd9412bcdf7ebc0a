/**
 * The routing-step convention shared by `models`, `sticky`, `failover` and the routing API: a
 * plugin that orders `ctx.state.candidates` exposes that ordering as `plan(ctx)`, runs it from
 * its own middleware, and explains each decision with {@link explain}. `POST /admin/routing/decide`
 * runs every `plan` of the pipeline in order with `ctx.state.dryRun` set, and reports the notes.
 *
 * A custom routing plugin (route by cost, by tenant ...) gets explained the same way by
 * implementing `plan`.
 *
 * @module
 */
import type { GatewayContext, Plugin, Target } from '../../core/plugin.ts';

declare module '../../core/plugin.ts' {
  interface GatewayState {
    /** Set by the routing API: plan only — no upstream calls, no state written. */
    dryRun?: boolean;
    /** Explanations of the routing decisions; collected only when the routing API asks. */
    routeNotes?: RouteNote[];
  }
}

/** What a routing step did to one target. */
export type RouteAction = 'kept' | 'reordered' | 'skipped';

/** One explained decision about one target. */
export interface RouteNote {
  provider: string;
  model: string;
  /** The plugin that decided. */
  by: string;
  action: RouteAction;
  /** Human-readable, safe to show (no bodies, no keys). */
  reason: string;
}

/**
 * A plugin whose candidate ordering can be run on its own (as a dry run too). `plan` must not
 * write state or call upstreams when `ctx.state.dryRun` is set. The pipeline calls `middleware`
 * unbound (as Koa does), so it reaches `plan` through a variable, not `this`.
 *
 * @example
 * ```ts
 * const cheapFirst = (): RoutingPlugin => {
 *   const plugin: RoutingPlugin = {
 *     name: 'cheap-first',
 *     async plan(ctx) { ctx.state.candidates = [...ctx.state.candidates].sort((a, b) => price(a) - price(b)); },
 *     async middleware(ctx, next) { await plugin.plan(ctx); await next(); },
 *   };
 *   return plugin;
 * };
 * ```
 */
export interface RoutingPlugin extends Plugin {
  plan(ctx: GatewayContext): Promise<void>;
}

/**
 * Whether a plugin implements {@link RoutingPlugin.plan}.
 *
 * @example
 * ```ts
 * const steps = runtime.plugins.filter(isRoutingPlugin);
 * ```
 */
export function isRoutingPlugin(p: Plugin): p is RoutingPlugin {
  return typeof (p as Partial<RoutingPlugin>).plan === 'function';
}

/**
 * A target's identity, `provider/model` (the key of its health and bindings).
 *
 * @example
 * ```ts
 * targetId({ provider: 'oa', model: 'gpt-4o' }); // 'oa/gpt-4o'
 * ```
 */
export function targetId(t: Pick<Target, 'provider' | 'model'>): string {
  return `${t.provider}/${t.model}`;
}

/**
 * Records why a target was kept, reordered or skipped (a no-op unless the routing API collects).
 *
 * @example
 * ```ts
 * explain(ctx, target, 'sticky', 'reordered', 'session "abc" is bound to this target');
 * ```
 */
export function explain(ctx: GatewayContext, t: Target, by: string, action: RouteAction, reason: string): void {
  ctx.state.routeNotes?.push({ provider: t.provider, model: t.model, by, action, reason });
}
