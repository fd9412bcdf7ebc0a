/**
 * Admission for `failover`: which candidate targets may be tried now, read from their health.
 *
 * @module
 */
import { GatewayError } from '../../core/errors.ts';
import type { GatewayContext, Target } from '../../core/plugin.ts';
import { explain, targetId } from '../models/routing.ts';
import type { Admission, Health } from './health.ts';

// Shared empties: read (`delete`, `has`, iteration) but never written, so one of each serves all.
const NO_PROBES: Map<string, Target> = new Map();
const NO_FAILING: Set<string> = new Set();

/** What admission claimed and saw, by target id. */
export interface Admitted {
  /** Half-open probes this request claimed (to release if unused). */
  probes: Map<string, Target>;
  /** Targets that had failures counted when admitted (a success then clears them). */
  failing: Set<string>;
}

/**
 * Drops the candidates that are cooling down (circuit open, Retry-After), explaining each
 * decision when the routing API asks; throws 429/503 at once when none is left. `retries` is
 * the plugin's default, shown in the explanations. Answers without a promise when every health
 * read did (a store in this process).
 *
 * @example
 * ```ts
 * const { probes, failing } = await admitTargets(ctx, health, 1);
 * ```
 */
export function admitTargets(ctx: GatewayContext, health: Health, retries: number): Admitted | Promise<Admitted> {
  const dry = ctx.state.dryRun === true;
  const all = ctx.state.candidates;
  if (!all.length) return { probes: NO_PROBES, failing: NO_FAILING };
  if (all.length === 1) {
    const a = health.admit(all[0]!, dry);
    return a instanceof Promise ? a.then((x) => keep(ctx, all, [x], retries)) : keep(ctx, all, [a], retries);
  }
  const list = all.map((t) => health.admit(t, dry));
  return list.some((a) => a instanceof Promise) ? Promise.all(list).then((xs) => keep(ctx, all, xs, retries)) : keep(ctx, all, list as Admission[], retries);
}

/** Keeps the admitted candidates (`admissions[i]` is about `all[i]`). */
function keep(ctx: GatewayContext, all: Target[], admissions: Admission[], retries: number): Admitted {
  const dry = ctx.state.dryRun === true;
  // Made on first use: the usual request (healthy targets) claims no probe and sees no failures.
  let probes = NO_PROBES;
  let failing = NO_FAILING;
  const notes = ctx.state.routeNotes !== undefined; // explanations are built only when asked for
  const kept: Target[] = [];
  let soonest = Infinity;
  let limited = true; // every skip is an upstream's own Retry-After
  for (let i = 0; i < all.length; i++) {
    const t = all[i]!;
    const a = admissions[i]!;
    if (!a.ok) {
      soonest = Math.min(soonest, a.until);
      limited &&= a.cause === 'retry-after';
      if (notes) explain(ctx, t, 'failover', 'skipped', a.reason);
      continue;
    }
    if (a.probe && !dry) (probes === NO_PROBES ? (probes = new Map()) : probes).set(targetId(t), t);
    if (a.failing) (failing === NO_FAILING ? (failing = new Set()) : failing).add(targetId(t));
    if (notes) explain(ctx, t, 'failover', 'kept', `${a.reason}; up to ${t.retries ?? retries} same-target retries`);
    kept.push(t);
  }
  if (!kept.length) {
    // Nothing worth trying: answer at once, as the upstreams would have (429) or as a breaker does (503).
    const headers = { 'retry-after': String(Math.max(1, Math.ceil((soonest - Date.now()) / 1000))) };
    const model = ctx.state.request.model;
    if (limited) throw new GatewayError('rate_limit_exceeded', `every target of \`${model}\` is rate limited upstream; retry after ${headers['retry-after']} s`, { status: 429, headers });
    throw new GatewayError('no_available_target', `every target of \`${model}\` is cooling down (circuit open or Retry-After)`, { status: 503, expose: true, headers });
  }
  ctx.state.candidates = kept;
  return { probes, failing };
}
