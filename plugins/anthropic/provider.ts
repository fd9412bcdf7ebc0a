/**
 * The `anthropic()` provider: the Anthropic Messages API (or any compatible endpoint). Requests in
 * other formats are converted through the IR; Anthropic clients pass through unchanged, with their
 * `anthropic-beta` header forwarded so beta features keep working.
 *
 * @module
 */
import { callHttp, passthroughBody } from '../../core/http-provider.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Provider, ProviderCall } from '../../core/plugin.ts';
import { adaptStreaming, type UpstreamOptions } from '../shared/stream-mode.ts';
import { estimatedCount } from '../shared/count-tokens.ts';
import { anthropicCodec } from './codec.ts';

/** Options for {@link anthropic}. */
export interface AnthropicOptions extends UpstreamOptions {
  /** @default 'https://api.anthropic.com' */
  baseURL?: string;
  /** Sent as `x-api-key`. */
  apiKey?: string;
  /** `anthropic-version` header. @default '2023-06-01' */
  version?: string;
}

/**
 * An Anthropic Messages upstream.
 *
 * @example
 * ```ts
 * providers: { claude: anthropic({ apiKey: process.env.ANTHROPIC_API_KEY }) }
 * ```
 */
export function anthropic(opts: AnthropicOptions = {}): Provider {
  const base = (opts.baseURL ?? 'https://api.anthropic.com').replace(/\/+$/, '').replace(/\/v1$/, '');
  const secrets = opts.apiKey ? [opts.apiKey] : [];
  const headers = (call: ProviderCall): Record<string, string> => {
    const beta = call.request.format === 'anthropic' ? call.request.headers['anthropic-beta'] : undefined;
    return {
      'anthropic-version': opts.version ?? '2023-06-01',
      ...(opts.apiKey ? { 'x-api-key': opts.apiKey } : {}),
      ...(typeof beta === 'string' && beta ? { 'anthropic-beta': beta } : {}),
      ...opts.headers,
    };
  };
  return {
    kind: 'anthropic',
    format: 'anthropic',
    baseURL: base,
    timeoutMs: opts.timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    secrets,
    call(outer: ProviderCall) {
      return adaptStreaming(outer, opts.streaming, anthropicCodec, async (call) => {
        const op = call.request.operation;
        if (op === 'count_tokens') {
          if (call.request.format !== 'anthropic') return estimatedCount(call.request);
          const result = await callHttp(call, {
            url: `${base}/v1/messages/count_tokens`,
            headers: headers(call),
            body: { ...call.request.body, model: call.target.model },
            stream: false,
            codec: anthropicCodec,
            timeoutMs: opts.timeoutMs,
            secrets,
          });
          return result;
        }
        if (op !== 'chat') {
          throw new GatewayError('unsupported_operation', `provider "${call.name}" (anthropic) does not support ${op}`, { status: 400 });
        }
        return callHttp(call, {
          url: `${base}/v1/messages`,
          headers: headers(call),
          body: passthroughBody(call, anthropicCodec),
          stream: call.request.stream,
          codec: anthropicCodec,
          timeoutMs: opts.timeoutMs,
          secrets,
        });
      });
    },
  };
}
