/**
 * The failover rules as pure functions: which failures retry the same target, which move on,
 * which go back to the client; the backoff delay; and the all-failed summary.
 *
 * @module
 */
import { GatewayError } from '../../core/errors.ts';
import type { AttemptRecord } from '../../core/plugin.ts';

/** What to do after a failed attempt. */
export type Verdict =
  /** 5xx, timeout, connection error: retry this target (up to its retries), then move on. */
  | 'retry'
  /** 401/403/429, an operation this provider lacks, a provider busy at its own limit: the next target at once. */
  | 'next'
  /** Any other 4xx: the request is at fault; the client gets the error unchanged. */
  | 'fatal';

/**
 * Classifies a failed attempt.
 *
 * @example
 * ```ts
 * classify(new GatewayError('upstream_timeout', 'timed out', { status: 504 })); // 'retry'
 * ```
 */
export function classify(err: GatewayError): Verdict {
  if (err.code === 'client_aborted') return 'fatal';
  if (err.status === 401 || err.status === 403 || err.status === 429) return 'next';
  // A target that cannot do this operation says nothing about the request: another one may.
  if (err.code === 'unsupported_operation') return 'next';
  // A provider at its own concurrency limit (processProvider's 503 `overloaded`) is busy, not
  // broken: the next target at once, and no failure counted toward its circuit.
  if (err.code === 'overloaded') return 'next';
  if (err.status >= 500) return 'retry';
  return 'fatal';
}

/**
 * Exponential backoff with "equal jitter": half the exponential delay, plus a random share of
 * the other half, capped at `maxMs`.
 *
 * @example
 * ```ts
 * backoffMs(2, { baseMs: 100, maxMs: 2000 }, Math.random); // 100..200
 * ```
 */
export function backoffMs(retry: number, o: { baseMs: number; maxMs: number }, random: () => number): number {
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** (retry - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** One attempt as the client may see it: target and status or failure kind, nothing else. */
function describeAttempt(a: AttemptRecord): string {
  const what = a.code === 'upstream_timeout' || a.code === 'deadline_exceeded' ? 'timeout' : a.code === 'upstream_unreachable' ? 'unreachable' : String(a.status ?? 'error');
  return `${a.provider}/${a.model} ${what}`;
}

/**
 * The error when every candidate failed: 502 with a safe summary (targets and statuses, never
 * upstream bodies) — 429 when every attempt was rate limited — or 504 when the request deadline
 * ran out first. The smallest Retry-After any attempt carried is passed on.
 *
 * @example
 * ```ts
 * throw allFailed(ctx.state.attempts, { deadline: false, retryAfter: '3' });
 * ```
 */
export function allFailed(attempts: readonly AttemptRecord[], o: { deadline: boolean; deadlineMs: number; retryAfter?: string }): GatewayError {
  const failed = attempts.filter((a) => a.code !== undefined || (a.status ?? 0) >= 400);
  const summary = failed.map(describeAttempt).join(', ') || 'no attempt could start';
  const headers: Record<string, string> = o.retryAfter ? { 'retry-after': o.retryAfter } : {};
  if (o.deadline) {
    return new GatewayError('deadline_exceeded', `no target answered within the request deadline of ${o.deadlineMs} ms (attempts: ${summary})`, {
      status: 504,
      expose: true,
      headers,
    });
  }
  if (failed.length && failed.every((a) => a.status === 429)) {
    // Every target is rate limited (upstream, or by a rateLimit placed after failover): a 429 the
    // client's SDK knows to back off from, not a 502.
    return new GatewayError('rate_limit_exceeded', `every target is rate limited (${failed.length} attempts: ${summary})`, { status: 429, expose: true, headers });
  }
  return new GatewayError('all_targets_failed', `all targets failed (${failed.length} attempts: ${summary})`, { status: 502, expose: true, headers });
}
