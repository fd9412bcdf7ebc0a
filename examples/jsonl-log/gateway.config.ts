// Request/response logging to a JSONL file (REQUEST_LOG, default ./requests.jsonl): one line per
// request with route, status, timings, usage, and the prompt and answer text. Runs without keys.
//   npx gateway --config examples/jsonl-log/gateway.config.ts
//   tail -f requests.jsonl
import { defineConfig, mock } from 'switchyard';
import { jsonlLog } from './jsonl-log.ts';

export default defineConfig(({ env }) => ({
  providers: { echo: mock() },
  models: { demo: 'echo/echo' },
  pipeline: [jsonlLog({ file: env.REQUEST_LOG ?? 'requests.jsonl', bodies: true, maxBodyChars: 2_000 })],
}));
