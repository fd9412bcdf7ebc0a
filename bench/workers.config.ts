// The workers bench's config: the bench upstream (URL from BENCH_UPSTREAM) and the built-in mock
// provider, per-worker state allowed (the embedded store, no journal file shared by workers).
import { defineConfig, mock, openai } from 'switchyard';

export default defineConfig(({ env }) => ({
  server: { allowPerWorkerState: true },
  store: { type: 'memory', path: false },
  providers: { up: openai({ baseURL: `${env.BENCH_UPSTREAM}/v1`, apiKey: 'bench-key' }), echo: mock() },
  models: { 'bench-model': { provider: 'up', model: 'bench-model' }, 'bench-mock': { provider: 'echo', model: 'echo' } },
}));
