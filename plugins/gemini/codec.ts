/**
 * The Gemini (v1beta `generateContent` / `streamGenerateContent?alt=sse`) codec, plus the pure
 * helpers behind `:countTokens`.
 *
 * @module
 */
import type { Codec, DecodeOptions } from '../../core/codec.ts';
import type { IRRequest } from '../../core/ir.ts';
import { isObj, type Json, str } from './content.ts';
import { decodeError, renderError, renderStreamError } from './error.ts';
import { decodeRequest, encodeRequest } from './request.ts';
import { decodeResponse, encodeResponse, responseUsage } from './response.ts';
import { createStreamDecoder, createStreamEncoder } from './stream.ts';

/** Google Gemini, both as the client's format and as an upstream's. */
export const geminiCodec: Codec = {
  format: 'gemini',
  decodeRequest,
  encodeResponse,
  createStreamEncoder,
  renderError,
  renderStreamError,
  encodeRequest,
  decodeResponse,
  responseUsage,
  createStreamDecoder,
  decodeError,
};

/**
 * Decodes a `:countTokens` body: either `{contents, ...}` or `{generateContentRequest: {model, contents, ...}}`.
 */
export function decodeCountTokensRequest(body: Json, opts: DecodeOptions = {}): IRRequest {
  const inner = isObj(body) && isObj(body.generateContentRequest) ? body.generateContentRequest : body;
  const model = opts.model ?? str(inner.model)?.replace(/^models\//, '');
  return decodeRequest(inner, { model, stream: false });
}

/** Gemini bills an image at 258 tokens (up to 384 px per side); used for every media part. */
const MEDIA_TOKENS = 258;

/**
 * A rough, provider-independent token estimate for `:countTokens` when the upstream cannot count:
 * about four characters per token over all text, arguments, results and tool schemas, plus a flat
 * 258 per image or document.
 */
export function countTokensEstimate(req: IRRequest): number {
  let chars = 0;
  let media = 0;
  const text = (s: string): void => {
    chars += s.length;
  };
  req.system.forEach((t) => text(t.text));
  for (const m of req.messages) {
    for (const p of m.content) {
      if (p.type === 'text' || p.type === 'reasoning' || p.type === 'refusal') text(p.text);
      else if (p.type === 'tool_call') text(p.name + p.arguments);
      else if (p.type === 'image' || p.type === 'document') media++;
      else if (p.type === 'tool_result') {
        if (typeof p.content === 'string') text(p.content);
        else for (const c of p.content) if (c.type === 'text') text(c.text);
        else media++;
      }
    }
  }
  for (const t of req.tools ?? []) text(t.name + (t.description ?? '') + JSON.stringify(t.parameters));
  return Math.ceil(chars / 4) + media * MEDIA_TOKENS;
}

/** The `:countTokens` response body. */
export function encodeCountTokensResponse(totalTokens: number): { totalTokens: number } {
  return { totalTokens };
}
