// The default Switchyard config: runs with no API keys, on the built-in mock provider.
// Edit and save while the gateway runs — it reloads without dropping requests.
import { defineConfig, mock, openai } from 'switchyard';

export default defineConfig(({ env }) => ({
  // Where to listen. `gateway --host/--port` override these.
  server: { host: '127.0.0.1', port: 8787 },

  // Upstreams by name. Each comes from a factory: openai(), anthropic(), gemini(),
  // openaiResponses(), mock(). Keys come from the environment, never from the file.
  providers: {
    echo: mock({ chunkDelayMs: 15 }),
    // Only configured when a key is present, so the default runs anywhere.
    ...(env.OPENAI_API_KEY ? { oa: openai({ baseURL: 'https://api.openai.com/v1', apiKey: env.OPENAI_API_KEY }) } : {}),
  },

  // Logical model names clients ask for → one target, or a list tried by priority then weight.
  // A client may also name `provider/model` directly (e.g. "echo/anything").
  models: {
    demo: { provider: 'echo', model: 'echo' },
    'gpt-4o-mini': env.OPENAI_API_KEY ? { provider: 'oa', model: 'gpt-4o-mini' } : { provider: 'echo', model: 'echo' },
  },

  // The ordered plugin pipeline (omitted here: the default). Order is meaning, e.g.
  // pipeline: [auth({ keys: [env.GATEWAY_KEY] }), rateLimit({ ... }), sticky(), failover()],
}));
