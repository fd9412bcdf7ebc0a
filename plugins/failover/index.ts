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
import { setTimeout as sleep } from 'node:timers/promises';
import { Abort, onAbort, signalOf } from '../../core/abort.ts';
import { abortOf, useAbort } from '../../core/request-state.ts';
import { ConfigError, GatewayError, UpstreamError } from '../../core/errors.ts';
import { definePlugin, type GatewayContext, type GatewayResult, type Target } from '../../core/plugin.ts';
import { targetId, type RoutingPlugin } from '../models/routing.ts';
import { CIRCUIT_STATE } from '../metrics/series.ts';
import { admitTargets } from './admit.ts';
import { DeadlineReached, Deadlines } from './deadlines.ts';
import { createHealth, retryAfterUntil, type CircuitOptions, type CircuitState, type Health, type TargetHealth } from './health.ts';
import { allFailed, backoffMs, classify } from './rules.ts';

export type { CircuitOptions, CircuitState, TargetHealth } from './health.ts';

const noop = () => {};

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

  const plugin: FailoverPlugin = definePlugin({
    name: 'failover',
    setup(runtime) {
      const gauge = runtime.metrics.gauge(CIRCUIT_STATE);
      const level = { closed: 0, 'half-open': 1, open: 2 } as const;
      const onState = (t: Target, s: CircuitState) => gauge.set({ provider: t.provider, model: t.model }, level[s]);
      health = createHealth(runtime.sharedStore, opts.circuit ?? {}, onState);
    },
    async plan(ctx: GatewayContext) {
      await order(ctx);
    },
    health: (t: Target) => health.read(t),
    async middleware(ctx, next) {
      const s = ctx.state;
      if (!s.candidates.length) return next(); // nothing to choose from: dispatch explains
      const admitted = order(ctx);
      const { probes, failing } = admitted instanceof Promise ? await admitted : admitted; // no await (and no turn) when the store answered at once
      const client = abortOf(s);
      const deadlineAt = s.startedAt + deadlineMs;
      let firstTried: Target | undefined; // the first target tried, and whether another followed
      let severalTried = false;
      let last: GatewayError | undefined;
      let retryAfter = Infinity;
      let deadlineHit = false;
      try {
        outer: for (const target of s.candidates) {
          // Its id only when needed (another target to compare, a probe or failures to look up):
          // the healthy path builds and hashes no string.
          let id: string | undefined;
          const maxRetries = target.retries ?? retries;
          for (let n = 1; ; n++) {
            if (ctx.headerSent) throw last ?? new GatewayError('internal_error', 'response already started', { status: 500 });
            if (Date.now() >= deadlineAt) {
              deadlineHit = true;
              break outer;
            }
            if (firstTried === undefined) firstTried = target;
            else if (target !== firstTried && (id ??= targetId(target)) !== targetId(firstTried)) severalTried = true;
            // One attempt, with its own abort source: the client's abort or the request deadline.
            // Its AbortSignal is made only if a plugin or the provider reads it.
            const attempt = new Abort();
            // Stays after a successful attempt: a client gone mid-stream still stops the upstream.
            const offClient = client.aborted ? (attempt.abort(client.reason), noop) : onAbort(client, (reason) => attempt.abort(reason));
            const armed = deadlines.arm(deadlineAt, attempt);
            s.target = target;
            s.attempt = n;
            s.result = undefined;
            useAbort(s, attempt);
            const started = Date.now();
            let err: GatewayError | undefined;
            try {
              await next();
            } catch (thrown) {
              offClient();
              attempt.abort(); // releases whatever the failed attempt still holds upstream
              if (client.aborted || !(thrown instanceof GatewayError)) throw thrown;
              err = thrown;
            } finally {
              deadlines.clear(armed);
            }
            const probe = probes.size > 0 && probes.delete((id ??= targetId(target)));
            if (err === undefined) {
              const r = s.result as GatewayResult | undefined;
              const streamed = r?.type === 'sse' || r?.type === 'ir-stream';
              s.attempts.push(
                streamed
                  ? { provider: target.provider, model: target.model, durationMs: Date.now() - started }
                  : { provider: target.provider, model: target.model, status: 200, durationMs: Date.now() - started },
              );
              const wasFailing = failing.size > 0 && failing.has((id ??= targetId(target)));
              if (!streamed) {
                // Off the response path: the answer is in hand, and a health write that fails
                // (store down) must not turn it into an error. Tracked by onDone for the drain.
                const recording = health.success(target, probe, wasFailing);
                if (recording) {
                  const recorded = recording.catch((e) => s.logger.warn({ err: String(e), target: targetId(target) }, 'recording a success failed'));
                  s.onDone(() => recorded);
                }
              } else {
                s.onDone((o) => {
                  if (o.aborted) return probe ? health.release(target) : undefined;
                  if (o.error && o.error.status >= 500) return health.failure(target, probe).then(() => undefined);
                  return health.success(target, probe, wasFailing);
                });
              }
              return;
            }
            const deadline = attempt.reason instanceof DeadlineReached;
            if (deadline) {
              err = new UpstreamError('deadline_exceeded', `upstream "${target.provider}" did not answer before the request deadline`, { status: 504, provider: target.provider });
            }
            s.attempts.push({ provider: target.provider, model: target.model, status: err.status, code: err.code, durationMs: Date.now() - started });
            last = err;
            if (deadline) {
              await health.failure(target, probe);
              deadlineHit = true;
              break outer;
            }
            const verdict = classify(err);
            if (verdict === 'fatal') {
              if (probe) await health.release(target);
              throw err;
            }
            const until = retryAfterUntil(err.headers['retry-after'], maxRetryAfterMs);
            if (until) {
              retryAfter = Math.min(retryAfter, until);
              // A gateway limit (rateLimit after failover) may count per key or model: it says
              // nothing about the target for other requests, so the target is not cooled down.
              if (err.code !== 'rate_limited_target') await health.unavailable(target, until);
            }
            let opened = false;
            if (verdict === 'retry') opened = await health.failure(target, probe);
            else if (probe) await health.release(target);
            if (verdict !== 'retry' || until || opened || n > maxRetries) break;
            const wait = backoffMs(n, backoff, random);
            if (Date.now() + wait >= deadlineAt) break; // no time to wait here: the next target, at once
            await sleep(wait, undefined, { signal: signalOf(client) }).catch(() => {
              throw new UpstreamError('client_aborted', 'the client closed the request', { status: 499, provider: target.provider });
            });
          }
        }
      } finally {
        useAbort(s, client);
        if (probes.size) for (const t of probes.values()) await health.release(t); // claimed but never tried
      }
      if (firstTried !== undefined && !severalTried && !deadlineHit && last) throw last; // one target: its own answer says most
      const ra = retryAfter < Infinity ? String(Math.max(1, Math.ceil((retryAfter - Date.now()) / 1000))) : undefined;
      throw allFailed(s.attempts, { deadline: deadlineHit, deadlineMs, retryAfter: ra });
    },
  });
  return plugin;
}
