/**
 * The Anthropic Messages codec (`/v1/messages`), assembled from its parts.
 *
 * @module
 */
import type { Codec } from '../../core/codec.ts';
import { decodeError, renderError, renderStreamError } from './error.ts';
import { decodeRequest, encodeRequest } from './request.ts';
import { decodeResponse, encodeResponse, responseUsage } from './response.ts';
import { createStreamDecoder, createStreamEncoder } from './stream.ts';

export { countTokensEstimate } from './count.ts';

/** Anthropic Messages ↔ IR, both as the client's format and as an upstream's. */
export const anthropicCodec: Codec = {
  format: 'anthropic',
  decodeRequest,
  encodeResponse,
  createStreamEncoder,
  renderError,
  renderStreamError,
  encodeRequest,
  decodeResponse,
  responseUsage,
  usageKey: 'usage',
  createStreamDecoder,
  decodeError,
};
