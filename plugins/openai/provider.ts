/**
 * The `openai()` provider: any OpenAI-compatible Chat Completions upstream (OpenAI, Azure-style
 * gateways, vLLM, Ollama, Groq ...). Chat requests from other formats are converted; completions
 * and embeddings are passthrough only.
 *
 * @module
 */
import { callHttp, passthroughBody, upstreamBody } from '../../core/http-provider.ts';
import { GatewayError } from '../../core/errors.ts';
import type { SSEMessage } from '../../core/codec.ts';
import type { GatewayResult, Provider, ProviderCall } from '../../core/plugin.ts';
import { adaptStreaming, type UpstreamOptions } from '../shared/stream-mode.ts';
import { JsonText, upstreamRequest, readBounded } from '../../core/upstream.ts';
import { openaiCodec } from './codec.ts';
import { estimatedCount } from '../shared/count-tokens.ts';

/** Options for {@link openai}. */
export interface OpenAIOptions extends UpstreamOptions {
  /** Base URL including the version path. @default 'https://api.openai.com/v1' */
  baseURL?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. Omit for keyless local servers. */
  apiKey?: string;
  /** Extra headers on every upstream request (e.g. `OpenAI-Organization`). */
  headers?: Record<string, string>;
}

const PATHS = { chat: '/chat/completions', completions: '/completions', embeddings: '/embeddings' } as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clientWantsUsage = (body: Record<string, unknown>) => isObj(body.stream_options) && body.stream_options.include_usage === true;
const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;

/** The trailing `include_usage` chunk: no choices, a usage object. */
function isUsageChunk(m: SSEMessage): boolean {
  if (!EMPTY_CHOICES.test(m.data)) return false; // cheap: every other chunk has choices
  try {
    const chunk: unknown = JSON.parse(m.data);
    return isObj(chunk) && isObj(chunk.usage);
  } catch {
    return false;
  }
}

/**
 * An OpenAI-compatible upstream.
 *
 * @example
 * ```ts
 * providers: { oa: openai({ baseURL: 'https://api.openai.com/v1', apiKey: process.env.OPENAI_API_KEY }) }
 * ```
 */
export function openai(opts: OpenAIOptions = {}): Provider {
  const baseURL = (opts.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  // The same for every request (upstreamRequest copies them): built once.
  const fixedHeaders: Record<string, string> = { ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}), ...opts.headers };
  const secrets = opts.apiKey ? [opts.apiKey] : [];
  // Not async: the usual call hands back callHttp's own promise (no frame and turn of its own).
  const send = (call: ProviderCall): Promise<GatewayResult> => {
    try {
      const op = call.request.operation;
      if (op === 'count_tokens') return Promise.resolve(estimatedCount(call.request));
      if (op !== 'chat' && call.request.format !== 'openai') {
        throw new GatewayError('unsupported_operation', `${op} requests must use the OpenAI format`, { status: 400 });
      }
      // Usage is what limits and accounting settle with: ask for it even when the client did
      // not, and keep that chunk from a client that did not ask.
      const hideUsage = op === 'chat' && call.request.stream && call.request.format === 'openai' && !clientWantsUsage(call.request.body);
      let body: Record<string, unknown> | JsonText;
      if (hideUsage) {
        const b = upstreamBody(call, openaiCodec, { setModel: true });
        body = { ...b, stream_options: { ...(isObj(b.stream_options) ? b.stream_options : {}), include_usage: true } };
      } else body = op === 'chat' ? passthroughBody(call, openaiCodec) : { ...call.request.body, model: call.target.model };
      const result = callHttp(call, {
        url: baseURL + PATHS[op],
        headers: fixedHeaders,
        body,
        stream: call.request.stream,
        codec: openaiCodec,
        timeoutMs: opts.timeoutMs,
        secrets,
      });
      return hideUsage ? result.then((r) => (r.type === 'sse' ? { ...r, hidden: isUsageChunk } : r)) : result;
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    kind: 'openai',
    format: 'openai',
    baseURL,
    timeoutMs: opts.timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    secrets: opts.apiKey ? [opts.apiKey] : [],
    call(outer: ProviderCall) {
      return adaptStreaming(outer, opts.streaming, openaiCodec, send);
    },
    async listModels(call) {
      const res = await upstreamRequest(
        { ...call, requestId: 'discovery' },
        { url: `${baseURL}/models`, method: 'GET', headers: fixedHeaders, timeoutMs: opts.timeoutMs ?? 10_000 },
      );
      const text = await readBounded(res.body, 8 << 20);
      if (res.status !== 200) throw new GatewayError('discovery_failed', `listing models of "${call.name}" failed (${res.status})`, { status: 502 });
      const data = (JSON.parse(text) as { data?: Array<{ id?: unknown }> }).data ?? [];
      return data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
    },
  };
}
