/**
 * The OpenAI Chat Completions format: inbound routes (`/v1/chat/completions`, `/v1/completions`,
 * `/v1/embeddings`), its codec, and the `openai()` provider.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import { definePlugin, type Plugin } from '../../core/plugin.ts';
import { openaiCodec } from './codec.ts';
import { signaturesMiddleware, type StashDeps } from './signatures.ts';

export { openai, type OpenAIOptions } from './provider.ts';
export { openaiCodec } from './codec.ts';

function requireField(body: Record<string, unknown>, field: string, ok: (v: unknown) => boolean, what: string): void {
  if (body[field] === undefined) throw invalidRequest(`"${field}" is required`, field);
  if (!ok(body[field])) throw invalidRequest(`"${field}" must be ${what}`, field);
}

/** Options for {@link openaiFormat}. */
export interface OpenAIFormatOptions {
  /**
   * How long the thinking signatures of an answer to a Chat client stay in the store, to be
   * restored when the client sends its tool calls back (see `signatures.ts`). @default 3_600_000 (1 h)
   */
  signatureTtlMs?: number;
}

/**
 * The OpenAI-format inbound endpoints. Included by default; listed here for custom pipelines.
 * Its middleware keeps thinking signatures for Chat clients served by other formats; it runs once
 * per attempt when placed after `failover` (as the built-in one is).
 *
 * @example
 * ```ts
 * pipeline: [failover(), openaiFormat({ signatureTtlMs: 600_000 })]
 * ```
 */
export function openaiFormat(opts: OpenAIFormatOptions = {}): Plugin {
  let deps: StashDeps;
  return definePlugin({
    name: 'format-openai',
    codec: openaiCodec,
    setup(runtime) {
      const providers = runtime.config.providers;
      deps = { store: runtime.store, formatOf: (name) => providers[name]?.format };
    },
    middleware: signaturesMiddleware(() => deps, opts.signatureTtlMs ?? 3_600_000),
    routes: [
      {
        method: 'POST',
        path: '/v1/chat/completions',
        inbound: {
          format: 'openai',
          operation: 'chat',
          validate: (b) => requireField(b, 'messages', (v) => Array.isArray(v) && v.length > 0, 'a non-empty array'),
        },
      },
      {
        method: 'POST',
        path: '/v1/completions',
        inbound: {
          format: 'openai',
          operation: 'completions',
          validate: (b) => requireField(b, 'prompt', (v) => typeof v === 'string' || Array.isArray(v), 'a string or an array'),
        },
      },
      {
        method: 'POST',
        path: '/v1/embeddings',
        inbound: {
          format: 'openai',
          operation: 'embeddings',
          stream: () => false,
          validate: (b) => requireField(b, 'input', (v) => typeof v === 'string' || Array.isArray(v), 'a string or an array'),
        },
      },
    ],
  });
}
