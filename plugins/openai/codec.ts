/**
 * The OpenAI Chat Completions codec (`/v1/chat/completions`), assembled from its parts.
 *
 * @module
 */
import type { Codec } from '../../core/codec.ts';
import { decodeError, renderError, renderStreamError } from './error.ts';
import { decodeRequest, encodeRequest } from './request.ts';
import { decodeResponse, encodeResponse, responseUsage } from './response.ts';
import { createStreamDecoder } from './stream.ts';
import { createStreamEncoder } from './stream-encode.ts';

/** Converts between OpenAI Chat Completions wire bodies/streams and the IR, both directions. */
export const openaiCodec: Codec = {
  format: 'openai',
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
