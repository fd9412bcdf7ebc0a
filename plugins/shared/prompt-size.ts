/**
 * The size of a request's prompt, as local token estimates need it: characters of every text
 * (system, messages, reasoning, tool-call names and arguments, tool results, tool names,
 * descriptions and schemas) and the number of images and documents, whose bytes say little
 * about their token cost. Each estimate weighs the two its own way.
 *
 * @module
 */
import type { IRPart, IRRequest } from '../../core/ir.ts';

/** Characters of text and count of media items in a prompt. */
export interface PromptSize {
  chars: number;
  media: number;
}

/**
 * Measures a request's prompt.
 *
 * @example
 * ```ts
 * const { chars, media } = promptSize(ir);
 * const tokens = Math.ceil(chars / 4) + media * 1000;
 * ```
 */
export function promptSize(ir: IRRequest): PromptSize {
  const size: PromptSize = { chars: 0, media: 0 };
  for (const s of ir.system) size.chars += s.text.length;
  for (const m of ir.messages) for (const p of m.content) addPart(size, p);
  for (const t of ir.tools ?? []) size.chars += t.name.length + (t.description?.length ?? 0) + JSON.stringify(t.parameters).length;
  return size;
}

function addPart(size: PromptSize, p: IRPart): void {
  switch (p.type) {
    case 'text':
    case 'refusal':
    case 'reasoning':
      size.chars += p.text.length;
      return;
    case 'tool_call':
      size.chars += p.name.length + p.arguments.length;
      return;
    case 'tool_result':
      if (typeof p.content === 'string') size.chars += p.content.length;
      else for (const c of p.content) addPart(size, c);
      return;
    case 'image':
    case 'document':
      size.media++;
  }
}
