// Route by tenant header, with per-tenant model allow-lists and a preferred provider per tenant.
// Runs without keys (mock providers).
//   npx gateway --config examples/tenant-routing/gateway.config.ts
//   curl -s localhost:8787/v1/chat/completions -H 'x-tenant: acme' -H 'content-type: application/json' \
//     -d '{"model":"smart","messages":[{"role":"user","content":"hi"}]}' -D - | grep x-served-by
import { defineConfig, definePlugin, failover, mock } from 'switchyard';
import { tenantRouting } from './tenants.ts';

/** Tells the client which target answered (read on the way out, after `next()`). */
const servedBy = () =>
  definePlugin({
    name: 'served-by',
    async middleware(ctx, next) {
      await next();
      const t = ctx.state.target;
      if (t) ctx.set('x-served-by', `${t.provider}/${t.model}`);
      if (ctx.state.tenant) ctx.set('x-tenant', ctx.state.tenant); // typed by tenants.ts's declaration merging
    },
  });

export default defineConfig({
  providers: {
    shared: mock(),
    'acme-dedicated': mock(),
  },
  models: {
    fast: 'shared/fast-model',
    smart: [
      { provider: 'shared', model: 'smart-model', priority: 1 },
      { provider: 'acme-dedicated', model: 'smart-model-acme', priority: 2 },
    ],
  },
  // Order is meaning: servedBy is outermost (it reads the final target on the way out);
  // tenantRouting runs once per request; failover calls the rest once per attempt.
  pipeline: [
    servedBy(),
    tenantRouting({
      header: 'x-tenant',
      tenants: {
        acme: { models: ['fast', 'smart'], preferProvider: 'acme-dedicated' },
        globex: { models: ['fast'] },
        internal: { models: ['*'] },
      },
    }),
    // After the tenant's order is set: tries the next target when the preferred one fails.
    failover(),
  ],
});
