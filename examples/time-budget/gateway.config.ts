// Time-of-day and budget routing: clients ask for "auto", which is the premium model in office
// hours (Berlin time) and the economy model otherwise; past a daily spend the premium model is
// downgraded, and past a hard limit requests get 429 until midnight. Runs without keys (mock).
//   npx gateway --config examples/time-budget/gateway.config.ts
import { defineConfig, mock } from 'switchyard';
import { dailyBudget } from './budget.ts';
import { timeOfDay } from './time-of-day.ts';

export default defineConfig(({ env }) => ({
  // The spend is kept in the store's durable part: by default a SQLite file in .data/ beside
  // this config, so a restart does not reset the budget.
  store: { type: 'memory', path: env.STORE_PATH },
  providers: { echo: mock() },
  models: {
    premium: { provider: 'echo', model: 'premium-model', meta: { price: { input: 3, output: 15 } } },
    economy: { provider: 'echo', model: 'economy-model', meta: { price: { input: 0.1, output: 0.4 } } },
  },
  // Order within the `pre` tier is array order: the time rule picks a model, then the budget
  // may downgrade it, then `models` resolves it.
  pipeline: [
    timeOfDay({ rules: [{ when: '* 9-17 * * 1-5', model: 'premium' }], otherwise: 'economy', timezone: 'Europe/Berlin' }),
    dailyBudget({
      softLimitUsd: Number(env.BUDGET_SOFT_USD ?? 20),
      hardLimitUsd: Number(env.BUDGET_HARD_USD ?? 25),
      downgrade: { premium: 'economy' },
      resetCron: '0 0 * * *',
      timezone: 'Europe/Berlin',
    }),
  ],
}));
