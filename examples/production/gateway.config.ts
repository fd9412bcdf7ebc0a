// A multi-provider production config: OpenAI, Anthropic, Gemini and an OpenAI Responses upstream
// behind one endpoint, with gateway keys, per-key limits and quotas, per-target limits,
// session stickiness, failover with circuit breakers, and usage accounting.
//
// Every secret comes from the environment; the config refuses to load without GATEWAY_KEY.
//   GATEWAY_KEY          key for the app (required)       BATCH_KEY   optional, a limited key
//   ADMIN_KEY            key for /admin/* (without it admin routes stay loopback-only)
//   OPENAI_API_KEY  ANTHROPIC_API_KEY  GEMINI_API_KEY      upstream keys
//   *_BASE_URL           upstream overrides (proxies, Azure-style gateways, tests)
//   REDIS_URL            share limits, sessions and health between instances (else a local store)
//
//   GATEWAY_KEY=... OPENAI_API_KEY=... npx gateway --config examples/production/gateway.config.ts
import { anthropic, auth, defineConfig, failover, gemini, openai, openaiResponses, rateLimit, sticky, usage } from 'switchyard';

export default defineConfig(({ env }) => ({
  server: { host: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 8787), shutdownGraceMs: 30_000 },
  store: env.REDIS_URL ? { type: 'redis', url: env.REDIS_URL, failurePolicy: 'fail-open' } : { type: 'memory', path: env.STORE_PATH },

  providers: {
    openai: openai({ baseURL: env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1', apiKey: env.OPENAI_API_KEY, timeoutMs: 60_000 }),
    anthropic: anthropic({ baseURL: env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com', apiKey: env.ANTHROPIC_API_KEY, timeoutMs: 60_000 }),
    gemini: gemini({ baseURL: env.GEMINI_BASE_URL ?? 'https://generativelanguage.googleapis.com', apiKey: env.GEMINI_API_KEY, timeoutMs: 60_000 }),
    responses: openaiResponses({ baseURL: env.OPENAI_RESPONSES_BASE_URL ?? env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1', apiKey: env.OPENAI_API_KEY }),
  },

  models: {
    // Spread 3:1 over two cheap models; Claude only when both fail or their circuits are open.
    fast: [
      { provider: 'openai', model: 'gpt-4o-mini', priority: 1, weight: 3 },
      { provider: 'gemini', model: 'gemini-2.5-flash', priority: 1, weight: 1 },
      { provider: 'anthropic', model: 'claude-haiku-4-5', priority: 2 },
    ],
    smart: [
      { provider: 'anthropic', model: 'claude-sonnet-4-5', priority: 1, retries: 1 },
      { provider: 'responses', model: 'gpt-5', priority: 2 },
      { provider: 'gemini', model: 'gemini-2.5-pro', priority: 3 },
    ],
    reasoning: { provider: 'responses', model: 'o4-mini', timeoutMs: 180_000 },
  },

  // Order is meaning. auth runs first (it is a `pre` plugin); usage records every request once it
  // has ended; the first rateLimit enforces per-key limits once per request; sticky puts a
  // session's previous target first; failover tries the candidates, calling what follows it once
  // per attempt — so the per-target limit after it makes failover move on instead of failing.
  pipeline: [
    auth({
      keys: [
        { name: 'app', key: env.GATEWAY_KEY, limits: [{ requests: Number(env.APP_RPM ?? 600), per: '1m' }, { tokens: 2_000_000, per: '1m' }] },
        env.BATCH_KEY && {
          name: 'batch',
          key: env.BATCH_KEY,
          models: ['fast'],
          limits: [{ requests: Number(env.BATCH_RPM ?? 60), per: '1m' }],
          quota: { tokens: 5_000_000, reset: '0 0 1 * *' }, // monthly
        },
      ].filter((k) => !!k),
      adminKeys: env.ADMIN_KEY ? [env.ADMIN_KEY] : [], // none: admin routes answer loopback only
    }),
    usage(),
    rateLimit({ rules: [{ by: 'model', tokens: 20_000_000, reset: '0 0 * * *' }] }),
    sticky({ session: { header: 'x-session-id' }, ttlMs: 3_600_000 }),
    failover({ retries: 1, deadlineMs: 120_000, circuit: { failureThreshold: 5, cooldownMs: 30_000 } }),
    rateLimit({ name: 'target-limits', rules: [{ by: 'target', requests: Number(env.TARGET_RPM ?? 3_000), per: '1m', window: 'sliding' }] }),
  ],
}));
