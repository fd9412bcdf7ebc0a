// Route by prompt size: clients ask for "auto"; short prompts go to a cheap model, long ones to
// a long-context model. Runs without keys (mock targets); set OPENAI_API_KEY to use OpenAI.
//   npx gateway --config examples/prompt-size/gateway.config.ts
import { defineConfig, mock, openai } from 'switchyard';
import { routeBySize } from './route-by-size.ts';

export default defineConfig(({ env }) => ({
  providers: {
    echo: mock(),
    ...(env.OPENAI_API_KEY ? { oa: openai({ apiKey: env.OPENAI_API_KEY }) } : {}),
  },
  models: {
    small: env.OPENAI_API_KEY ? 'oa/gpt-4o-mini' : 'echo/small-model',
    long: env.OPENAI_API_KEY ? 'oa/gpt-4.1' : 'echo/long-context-model',
  },
  pipeline: [routeBySize({ model: 'auto', maxSmallTokens: 1_000, small: 'small', large: 'long' })],
}));
