/**
 * Anthropic Messages responses: upstream body → IR (`decodeResponse`) and IR → client body
 * (`encodeResponse`).
 *
 * @module
 */
import type { EncodeOptions } from '../../core/codec.ts';
import type { IRPart, IRResponse, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { withClientToolNames } from '../shared/tool-names.ts';
import {
  type Json,
  decodeBlock,
  decodeStopReason,
  decodeUsage,
  encodePart,
  encodeStopReason,
  encodeUsage,
  isObj,
  messageId,
  str,
} from './blocks.ts';

/**
 * Anthropic `Message` → IR. Server-tool and unknown blocks are ignored; `refusal` becomes
 * `content_filter`, `pause_turn` becomes `pause`.
 */
export function decodeResponse(body: Record<string, unknown>): IRResponse {
  const content: IRPart[] = [];
  const names = new Map<string, string>();
  if (Array.isArray(body.content)) {
    body.content.forEach((b, i) => {
      if (!isObj(b) || typeof b.type !== 'string') return;
      try {
        const p = decodeBlock(b, `content.${i}`, names);
        if (p) content.push(p);
      } catch {
        // A malformed upstream block is skipped, not turned into a client 400.
      }
    });
  }
  let finishReason = decodeStopReason(body.stop_reason);
  if (finishReason === 'stop' && content.some((p) => p.type === 'tool_call')) finishReason = 'tool_calls';
  const res: IRResponse = {
    id: str(body.id) ?? newId('msg_'),
    model: str(body.model) ?? '',
    created: nowSeconds(),
    content,
    finishReason,
  };
  if (body.stop_reason === 'stop_sequence') res.stopSequence = str(body.stop_sequence) ?? null;
  if (isObj(body.usage)) res.usage = decodeUsage(body.usage);
  return res;
}

/**
 * IR → Anthropic `Message` for the client. Reasoning from other formats is shown as a thinking
 * block with an empty signature (never replayed upstream); refusals become text with
 * `stop_reason:"refusal"`.
 */
export function encodeResponse(ir: IRResponse, opts: EncodeOptions): Record<string, unknown> {
  const res = withClientToolNames(ir, opts);
  // Anthropic responses carry no image, document or tool_result blocks.
  const content = res.content
    .filter((p) => p.type === 'text' || p.type === 'refusal' || p.type === 'tool_call' || p.type === 'reasoning')
    .map((p) => encodePart(p, true))
    .filter((b): b is Json => b !== undefined);
  const hasTools = content.some((b) => b.type === 'tool_use');
  const refused = res.finishReason === 'stop' && !hasTools && res.content.some((p) => p.type === 'refusal');
  const stopReason = refused ? 'refusal' : encodeStopReason(res.finishReason, res.stopSequence, hasTools);
  return {
    id: messageId(res.id),
    type: 'message',
    role: 'assistant',
    model: opts.model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? res.stopSequence : null,
    usage: encodeUsage(res.usage),
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
  return isObj(body.usage) ? decodeUsage(body.usage) : undefined;
}
