/**
 * The `gemini()` provider: the Gemini Developer API (v1beta). The model goes in the URL; streams
 * always ask for `alt=sse`. Gemini clients pass through unchanged; other formats are converted.
 *
 * @module
 */
import { callHttp, irForUpstream, upstreamBody } from '../../core/http-provider.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Provider, ProviderCall } from '../../core/plugin.ts';
import { adaptStreaming, type UpstreamOptions } from '../shared/stream-mode.ts';
import { estimatedCount } from '../shared/count-tokens.ts';
import { geminiCodec } from './codec.ts';
import { inlineImageUrls, type InlineImageOptions } from './images.ts';

/** Options for {@link gemini}. */
export interface GeminiOptions extends UpstreamOptions {
  /** @default 'https://generativelanguage.googleapis.com' */
  baseURL?: string;
  /** Sent as `x-goog-api-key`. */
  apiKey?: string;
  /** API version path segment. @default 'v1beta' */
  apiVersion?: string;
  /**
   * Download http(s) image URLs of converted requests and send them inline (Gemini does not
   * fetch arbitrary URLs). `false` sends them as `fileData` instead. @default {}
   */
  inlineImages?: InlineImageOptions | false;
}

/**
 * A Google Gemini upstream.
 *
 * @example
 * ```ts
 * providers: { gem: gemini({ apiKey: process.env.GEMINI_API_KEY }) }
 * ```
 */
export function gemini(opts: GeminiOptions = {}): Provider {
  const base = (opts.baseURL ?? 'https://generativelanguage.googleapis.com').replace(/\/+$/, '');
  const version = opts.apiVersion ?? 'v1beta';
  const secrets = opts.apiKey ? [opts.apiKey] : [];
  const headers = { ...(opts.apiKey ? { 'x-goog-api-key': opts.apiKey } : {}), ...opts.headers };
  const url = (model: string, method: string) => `${base}/${version}/models/${model.replace(/^models\//, '')}:${method}`;
  return {
    kind: 'gemini',
    format: 'gemini',
    baseURL: base,
    timeoutMs: opts.timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    secrets,
    call(outer: ProviderCall) {
      return adaptStreaming(outer, opts.streaming, geminiCodec, async (call) => {
        const op = call.request.operation;
        if (op === 'count_tokens') {
          if (call.request.format !== 'gemini') return estimatedCount(call.request);
          return callHttp(call, {
            url: url(call.target.model, 'countTokens'),
            headers,
            body: call.request.body,
            stream: false,
            codec: geminiCodec,
            timeoutMs: opts.timeoutMs,
            secrets,
          });
        }
        if (op !== 'chat') {
          throw new GatewayError('unsupported_operation', `provider "${call.name}" (gemini) does not support ${op}`, { status: 400 });
        }
        const passthrough = call.request.format === 'gemini' && !call.request.rewritten;
        let body: Record<string, unknown>;
        if (passthrough || opts.inlineImages === false) body = upstreamBody(call, geminiCodec, { setModel: false });
        else body = geminiCodec.encodeRequest(await inlineImageUrls(call, irForUpstream(call), opts.inlineImages), { model: call.target.model });
        if ('model' in body) delete body.model; // the model lives in the URL
        return callHttp(call, {
          url: call.request.stream ? `${url(call.target.model, 'streamGenerateContent')}?alt=sse` : url(call.target.model, 'generateContent'),
          headers,
          body,
          stream: call.request.stream,
          codec: geminiCodec,
          timeoutMs: opts.timeoutMs,
          secrets,
        });
      });
    },
  };
}
