// Cost-aware routing: for each request, the cheapest healthy target first, computed from the
// request's size and per-target prices (USD per million tokens) kept in `meta.price`; failover
// skips unhealthy targets (open circuit, Retry-After) and falls back to the next-cheapest.
// Runs without keys (mock targets). Set LOCAL_LLM_URL (e.g. http://127.0.0.1:11434/v1 for
// Ollama) to add a free local model that is preferred while it is healthy.
//   npx gateway --config examples/cost-aware/gateway.config.ts
import { defineConfig, failover, mock, openai, type TargetSpec } from 'switchyard';
import { costAware } from './cost-aware.ts';

export default defineConfig(({ env }) => {
  const local: TargetSpec[] = env.LOCAL_LLM_URL
    ? [{ provider: 'local', model: env.LOCAL_MODEL ?? 'llama3.2', meta: { price: { input: 0, output: 0 } } }]
    : [];
  return {
    providers: {
      flash: mock(),
      writer: mock(),
      premium: mock(),
      ...(env.LOCAL_LLM_URL ? { local: openai({ baseURL: env.LOCAL_LLM_URL, apiKey: 'none', timeoutMs: 60_000 }) } : {}),
    },
    models: {
      chat: [
        ...local,
        // cheap to read, dear to write
        { provider: 'flash', model: 'flash-1', meta: { price: { input: 0.1, output: 2.0 } } },
        // dear to read, cheap to write
        { provider: 'writer', model: 'writer-1', meta: { price: { input: 1.0, output: 0.4 } } },
        { provider: 'premium', model: 'premium-1', meta: { price: { input: 2.5, output: 10 } } },
      ],
    },
    // costAware orders once per request; failover, after it, tries them in that order and keeps
    // each target's health: two failures in a row open a target's circuit for 30 s.
    pipeline: [costAware({ defaultOutputTokens: 500 }), failover({ retries: 0, circuit: { failureThreshold: 2, cooldownMs: 30_000 } })],
  };
});
