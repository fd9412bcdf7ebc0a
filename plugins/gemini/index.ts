/**
 * The Gemini format: inbound `POST /v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent` (SSE, as with `alt=sse`) and `:countTokens`, its codec, and the
 * `gemini()` provider.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import type { Operation } from '../../core/ir.ts';
import { definePlugin, type InboundSpec, type Plugin, type Route } from '../../core/plugin.ts';
import { geminiCodec } from './codec.ts';

export { gemini, type GeminiOptions } from './provider.ts';
export { geminiCodec } from './codec.ts';

const METHODS: Record<string, { operation: Operation; stream: boolean }> = {
  generateContent: { operation: 'chat', stream: false },
  streamGenerateContent: { operation: 'chat', stream: true },
  countTokens: { operation: 'count_tokens', stream: false },
};

/** Splits `gemini-2.5-flash:generateContent` (the model may itself contain `/` or `:`). */
function split(rest: string | undefined): { model: string; method: string } | undefined {
  const i = rest?.lastIndexOf(':') ?? -1;
  if (!rest || i <= 0) return undefined;
  return { model: decodeURIComponent(rest.slice(0, i)).replace(/^models\//, ''), method: rest.slice(i + 1) };
}

const spec: InboundSpec = {
  format: 'gemini',
  operation: (ctx) => METHODS[split(ctx.params.rest)?.method ?? '']?.operation,
  model: (ctx) => split(ctx.params.rest)?.model,
  stream: (ctx) => METHODS[split(ctx.params.rest)?.method ?? '']?.stream ?? false,
  validate(body) {
    // countTokens may wrap the request: { generateContentRequest: { model, contents, ... } }
    const inner = body.generateContentRequest;
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      Object.assign(body, inner);
      delete body.generateContentRequest;
      delete body.model;
    }
    if (!Array.isArray(body.contents)) throw invalidRequest('* GenerateContentRequest.contents: contents is not specified', 'contents');
  },
};

/**
 * The Gemini-format inbound endpoints (v1beta and v1 paths). Included by default.
 *
 * @example
 * ```ts
 * // GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8787 gemini
 * ```
 */
export function geminiFormat(): Plugin {
  const routes: Route[] = ['/v1beta/models/*rest', '/v1/models/*rest'].map((path) => ({
    method: 'POST',
    path,
    inbound: spec,
  }));
  return definePlugin({ name: 'format-gemini', codec: geminiCodec, routes });
}
