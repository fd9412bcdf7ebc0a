/**
 * A local token estimate for `POST /v1/messages/count_tokens` when no upstream can count.
 *
 * @module
 */
import type { IRPart, IRRequest } from '../../core/ir.ts';

/** Flat estimate per image or document: their bytes say little about their token cost. */
const MEDIA_TOKENS = 1500;

function partChars(p: IRPart): { chars: number; media: number } {
  switch (p.type) {
    case 'text':
    case 'refusal':
    case 'reasoning':
      return { chars: p.text.length, media: 0 };
    case 'tool_call':
      return { chars: p.name.length + p.arguments.length, media: 0 };
    case 'tool_result': {
      if (typeof p.content === 'string') return { chars: p.content.length, media: 0 };
      let chars = 0;
      let media = 0;
      for (const c of p.content) {
        const r = partChars(c);
        chars += r.chars;
        media += r.media;
      }
      return { chars, media };
    }
    case 'image':
    case 'document':
      return { chars: 0, media: 1 };
  }
}

/**
 * Estimates input tokens as characters / 4 over all text (system, messages, reasoning), tool-call
 * names and arguments, tool results, and tool names, descriptions and JSON schemas, plus a flat
 * 1500 tokens per image or document. A heuristic, not Anthropic's tokenizer.
 */
export function countTokensEstimate(ir: IRRequest): number {
  let chars = 0;
  let media = 0;
  for (const s of ir.system) chars += s.text.length;
  for (const m of ir.messages) {
    for (const p of m.content) {
      const r = partChars(p);
      chars += r.chars;
      media += r.media;
    }
  }
  for (const t of ir.tools ?? []) chars += t.name.length + (t.description?.length ?? 0) + JSON.stringify(t.parameters).length;
  return Math.max(1, Math.ceil(chars / 4) + media * MEDIA_TOKENS);
}
