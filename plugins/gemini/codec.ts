/**
 * The Gemini (v1beta `generateContent` / `streamGenerateContent?alt=sse`) codec, plus the pure
 * helpers behind `:countTokens`.
 *
 * @module
 */
import type { Codec, DecodeOptions } from '../../core/codec.ts';
import type { IRRequest } from '../../core/ir.ts';
import { promptSize } from '../shared/prompt-size.ts';
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
  usageKey: 'usageMetadata',
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
  const { chars, media } = promptSize(req);
  return Math.ceil(chars / 4) + media * MEDIA_TOKENS;
}

/** The `:countTokens` response body. */
export function encodeCountTokensResponse(totalTokens: number): { totalTokens: number } {
  return { totalTokens };
}
