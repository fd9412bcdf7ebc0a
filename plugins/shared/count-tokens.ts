/**
 * Token counting for `count_tokens` endpoints when the chosen upstream cannot count: a local
 * estimate (about four characters per token, plus a flat cost per image or document), answered
 * in the client's own shape.
 *
 * @module
 */
import type { GatewayRequest, GatewayResult } from '../../core/plugin.ts';
import { countTokensEstimate } from '../anthropic/count.ts';

/**
 * The client-format answer to a count request, from the local estimate.
 *
 * @example
 * ```ts
 * if (call.request.operation === 'count_tokens') return estimatedCount(call.request);
 * ```
 */
export function estimatedCount(request: GatewayRequest): GatewayResult {
  const n = countTokensEstimate(request.ir);
  return {
    type: 'json',
    format: request.format,
    body: request.format === 'gemini' ? { totalTokens: n } : { input_tokens: n },
  };
}
