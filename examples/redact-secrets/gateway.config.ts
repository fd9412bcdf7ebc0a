// A streaming guardrail that redacts API-key-like strings from model output as it streams.
// Runs without keys: the mock model echoes the prompt, so a prompt with a key shows it off:
//   npx gateway --config examples/redact-secrets/gateway.config.ts
//   curl -sN localhost:8787/v1/chat/completions -H 'content-type: application/json' \
//     -d '{"model":"demo","stream":true,"messages":[{"role":"user","content":"my key is sk-test-0123456789abcdef ok"}]}'
import { defineConfig, mock } from 'switchyard';
import { DEFAULT_PATTERNS, redactSecrets } from './redact.ts';

export default defineConfig({
  providers: { echo: mock({ chunkDelayMs: 10 }) },
  models: { demo: 'echo/echo' },
  // First in the pipeline: the outermost layer sees the final output on its way out.
  pipeline: [redactSecrets({ patterns: [...DEFAULT_PATTERNS, /acme_live_[a-z0-9]{20,}/], replacement: '[REDACTED]' })],
});
