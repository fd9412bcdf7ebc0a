/**
 * The OpenAI Chat Completions format: inbound routes (`/v1/chat/completions`, `/v1/completions`,
 * `/v1/embeddings`), its codec, and the `openai()` provider.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import { definePlugin, type Plugin } from '../../core/plugin.ts';
import { openaiCodec } from './codec.ts';

export { openai, type OpenAIOptions } from './provider.ts';
export { openaiCodec } from './codec.ts';

function requireField(body: Record<string, unknown>, field: string, ok: (v: unknown) => boolean, what: string): void {
  if (body[field] === undefined) throw invalidRequest(`"${field}" is required`, field);
  if (!ok(body[field])) throw invalidRequest(`"${field}" must be ${what}`, field);
}

/**
 * The OpenAI-format inbound endpoints. Included by default; listed here for custom pipelines.
 *
 * @example
 * ```ts
 * pipeline: [openaiFormat(), failover()]
 * ```
 */
export function openaiFormat(): Plugin {
  return definePlugin({
    name: 'format-openai',
    codec: openaiCodec,
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
