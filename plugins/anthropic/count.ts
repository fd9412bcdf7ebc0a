/**
 * A local token estimate for `POST /v1/messages/count_tokens` when no upstream can count.
 *
 * @module
 */
import type { IRRequest } from '../../core/ir.ts';
import { promptSize } from '../shared/prompt-size.ts';

/** Flat estimate per image or document: their bytes say little about their token cost. */
const MEDIA_TOKENS = 1500;

/**
 * Estimates input tokens as characters / 4 over all text (system, messages, reasoning), tool-call
 * names and arguments, tool results, and tool names, descriptions and JSON schemas, plus a flat
 * 1500 tokens per image or document. A heuristic, not Anthropic's tokenizer.
 *
 * @example
 * ```ts
 * countTokensEstimate(anthropicCodec.decodeRequest(body)); // { input_tokens } for count_tokens
 * ```
 */
export function countTokensEstimate(ir: IRRequest): number {
  const { chars, media } = promptSize(ir);
  return Math.max(1, Math.ceil(chars / 4) + media * MEDIA_TOKENS);
}
