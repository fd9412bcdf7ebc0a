/**
 * The `failover` plugin: tries the candidate targets in order, calling the rest of the pipeline
 * once per attempt, and keeps each target's health (circuit breaker, Retry-After) in the shared
 * store.
 *
 * Rules: 5xx, timeouts and connection errors retry the same target (up to its `retries`, with
 * exponential backoff and jitter), then move on; 401/403/429 move on at once, and a Retry-After
 * keeps the target out until then; any other 4xx goes back to the client unchanged. When every
 * target failed the client gets a 502 listing the attempts (targets and statuses only) — or,
 * when only one target was tried, that target's own error. A deadline bounds all attempts. When
 * no target is usable at all, the answer comes at once: 429 if they all asked to wait
 * (Retry-After), 503 if a circuit is open — both with a Retry-After.
 *
 * Streams: a provider resolves once the first upstream event has arrived, so a failure thrown
 * here has sent nothing yet and the next target is tried. Once a stream runs, a failure becomes
 * the client format's in-stream error event (see core/exchange.ts) — never a fake success.
 *
 * @module
 */
import { abortOf, useAbort } from '../../core/request-state.ts';
import { ConfigError, GatewayError } from '../../core/errors.ts';
import { definePlugin, type GatewayContext, type Target } from '../../core/plugin.ts';
import { targetId, type RoutingPlugin } from '../models/routing.ts';
import { CIRCUIT_STATE } from '../metrics/series.ts';
import { admitTargets, type Admitted } from './admit.ts';
import { afterFailure, Attempt, Run, succeeded, type Policy } from './attempt.ts';
import { Deadlines } from './deadlines.ts';
import { createHealth, type CircuitOptions, type CircuitState, type Health, type TargetHealth } from './health.ts';

export type { CircuitOptions, CircuitState, TargetHealth } from './health.ts';

/** Options for {@link failover}. */
export interface FailoverOptions {
  /** Same-target retries after a 5xx, timeout or connection error (a target's own `retries` wins). @default 1 */
  retries?: number;
  /** Backoff between same-target retries: `baseMs · 2^(n-1)`, capped at `maxMs`, with jitter. @default { baseMs: 200, maxMs: 2000 } */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * Total time for all attempts, from the request's arrival to a first answer (a stream that
   * has started is bounded by its provider's `timeoutMs` between chunks instead). @default 300_000
   */
  deadlineMs?: number;
  /** Circuit breaker per target, or `false` to disable it. @default { failureThreshold: 5, cooldownMs: 30_000 } */
  circuit?: CircuitOptions | false;
  /** The longest Retry-After honoured, in ms. @default 600_000 */
  maxRetryAfterMs?: number;
  /** Random source for jitter (tests pass a seeded one). @default Math.random */
  random?: () => number;
}

/** The `failover` plugin object: a routing step (health filter) that also reports health. */
export interface FailoverPlugin extends RoutingPlugin {
  /** A target's circuit and Retry-After state. */
  health(t: Target): Promise<TargetHealth>;
}

function check(o: FailoverOptions): void {
  const nonNeg = { retries: o.retries, baseMs: o.backoff?.baseMs, maxMs: o.backoff?.maxMs, maxRetryAfterMs: o.maxRetryAfterMs };
  for (const [k, v] of Object.entries(nonNeg)) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new ConfigError(`failover: "${k}" must be a non-negative number`);
  }
  const pos = { deadlineMs: o.deadlineMs, failureThreshold: o.circuit ? o.circuit.failureThreshold : undefined, cooldownMs: o.circuit ? o.circuit.cooldownMs : undefined };
  for (const [k, v] of Object.entries(pos)) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new ConfigError(`failover: "${k}" must be a positive number`);
  }
}

/**
 * Failover with retries, backoff, a request deadline and a circuit breaker per target. Part of
 * the default pipeline; place per-target plugins (say a provider rate limit) after it so they
 * run once per attempt.
 *
 * @example
 * ```ts
 * pipeline: [auth({ keys }), sticky(), failover({ retries: 2, deadlineMs: 60_000, circuit: { failureThreshold: 3, cooldownMs: 10_000 } })]
 * ```
 */
export function failover(opts: FailoverOptions = {}): FailoverPlugin {
  check(opts);
  const retries = opts.retries ?? 1;
  const backoff = { baseMs: opts.backoff?.baseMs ?? 200, maxMs: opts.backoff?.maxMs ?? 2000 };
  const deadlineMs = opts.deadlineMs ?? 300_000;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 600_000;
  const random = opts.random ?? Math.random;
  let health: Health;
  const deadlines = new Deadlines();

  const order = (ctx: GatewayContext) => admitTargets(ctx, health, retries);
  let policy: Policy;

  const plugin: FailoverPlugin = definePlugin({
    name: 'failover',
    setup(runtime) {
      const gauge = runtime.metrics.gauge(CIRCUIT_STATE);
      const level = { closed: 0, 'half-open': 1, open: 2 } as const;
      const onState = (t: Target, s: CircuitState) => gauge.set({ provider: t.provider, model: t.model }, level[s]);
      health = createHealth(runtime.sharedStore, opts.circuit ?? {}, onState);
      policy = { retries, backoff, deadlineMs, maxRetryAfterMs, random, health, deadlines };
    },
    async plan(ctx: GatewayContext) {
      await order(ctx);
    },
    health: (t: Target) => health.read(t),
    middleware(ctx, next) {
      if (!ctx.state.candidates.length) return next(); // nothing to choose from: dispatch explains
      const admitted = order(ctx);
      // no await (and no turn) when the store answered at once
      return admitted instanceof Promise ? admitted.then((a) => tryTargets(ctx, next, a)) : tryTargets(ctx, next, admitted);
    },
  });

  /** The attempts, target by target (see attempt.ts for why this loop holds so little). */
  const tryTargets = async (ctx: GatewayContext, next: () => Promise<void>, { probes, failing }: Admitted): Promise<void> => {
    const s = ctx.state;
    const client = abortOf(s);
    const run = new Run(s.startedAt + deadlineMs);
    try {
      outer: for (const target of s.candidates) {
        for (let n = 1; ; n++) {
          if (ctx.headerSent) throw run.last ?? new GatewayError('internal_error', 'response already started', { status: 500 });
          if (Date.now() >= run.deadlineAt) {
            run.deadlineHit = true;
            break outer;
          }
          run.note(target);
          const a = new Attempt(s, target, n, client, run.deadlineAt, deadlines);
          let err: GatewayError | undefined;
          try {
            await next();
          } catch (thrown) {
            err = a.failed(thrown, client);
          } finally {
            deadlines.clear(a.armed);
          }
          // the healthy path builds no target id: no probe claimed, no failures seen
          const probe = probes.size > 0 && probes.delete(targetId(target));
          if (err === undefined) return succeeded(s, a, probe, failing, health);
          const then = await afterFailure(s, a, err, probe, run, client, policy);
          if (then === 'stop') break outer;
          if (then === 'next') break;
        }
      }
    } finally {
      useAbort(s, client);
      if (probes.size) for (const t of probes.values()) await health.release(t); // claimed but never tried
    }
    throw run.error(s, deadlineMs);
  };
  return plugin;
}
