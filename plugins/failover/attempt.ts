/**
 * The parts of `failover`'s loop over targets that are not the loop: one attempt's bookkeeping
 * (its abort source, deadline and record), what a success or a failure does to the target's
 * health, and what comes after a failure (retry, next target, stop).
 *
 * They live outside the loop so that the loop, an async function suspended once per attempt,
 * stays small: V8 keeps a suspended async function's whole register file, and with all of this
 * inline the loop needed 59 registers plus a context per iteration for its closures (the
 * largest allocation site of a request, ~1.9 KB).
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Abort, follow, signalOf, type AbortLike } from '../../core/abort.ts';
import { GatewayError, UpstreamError } from '../../core/errors.ts';
import type { GatewayState, GatewayResult, Target } from '../../core/plugin.ts';
import { useAbort } from '../../core/request-state.ts';
import { targetId } from '../models/routing.ts';
import { DeadlineReached, type Armed, type Deadlines } from './deadlines.ts';
import { retryAfterUntil, type Health } from './health.ts';
import { allFailed, backoffMs, classify } from './rules.ts';

const noop = () => {};

/** What the attempts of one plugin instance share. */
export interface Policy {
  retries: number;
  backoff: { baseMs: number; maxMs: number };
  deadlineMs: number;
  maxRetryAfterMs: number;
  random: () => number;
  health: Health;
  deadlines: Deadlines;
}

/**
 * One attempt on one target: made current on the request (`target`, `attempt`, `signal`) with
 * an abort source of its own that follows the client's and the request deadline.
 *
 * @example
 * ```ts
 * const a = new Attempt(ctx.state, target, 1, client, deadlineAt, deadlines);
 * try { await next(); } catch (thrown) { err = a.failed(thrown, client); } finally { deadlines.clear(a.armed); }
 * ```
 */
export class Attempt {
  readonly target: Target;
  readonly n: number;
  /** Its AbortSignal is made only if a plugin or the provider reads it. */
  readonly abort = new Abort();
  readonly started = Date.now();
  readonly armed: Armed;
  /** Stays after a success: a client gone mid-stream still stops the upstream. */
  readonly #unfollow: () => void;

  constructor(s: GatewayState, target: Target, n: number, client: AbortLike, deadlineAt: number, deadlines: Deadlines) {
    this.target = target;
    this.n = n;
    if (client.aborted) {
      this.abort.abort(client.reason);
      this.#unfollow = noop;
    } else this.#unfollow = follow(this.abort, client);
    this.armed = deadlines.arm(deadlineAt, this.abort);
    s.target = target;
    s.attempt = n;
    s.result = undefined;
    useAbort(s, this.abort);
  }

  /**
   * The attempt threw `thrown`: releases what it holds upstream and returns the error to act on
   * (a `deadline_exceeded` when the deadline ended it). Rethrows what failover does not handle:
   * anything once the client is gone, and errors that are not GatewayErrors.
   */
  failed(thrown: unknown, client: AbortLike): GatewayError {
    this.#unfollow();
    this.abort.abort();
    if (client.aborted || !(thrown instanceof GatewayError)) throw thrown;
    if (!this.deadline) return thrown;
    return new UpstreamError('deadline_exceeded', `upstream "${this.target.provider}" did not answer before the request deadline`, {
      status: 504,
      provider: this.target.provider,
    });
  }

  /** The request deadline ended this attempt. */
  get deadline(): boolean {
    return this.abort.reason instanceof DeadlineReached;
  }
}

/**
 * Records a successful attempt and its effect on the target's health: at once for a whole
 * answer (off the response path, tracked by `onDone`), when it ends for a stream.
 */
export function succeeded(s: GatewayState, a: Attempt, probe: boolean, failing: ReadonlySet<string>, health: Health): void {
  const t = a.target;
  const r = s.result as GatewayResult | undefined;
  const streamed = r?.type === 'sse' || r?.type === 'ir-stream';
  s.attempts.push(
    streamed
      ? { provider: t.provider, model: t.model, durationMs: Date.now() - a.started }
      : { provider: t.provider, model: t.model, status: 200, durationMs: Date.now() - a.started },
  );
  const wasFailing = failing.size > 0 && failing.has(targetId(t));
  if (streamed) {
    s.onDone((o) => {
      if (o.aborted) return probe ? health.release(t) : undefined;
      if (o.error && o.error.status >= 500) return health.failure(t, probe).then(() => undefined);
      return health.success(t, probe, wasFailing);
    });
    return;
  }
  // A health write that fails (store down) must not turn the answer in hand into an error.
  const recording = health.success(t, probe, wasFailing);
  if (recording) {
    const recorded = recording.catch((err) => s.logger.warn({ err: String(err), target: targetId(t) }, 'recording a success failed'));
    s.onDone(() => recorded);
  }
}

/** What the loop over targets knows so far. */
export class Run {
  readonly deadlineAt: number;
  /** The first target tried, and whether another followed. */
  firstTried: Target | undefined = undefined;
  severalTried = false;
  last: GatewayError | undefined = undefined;
  retryAfter = Infinity;
  deadlineHit = false;

  constructor(deadlineAt: number) {
    this.deadlineAt = deadlineAt;
  }

  /** An attempt on `target` begins. */
  note(target: Target): void {
    if (this.firstTried === undefined) this.firstTried = target;
    else if (target !== this.firstTried && targetId(target) !== targetId(this.firstTried)) this.severalTried = true;
  }

  /** The error once no attempt succeeded: one target's own, or the summary of all. */
  error(s: GatewayState, deadlineMs: number): GatewayError {
    if (this.firstTried !== undefined && !this.severalTried && !this.deadlineHit && this.last) return this.last;
    const ra = this.retryAfter < Infinity ? String(Math.max(1, Math.ceil((this.retryAfter - Date.now()) / 1000))) : undefined;
    return allFailed(s.attempts, { deadline: this.deadlineHit, deadlineMs, retryAfter: ra });
  }
}

/**
 * After a failed attempt: records it, updates the target's health and decides — `retry` the
 * same target (after its backoff), go to the `next` target, or `stop` (the deadline passed).
 * Throws an error the client gets as it is (any other 4xx), or a 499 when the client leaves
 * during the backoff.
 */
export async function afterFailure(s: GatewayState, a: Attempt, err: GatewayError, probe: boolean, run: Run, client: AbortLike, p: Policy): Promise<'retry' | 'next' | 'stop'> {
  const t = a.target;
  s.attempts.push({ provider: t.provider, model: t.model, status: err.status, code: err.code, durationMs: Date.now() - a.started });
  run.last = err;
  if (a.deadline) {
    await p.health.failure(t, probe);
    run.deadlineHit = true;
    return 'stop';
  }
  const verdict = classify(err);
  if (verdict === 'fatal') {
    if (probe) await p.health.release(t);
    throw err;
  }
  const until = retryAfterUntil(err.headers['retry-after'], p.maxRetryAfterMs);
  if (until) {
    run.retryAfter = Math.min(run.retryAfter, until);
    // A gateway limit (rateLimit after failover) may count per key or model: it says nothing
    // about the target for other requests, so the target is not cooled down.
    if (err.code !== 'rate_limited_target') await p.health.unavailable(t, until);
  }
  let opened = false;
  if (verdict === 'retry') opened = await p.health.failure(t, probe);
  else if (probe) await p.health.release(t);
  if (verdict !== 'retry' || until || opened || a.n > (t.retries ?? p.retries)) return 'next';
  const wait = backoffMs(a.n, p.backoff, p.random);
  if (Date.now() + wait >= run.deadlineAt) return 'next'; // no time to wait here: the next target, at once
  await sleep(wait, undefined, { signal: signalOf(client) }).catch(() => {
    throw new UpstreamError('client_aborted', 'the client closed the request', { status: 499, provider: t.provider });
  });
  return 'retry';
}
