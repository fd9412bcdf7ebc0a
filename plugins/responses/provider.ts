/**
 * The `openaiResponses()` provider: an OpenAI Responses API upstream (`POST {baseURL}/responses`).
 * Responses clients pass through unchanged; other formats are converted through the IR.
 *
 * @module
 */
import { callHttp, upstreamBody } from '../../core/http-provider.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Provider, ProviderCall } from '../../core/plugin.ts';
import { adaptStreaming, type UpstreamOptions } from '../shared/stream-mode.ts';
import { estimatedCount } from '../shared/count-tokens.ts';
import { responsesCodec } from './codec.ts';

/** Options for {@link openaiResponses}. */
export interface OpenAIResponsesOptions extends UpstreamOptions {
  /** Base URL including the version path. @default 'https://api.openai.com/v1' */
  baseURL?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

/**
 * An OpenAI Responses upstream.
 *
 * @example
 * ```ts
 * providers: { resp: openaiResponses({ apiKey: process.env.OPENAI_API_KEY }) }
 * ```
 */
export function openaiResponses(opts: OpenAIResponsesOptions = {}): Provider {
  const baseURL = (opts.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const secrets = opts.apiKey ? [opts.apiKey] : [];
  const headers = { ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}), ...opts.headers };
  return {
    kind: 'openai-responses',
    format: 'responses',
    baseURL,
    timeoutMs: opts.timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    secrets,
    call(outer: ProviderCall) {
      return adaptStreaming(outer, opts.streaming, responsesCodec, async (call) => {
        const op = call.request.operation;
        if (op === 'count_tokens') return estimatedCount(call.request);
        if (op !== 'chat') {
          throw new GatewayError('unsupported_operation', `provider "${call.name}" (responses) does not support ${op}`, { status: 400 });
        }
        return callHttp(call, {
          url: `${baseURL}/responses`,
          headers,
          body: upstreamBody(call, responsesCodec, { setModel: true }),
          stream: call.request.stream,
          codec: responsesCodec,
          timeoutMs: opts.timeoutMs,
          secrets,
        });
      });
    },
  };
}
