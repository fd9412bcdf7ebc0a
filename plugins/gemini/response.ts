/**
 * Gemini `GenerateContentResponse` ↔ IR response. The IR holds one choice, so only the first
 * candidate (index 0) is read.
 *
 * @module
 */
import type { EncodeOptions } from '../../core/codec.ts';
import type { IRPart, IRResponse, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds, stringifyArgs } from '../shared/codec-util.ts';
import { withClientToolNames } from '../shared/tool-names.ts';
import {
  callIdMinter, candidateParts, decodeBasicPart, decodeFinish, decodeUsage, encodeFinish, encodeModelParts, encodeUsage,
  firstCandidate, isObj, type Json, pick, str,
} from './content.ts';

/** Decodes an upstream Gemini response; a blocked prompt becomes empty content with `content_filter`. */
export function decodeResponse(body: Json): IRResponse {
  const id = str(body.responseId) ?? newId('resp_');
  const mint = callIdMinter(str(body.responseId));
  const cand = firstCandidate(body);
  const content = candidateParts(cand).flatMap((p): IRPart[] => {
    const part = decodeResponsePart(p, mint);
    return part ? [part] : [];
  });
  const feedback = body.promptFeedback;
  const blocked = !cand && isObj(feedback) && feedback.blockReason !== undefined;
  const finishReason = blocked
    ? 'content_filter'
    : decodeFinish(str(cand?.finishReason), content.some((p) => p.type === 'tool_call'));
  const usage = decodeUsage(body.usageMetadata);
  const created = Date.parse(str(body.createTime) ?? '');
  return {
    id,
    model: str(body.modelVersion) ?? '',
    created: Number.isNaN(created) ? nowSeconds() : Math.floor(created / 1000),
    content,
    finishReason,
    ...(usage ? { usage } : {}),
  };
}

/** A response part → IR part; function calls get `functionCall.id` or a minted `call_<responseId>_<n>`. */
export function decodeResponsePart(p: Json, mint: () => string): IRPart | undefined {
  const fc = pick(p, 'functionCall');
  if (!isObj(fc)) return decodeBasicPart(p);
  const sig = str(pick(p, 'thoughtSignature'));
  return {
    type: 'tool_call',
    id: str(fc.id) || mint(),
    name: str(fc.name) ?? '',
    arguments: stringifyArgs(fc.args),
    ...(sig ? { thoughtSignature: sig } : {}),
  };
}

/** Encodes an IR response for a Gemini client, showing `opts.model` as `modelVersion`. */
export function encodeResponse(res: IRResponse, opts: EncodeOptions): Json {
  const parts = encodeModelParts(withClientToolNames(res, opts).content, true);
  return {
    candidates: [
      {
        ...(parts.length ? { content: { role: 'model', parts } } : {}),
        finishReason: encodeFinish(res.finishReason),
        index: 0,
      },
    ],
    ...(res.usage ? { usageMetadata: encodeUsage(res.usage) } : {}),
    modelVersion: opts.model,
    responseId: res.id || newId('', 16),
  };
}

/**
 * The usage of an upstream body alone (passthrough accounting).
 *
 * @example
 * ```ts
 * responseUsage(body)?.inputTokens;
 * ```
 */
export function responseUsage(body: Record<string, unknown>): IRUsage | undefined {
  return body.usageMetadata && typeof body.usageMetadata === 'object' ? decodeUsage(body.usageMetadata as Json) : undefined;
}
