/**
 * Request deadlines for `failover`'s attempts. A deadline far ahead (the default is five
 * minutes) waits in a set that one coarse timer looks at once a second, and gets a timer of its
 * own only when it comes near: per attempt that is a set insert and delete instead of a Node
 * timer made and cleared (a `Timeout` object, a call into libuv for the loop time, a list
 * insert and removal — measured: about 2% of the gateway's CPU per request). The coarse timer is
 * unref'd and stops when no far deadline is left, so nothing needs closing.
 *
 * The far deadlines are kept in a swap-remove array (`ActiveRequests`), not a `Set`: a `Set`
 * that gains and loses one entry per request retires its hash table every few dozen requests,
 * and a retired table that a scavenge had promoted keeps its entries, and every later table,
 * alive until a full collection (see `core/active.ts`).
 *
 * @module
 */

import { ActiveRequests } from '../../core/active.ts';

/** How close a deadline must be to get a timer of its own (ms). */
const NEAR = 5_000;
/** How often the far deadlines are looked at (ms). */
const SWEEP = 1_000;

/** What a deadline aborts: an attempt's abort source. */
export interface Abortable {
  abort(reason?: unknown): void;
}

/**
 * The reason a deadline aborts with (`reason instanceof DeadlineReached` tells it from a client
 * that went away).
 */
export class DeadlineReached extends Error {
  constructor() {
    super('request deadline');
    this.name = 'DeadlineReached';
  }
}

/** An armed deadline; pass it to {@link Deadlines.clear}. */
export interface Armed {
  readonly at: number;
  readonly target: Abortable;
  timer: NodeJS.Timeout | undefined;
}

/** A shared timer callback (no closure per deadline). */
function fire(a: Armed): void {
  a.target.abort(new DeadlineReached());
}

/**
 * The deadlines of one plugin instance.
 *
 * @example
 * ```ts
 * const deadlines = new Deadlines();
 * const armed = deadlines.arm(Date.now() + 300_000, attempt); // attempt.abort(new DeadlineReached()) then
 * deadlines.clear(armed); // the attempt finished first
 * ```
 */
export class Deadlines {
  #far = new ActiveRequests<Armed>();
  #sweeper: NodeJS.Timeout | undefined;

  /** Aborts `target` with a {@link DeadlineReached} at `at` (epoch ms), never early, unless cleared first. */
  arm(at: number, target: Abortable): Armed {
    const armed: Armed = { at, target, timer: undefined };
    const left = at - Date.now();
    if (left <= NEAR) {
      armed.timer = setTimeout(fire, Math.max(0, left), armed);
      return armed;
    }
    this.#far.add(armed);
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP).unref();
    return armed;
  }

  /** Disarms `armed` (a no-op once it fired). */
  clear(armed: Armed): void {
    if (armed.timer) clearTimeout(armed.timer);
    else this.#far.delete(armed);
  }

  #sweep(): void {
    const now = Date.now();
    const near: Armed[] = [];
    for (const a of this.#far) if (a.at - now <= NEAR) near.push(a);
    for (const a of near) {
      this.#far.delete(a);
      a.timer = setTimeout(fire, Math.max(0, a.at - now), a);
    }
    if (!this.#far.size) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
