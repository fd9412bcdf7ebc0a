/**
 * The Anthropic Messages format: inbound `POST /v1/messages` (Claude Code calls it with
 * `?beta=true`) and `POST /v1/messages/count_tokens`, its codec, and the `anthropic()` provider.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import { definePlugin, type Plugin } from '../../core/plugin.ts';
import { anthropicCodec } from './codec.ts';

export { anthropic, type AnthropicOptions } from './provider.ts';
export { anthropicCodec } from './codec.ts';

function validate(body: Record<string, unknown>): void {
  if (!Array.isArray(body.messages)) throw invalidRequest('messages: Field required', 'messages');
}

/**
 * The Anthropic-format inbound endpoints. Included by default.
 *
 * @example
 * ```ts
 * // ANTHROPIC_BASE_URL=http://127.0.0.1:8787 claude
 * ```
 */
export function anthropicFormat(): Plugin {
  return definePlugin({
    name: 'format-anthropic',
    codec: anthropicCodec,
    routes: [
      { method: 'POST', path: '/v1/messages', inbound: { format: 'anthropic', operation: 'chat', validate } },
      {
        method: 'POST',
        path: '/v1/messages/count_tokens',
        inbound: { format: 'anthropic', operation: 'count_tokens', stream: () => false, validate },
      },
    ],
  });
}
