/**
 * The OpenAI Responses codec (`/v1/responses`), assembled from its parts.
 *
 * @module
 */
import type { Codec } from '../../core/codec.ts';
import { decodeError, renderError, renderStreamError } from './error.ts';
import { decodeRequest, encodeRequest } from './request.ts';
import { decodeResponse, encodeResponse, responseUsage } from './response.ts';
import { createStreamDecoder, createStreamEncoder } from './stream.ts';

/** Converts between OpenAI Responses wire bodies/streams and the IR. */
export const responsesCodec: Codec = {
  format: 'responses',
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
