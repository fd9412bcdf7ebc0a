/**
 * A daily spending budget: each request's cost (its real usage × the serving target's
 * `meta.price`, USD per million tokens) is added up per budget period in the gateway store.
 * Past `softLimitUsd`, expensive logical models are downgraded (`downgrade: { premium: 'economy' }`);
 * past `hardLimitUsd`, requests get 429 with `Retry-After` until the period resets. The reset is
 * a cron pattern (croner), e.g. midnight in the team's timezone.
 *
 * The running total lives in the store's durable part: it survives reloads and restarts (the
 * embedded store journals it to a local file; Redis shares it between instances). Runs in the
 * `pre` tier: it may rewrite the model before `models` resolves it.
 */
import { Cron } from 'croner';
import { definePlugin, GatewayError, type Store } from 'switchyard';

/** Options for {@link dailyBudget}. */
export interface DailyBudgetOptions {
  /** Past this spend, `downgrade` applies. */
  softLimitUsd: number;
  /** Past this spend, requests are refused until the reset. @default Infinity */
  hardLimitUsd?: number;
  /** Logical model → the cheaper one used past the soft limit. @default {} */
  downgrade?: Record<string, string>;
  /** When the budget period starts again (cron). @default '0 0 * * *' (midnight) */
  resetCron?: string;
  /** IANA timezone of `resetCron`. @default the server's */
  timezone?: string;
}

const MICRO = 1e6; // spend is counted in micro-dollars: integer increments stay exact

/**
 * Tracks spend per period; downgrades, then refuses.
 *
 * @example
 * ```ts
 * dailyBudget({ softLimitUsd: 20, hardLimitUsd: 25, downgrade: { premium: 'economy' }, timezone: 'Europe/Berlin' })
 * ```
 */
export function dailyBudget(opts: DailyBudgetOptions) {
  const hard = opts.hardLimitUsd ?? Infinity;
  let store: Store;
  let reset: Cron;
  return definePlugin({
    name: 'daily-budget',
    enforce: 'pre',
    setup(runtime) {
      store = runtime.store.durable(); // money: must survive a restart, not only a reload
      reset = new Cron(opts.resetCron ?? '0 0 * * *', { timezone: opts.timezone, paused: true });
    },
    close() {
      reset.stop();
    },
    async middleware(ctx, next) {
      const now = new Date();
      const periodStart = reset.previousRuns(1, now)[0] ?? new Date(0);
      const nextReset = reset.nextRun(now) ?? new Date(now.getTime() + 86_400_000);
      const key = `spent:${periodStart.toISOString()}`;
      const spent = ((await store.get<number>(key)) ?? 0) / MICRO;
      ctx.set('x-budget-spent-usd', spent.toFixed(6));
      if (spent >= hard) {
        const retryAfter = Math.max(1, Math.ceil((nextReset.getTime() - now.getTime()) / 1000));
        throw new GatewayError('budget_exceeded', `the daily budget of $${hard} is spent; it resets at ${nextReset.toISOString()}`, {
          status: 429,
          headers: { 'retry-after': String(retryAfter) },
        });
      }
      const req = ctx.state.request;
      const cheaper = opts.downgrade?.[req.model];
      if (spent >= opts.softLimitUsd && cheaper) {
        ctx.set('x-budget', `downgraded ${req.model} -> ${cheaper}`); // header values are ASCII only
        req.model = cheaper;
      }
      // Charged once the response (stream included) has ended, from the real usage.
      ctx.state.onDone(async ({ usage }) => {
        const price = ctx.state.target?.meta?.price as { input: number; output: number } | undefined;
        if (!usage || !price) return;
        const micro = Math.round(usage.inputTokens * price.input + usage.outputTokens * price.output); // tokens × $/M = µ$
        const ttlMs = nextReset.getTime() - now.getTime() + 3_600_000; // the key outlives its period a little
        if (micro > 0) await store.incr(key, micro, { ttlMs });
      });
      await next();
    },
  });
}
