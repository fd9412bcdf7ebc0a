/**
 * Target health for `failover`: a circuit breaker per target (consecutive failures open it for a
 * cool-down; then half-open lets one probe through; a success closes it) and Retry-After
 * cool-downs. All state lives in the gateway's shared store under `health:*`, keyed by
 * `provider/model`, so it survives reloads and is shared by every instance on a shared store.
 *
 * @module
 */
import type { Store } from '../../core/store.ts';
import type { Target } from '../../core/plugin.ts';
import { targetId } from '../models/routing.ts';

/** Circuit breaker options (`failover({ circuit })`). */
export interface CircuitOptions {
  /** Consecutive failures (5xx, timeouts, connection errors) that open the circuit. @default 5 */
  failureThreshold?: number;
  /** How long an open circuit stays open before one probe is let through. @default 30_000 */
  cooldownMs?: number;
  /** Failures further apart than this do not add up (the count restarts). @default 60_000 */
  windowMs?: number;
}

/** A circuit's state. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What the routing API shows for a target. */
export interface TargetHealth {
  circuit: CircuitState;
  /** Consecutive failures counted so far. */
  failures: number;
  /** Epoch ms when an open circuit turns half-open. */
  openUntil?: number;
  /** Epoch ms until which the upstream asked not to be called (Retry-After). */
  unavailableUntil?: number;
}

/** Whether a target may be tried now, and why. */
export type Admission =
  | { ok: true; probe: boolean; reason: string; /** Failures counted when admitted: a success then has something to clear. */ failing: boolean }
  | { ok: false; until: number; reason: string; cause: 'retry-after' | 'circuit' };

interface OpenRecord {
  until: number;
  failures: number;
}

const DAY = 86_400_000;

type Kind = 'retry' | 'open' | 'fail' | 'probe';
/** A target's store keys, `health:<kind>:<provider>/<model>`, and the three admission reads. */
type TargetKeys = Record<Kind, string> & { provider: string; model: string; admission: string[] };

function targetKeys(t: Target): TargetKeys {
  const id = targetId(t);
  const ks = { provider: t.provider, model: t.model, retry: `health:retry:${id}`, open: `health:open:${id}`, fail: `health:fail:${id}`, probe: `health:probe:${id}` };
  return { ...ks, admission: [ks.retry, ks.open, ks.fail] };
}
const iso = (ms: number) => new Date(ms).toISOString();

/** The health operations of one pipeline version (state in `store`). */
export interface Health {
  read(t: Target): Promise<TargetHealth>;
  /**
   * Decides whether `t` is tried; claims the half-open probe unless `dryRun`. Answers at once
   * (no promise) when the store is in this process and no probe is claimed.
   */
  admit(t: Target, dryRun: boolean): Admission | Promise<Admission>;
  /** Records a failure that counts (returns true when the circuit is open afterwards). */
  failure(t: Target, probe: boolean): Promise<boolean>;
  /**
   * Records a success: closes a probed circuit, clears counted failures. `failing` is what the
   * admission saw; failures counted since in this process are known too. Nothing to clear → no
   * store call and `undefined`, so the common healthy path costs no round trip.
   */
  success(t: Target, probe: boolean, failing: boolean): Promise<void> | undefined;
  /** Gives back a probe claim that was not used. */
  release(t: Target): Promise<void>;
  /** Marks `t` unusable until `until` (Retry-After). */
  unavailable(t: Target, until: number): Promise<void>;
}

/**
 * Builds the health operations over the shared store (`runtime.sharedStore`; keys `health:*`).
 * `circuit: false` keeps only the Retry-After cool-downs; `onState` hears every transition.
 *
 * @example
 * ```ts
 * const health = createHealth(runtime.sharedStore, { failureThreshold: 3 });
 * if ((await health.admit(target, false)).ok) { ... }
 * ```
 */
export function createHealth(store: Store, circuit: CircuitOptions | false, onState: (t: Target, s: CircuitState) => void = () => {}): Health {
  const threshold = circuit ? (circuit.failureThreshold ?? 5) : Infinity;
  const cooldownMs = circuit ? (circuit.cooldownMs ?? 30_000) : 0;
  const windowMs = circuit ? (circuit.windowMs ?? 60_000) : 0;
  // Each target's keys are built once (a request used to build and hash three new strings).
  const keyed = new WeakMap<Target, TargetKeys>();
  const keysOf = (t: Target): TargetKeys => {
    let ks = keyed.get(t);
    if (ks === undefined || ks.provider !== t.provider || ks.model !== t.model) keyed.set(t, (ks = targetKeys(t)));
    return ks;
  };
  const k = (kind: Kind, t: Target) => keysOf(t)[kind];
  // Targets this process counted a failure for since their last clear: a success then clears
  // even when its admission saw none (other instances' failures are seen at admission).
  const failingHere = new Set<string>();
  const open = async (t: Target, failures: number) => {
    await store.set(k('open', t), { until: Date.now() + cooldownMs, failures } satisfies OpenRecord, { ttlMs: DAY });
    onState(t, 'open');
  };
  const clear = async (t: Target) => {
    failingHere.delete(targetId(t));
    await Promise.all([store.delete(k('fail', t)), store.delete(k('open', t)), store.delete(k('probe', t))]);
    onState(t, 'closed');
  };

  type Reads = [number, OpenRecord, number];
  const decide = (t: Target, dryRun: boolean, [ra, rec, fails]: Partial<Reads>, now: number): Admission | Promise<Admission> => {
    if (ra && ra > now) return { ok: false, until: ra, cause: 'retry-after', reason: `the upstream asked to wait (Retry-After) until ${iso(ra)}` };
    if (!circuit) return { ok: true, probe: false, failing: false, reason: 'healthy' };
    const failing = !!fails;
    if (!rec) return { ok: true, probe: false, failing, reason: failing ? `healthy (circuit closed, ${fails} recent failures)` : 'healthy (circuit closed)' };
    if (now < rec.until) {
      return { ok: false, until: rec.until, cause: 'circuit', reason: `circuit open until ${iso(rec.until)} after ${rec.failures} consecutive failures` };
    }
    if (dryRun) return { ok: true, probe: true, failing, reason: 'circuit half-open: this request would be the probe' };
    // One probe at a time: the first to bump the counter wins; the claim expires with the cool-down.
    return store.incr(k('probe', t), 1, { ttlMs: cooldownMs }).then((n): Admission => {
      if (n !== 1) return { ok: false, until: now + cooldownMs, cause: 'circuit', reason: 'circuit half-open and its probe is already in flight' };
      onState(t, 'half-open');
      return { ok: true, probe: true, failing, reason: 'circuit half-open: probing' };
    });
  };

  return {
    async read(t) {
      const [failures, rec, ra] = await Promise.all([
        store.get<number>(k('fail', t)),
        store.get<OpenRecord>(k('open', t)),
        store.get<number>(k('retry', t)),
      ]);
      const now = Date.now();
      const state: CircuitState = !rec ? 'closed' : now < rec.until ? 'open' : 'half-open';
      return {
        circuit: state,
        failures: failures ?? rec?.failures ?? 0,
        ...(rec ? { openUntil: rec.until } : {}),
        ...(ra && ra > now ? { unavailableUntil: ra } : {}),
      };
    },
    admit(t, dryRun) {
      const now = Date.now();
      // All reads in one store round trip (one MGET on Redis) on every request's path — and no
      // promise at all when the store is in this process.
      const keys = circuit ? keysOf(t).admission : [k('retry', t)];
      if (store.peekMany) return decide(t, dryRun, store.peekMany<Reads>(keys), now);
      return store.getMany<Reads>(keys).then((reads) => decide(t, dryRun, reads, now));
    },
    async failure(t, probe) {
      if (!circuit) return false;
      failingHere.add(targetId(t));
      const n = await store.incr(k('fail', t), 1, { ttlMs: windowMs });
      if (probe || n >= threshold) {
        await open(t, n);
        await store.delete(k('probe', t));
        return true;
      }
      return false;
    },
    success(t, probe, failing) {
      if (!circuit || !(probe || failing || (failingHere.size > 0 && failingHere.has(targetId(t))))) return undefined;
      return clear(t);
    },
    async release(t) {
      await store.delete(k('probe', t));
    },
    async unavailable(t, until) {
      const ttlMs = until - Date.now();
      if (ttlMs > 0) await store.set(k('retry', t), until, { ttlMs });
    },
  };
}

/**
 * Reads a `Retry-After` value (seconds or an HTTP date) as an epoch ms, capped at `maxMs` ahead.
 *
 * @example
 * ```ts
 * retryAfterUntil('3', 60_000); // Date.now() + 3000
 * ```
 */
export function retryAfterUntil(value: string | undefined, maxMs: number, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  const at = Number.isFinite(secs) && value.trim() !== '' ? now + secs * 1000 : Date.parse(value);
  if (!Number.isFinite(at) || at <= now) return undefined;
  return Math.min(at, now + maxMs);
}
