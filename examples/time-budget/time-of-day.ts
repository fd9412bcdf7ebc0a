/**
 * Time-of-day routing: a logical model (`auto`) that means different models at different times,
 * described with cron patterns (croner) in a timezone — e.g. the premium model during office
 * hours, an economy model at night and at weekends. Runs in the `pre` tier, before `models`.
 */
import { Cron } from 'croner';
import { definePlugin } from 'switchyard';

/** One rule: while `when` matches the current minute, `auto` means `model`. */
export interface TimeRule {
  /** A 5-field cron pattern matched against the current minute, e.g. `* 9-17 * * 1-5`. */
  when: string;
  model: string;
}

/** Options for {@link timeOfDay}. */
export interface TimeOfDayOptions {
  /** The logical model clients ask for. @default 'auto' */
  model?: string;
  /** First matching rule wins. */
  rules: TimeRule[];
  /** The model when no rule matches. */
  otherwise: string;
  /** IANA timezone the patterns are read in. @default the server's */
  timezone?: string;
}

/**
 * Picks the model for the current time, and says which in `x-route`.
 *
 * @example
 * ```ts
 * timeOfDay({ rules: [{ when: '* 9-17 * * 1-5', model: 'premium' }], otherwise: 'economy', timezone: 'Europe/Berlin' })
 * ```
 */
export function timeOfDay(opts: TimeOfDayOptions) {
  const asked = opts.model ?? 'auto';
  let rules: Array<{ cron: Cron; model: string }> = [];
  return definePlugin({
    name: 'time-of-day',
    enforce: 'pre',
    setup() {
      // Parsed once per load; a bad pattern fails the load (the running config stays).
      rules = opts.rules.map((r) => ({ cron: new Cron(r.when, { timezone: opts.timezone, paused: true }), model: r.model }));
    },
    close() {
      for (const r of rules) r.cron.stop();
    },
    async middleware(ctx, next) {
      const req = ctx.state.request;
      if (req.model === asked) {
        const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000); // patterns match whole minutes
        req.model = rules.find((r) => r.cron.match(minute))?.model ?? opts.otherwise;
        ctx.set('x-route', req.model);
      }
      await next();
    },
  });
}
