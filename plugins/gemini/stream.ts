/**
 * Gemini `streamGenerateContent?alt=sse` ↔ IR stream events. Every SSE `data:` is a complete
 * `GenerateContentResponse`; there is no sentinel, so success is a chunk with `finishReason`.
 *
 * @module
 */
import type { EncodeOptions, SSEMessage, StreamDecoder, StreamEncoder } from '../../core/codec.ts';
import type { FinishReason, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds, parseArgs } from '../shared/codec-util.ts';
import { clientToolName } from '../shared/tool-names.ts';
import {
  callIdMinter, candidateParts, decodeFinish, decodeUsage, encodeFinish, encodeUsage, firstCandidate, isObj, type Json,
  str,
} from './content.ts';
import { fromGoogleError, renderStreamError } from './error.ts';
import { decodeResponsePart } from './response.ts';

const TRUNCATED = { status: 502, message: 'upstream stream ended early', code: 'upstream_truncated' };

/**
 * Upstream Gemini SSE → IR events. Text parts are deltas; a `functionCall` arrives whole and becomes
 * start + one argument delta + end; `usageMetadata` is a cumulative snapshot (emitted when it changes).
 */
export function createStreamDecoder(): StreamDecoder {
  let started = false;
  let closed = false;
  let finished = false;
  let sawTools = false;
  let toolIndex = 0;
  let mint: () => string = callIdMinter(undefined);
  let reasoning: { open: boolean; sig?: string } = { open: false };
  let lastUsage = '';

  const closeReasoning = (out: IRStreamEvent[]): void => {
    if (!reasoning.open) return;
    out.push({ type: 'reasoning_end', origin: 'gemini', ...(reasoning.sig ? { signature: reasoning.sig } : {}) });
    reasoning = { open: false };
  };

  const onChunk = (chunk: Json, out: IRStreamEvent[]): void => {
    if (isObj(chunk.error)) {
      closed = true;
      out.push({ type: 'error', error: fromGoogleError(chunk.error) });
      return;
    }
    if (!started) {
      started = true;
      const responseId = str(chunk.responseId);
      mint = callIdMinter(responseId);
      out.push({ type: 'start', id: responseId ?? newId('resp_'), model: str(chunk.modelVersion) ?? '', created: nowSeconds() });
    }
    const cand = firstCandidate(chunk);
    for (const p of candidateParts(cand)) {
      const part = decodeResponsePart(p, mint);
      if (!part) continue;
      if (part.type === 'reasoning') {
        if (part.text) out.push({ type: 'reasoning_delta', text: part.text });
        reasoning = { open: true, sig: part.signature ?? reasoning.sig };
        continue;
      }
      closeReasoning(out);
      if (part.type === 'text') {
        out.push({ type: 'text_delta', text: part.text, ...(part.thoughtSignature ? { thoughtSignature: part.thoughtSignature } : {}) });
      } else if (part.type === 'tool_call') {
        const index = toolIndex++;
        sawTools = true;
        const sig = part.thoughtSignature ? { thoughtSignature: part.thoughtSignature } : {};
        out.push({ type: 'tool_call_start', index, id: part.id, name: part.name, ...sig });
        out.push({ type: 'tool_call_delta', index, arguments: part.arguments });
        out.push({ type: 'tool_call_end', index });
      }
      // Inline media (image output) has no stream event in the IR and is dropped.
    }
    const usage = decodeUsage(chunk.usageMetadata);
    if (usage && JSON.stringify(usage) !== lastUsage) {
      lastUsage = JSON.stringify(usage);
      out.push({ type: 'usage', usage });
    }
    const reason = str(cand?.finishReason);
    const feedback = chunk.promptFeedback;
    const blocked = !cand && isObj(feedback) && feedback.blockReason !== undefined;
    if ((reason || blocked) && !finished) {
      closeReasoning(out);
      finished = true;
      out.push({ type: 'finish', reason: blocked ? 'content_filter' : decodeFinish(reason, sawTools) });
    }
  };

  return {
    push(message: SSEMessage): IRStreamEvent[] {
      if (closed) return [];
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return []; // keep-alives, a proxy's "[DONE]" and other non-JSON data are not Gemini chunks
      }
      const out: IRStreamEvent[] = [];
      for (const chunk of Array.isArray(data) ? data : [data]) if (isObj(chunk) && !closed) onChunk(chunk, out);
      return out;
    },
    end(): IRStreamEvent[] {
      if (closed) return [];
      closed = true;
      return finished ? [] : [{ type: 'error', error: TRUNCATED }];
    },
  };
}

interface PendingCall {
  id: string;
  name: string;
  args: string;
  sig?: string;
}

/**
 * IR events → Gemini client SSE: one complete `GenerateContentResponse` per event, with the same
 * `responseId` and `modelVersion` (`opts.model`) on every chunk. The `finishReason` chunk (with the
 * final usage) is held until `end()`; no `[DONE]` is ever sent.
 */
export function createStreamEncoder(opts: EncodeOptions): StreamEncoder {
  let responseId = newId('', 16);
  let usage: IRUsage | undefined;
  let finish: FinishReason | undefined;
  let over = false;
  const calls = new Map<number, PendingCall>();
  const nameOf = clientToolName(opts);

  const chunk = (parts: Json[], finishReason?: string): SSEMessage => ({
    data: JSON.stringify({
      candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}), index: 0 }],
      ...(usage ? { usageMetadata: encodeUsage(usage) } : {}),
      modelVersion: opts.model,
      responseId,
    }),
  });
  const callChunk = (c: PendingCall): SSEMessage =>
    chunk([{ functionCall: { id: c.id, name: c.name, args: parseArgs(c.args) }, ...(c.sig ? { thoughtSignature: c.sig } : {}) }]);

  return {
    push(ev: IRStreamEvent): SSEMessage[] {
      if (over) return [];
      switch (ev.type) {
        case 'start':
          if (ev.id) responseId = ev.id;
          return [];
        case 'text_delta':
          return ev.text || ev.thoughtSignature
            ? [chunk([{ text: ev.text, ...(ev.thoughtSignature ? { thoughtSignature: ev.thoughtSignature } : {}) }])]
            : [];
        case 'refusal_delta':
          return ev.text ? [chunk([{ text: ev.text }])] : [];
        case 'reasoning_delta':
          return ev.text ? [chunk([{ text: ev.text, thought: true }])] : [];
        case 'reasoning_end':
          return ev.origin === 'gemini' && ev.signature ? [chunk([{ text: '', thought: true, thoughtSignature: ev.signature }])] : [];
        case 'tool_call_start':
          calls.set(ev.index, { id: ev.id, name: nameOf(ev.name), args: '', ...(ev.thoughtSignature ? { sig: ev.thoughtSignature } : {}) });
          return [];
        case 'tool_call_delta': {
          const c = calls.get(ev.index);
          if (c) c.args += ev.arguments;
          return [];
        }
        case 'tool_call_end': {
          const c = calls.get(ev.index);
          calls.delete(ev.index);
          return c ? [callChunk(c)] : [];
        }
        case 'usage':
          usage = ev.usage;
          return [];
        case 'finish':
          finish ??= ev.reason;
          return [];
        case 'error':
          over = true;
          return renderStreamError(ev.error);
        default:
          return [];
      }
    },
    end(): SSEMessage[] {
      if (over) return [];
      over = true;
      if (!finish) return renderStreamError(TRUNCATED);
      const out = [...calls.values()].map(callChunk);
      out.push(chunk([{ text: '' }], encodeFinish(finish)));
      return out;
    },
  };
}
