// The bench's gateway config: one OpenAI-compatible upstream (URL from BENCH_UPSTREAM), the
// default pipeline.
import { defineConfig, openai } from 'switchyard';

export default defineConfig(({ env }) => ({
  providers: { up: openai({ baseURL: `${env.BENCH_UPSTREAM}/v1`, apiKey: 'bench-key' }) },
  models: { 'bench-model': { provider: 'up', model: 'bench-model' } },
}));
