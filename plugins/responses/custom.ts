/**
 * Freeform (`custom`) tools of the Responses format, such as Codex CLI's `apply_patch`: the model
 * answers them with raw text (`custom_tool_call.input`), not JSON arguments.
 *
 * In the IR such a tool is a function with one required string parameter `input` plus
 * {@link IRTool.custom}; a call's `arguments` are `{"input":"<raw text>"}`, so every other format
 * can call it like any function. The Responses encoders turn it back into the freeform shapes:
 * `custom` tool declarations, `custom_tool_call` / `custom_tool_call_output` items and
 * `response.custom_tool_call_input.*` stream events.
 *
 * @module
 */
import type { EncodeOptions } from '../../core/codec.ts';
import type { IRTool } from '../../core/ir.ts';
import { clientTools } from '../shared/tool-names.ts';
import { isObj, str, type Json } from './wire.ts';

/** Opens the `arguments` JSON text of a streamed freeform call; escaped input follows. */
export const CUSTOM_ARGS_OPEN = '{"input":"';
/** Closes what {@link CUSTOM_ARGS_OPEN} opened. */
export const CUSTOM_ARGS_CLOSE = '"}';

/**
 * A `custom` tool declaration → IR tool named `name` (already flattened for a namespace).
 *
 * @example
 * ```ts
 * decodeCustomTool({ type: 'custom', name: 'apply_patch', format: { type: 'text' } }, 'apply_patch');
 * // { name: 'apply_patch', parameters: { type: 'object', properties: { input: {...} }, ... }, custom: { format: { type: 'text' } } }
 * ```
 */
export function decodeCustomTool(t: Json, name: string, description?: string): IRTool {
  const format = isObj(t.format) ? t.format : undefined;
  const tool: IRTool = {
    name,
    parameters: {
      type: 'object',
      properties: { input: { type: 'string', description: inputDescription(format) } },
      required: ['input'],
      additionalProperties: false,
    },
    custom: format ? { format } : {},
  };
  if (description) tool.description = description;
  return tool;
}

/** Tells a model without freeform tools what `input` must hold, grammar included. */
function inputDescription(format: Json | undefined): string {
  const raw = 'The raw freeform input for this tool, passed to it verbatim as plain text (do not wrap it in JSON).';
  if (!format || format.type === 'text') return raw;
  if (format.type === 'grammar') {
    const syntax = str(format.syntax) || 'grammar';
    const definition = str(format.definition);
    return definition ? `${raw} It must match this ${syntax} grammar:\n${definition}` : `${raw} It must match a ${syntax} grammar.`;
  }
  return `${raw} Input format: ${String(format.type)}.`;
}

/**
 * An IR freeform tool as the Responses `custom` tool it was declared as.
 *
 * @example
 * ```ts
 * encodeCustomTool(tool); // { type: 'custom', name: 'apply_patch', description: '…', format: { type: 'grammar', … } }
 * ```
 */
export function encodeCustomTool(t: IRTool): Json {
  const tool: Json = { type: 'custom', name: t.name };
  if (t.description) tool.description = t.description;
  if (t.custom?.format) tool.format = t.custom.format;
  return tool;
}

/**
 * A freeform call's raw input → IR `arguments` JSON text.
 *
 * @example
 * ```ts
 * customArguments('*** Begin Patch'); // '{"input":"*** Begin Patch"}'
 * ```
 */
export function customArguments(input: unknown): string {
  return JSON.stringify({ input: typeof input === 'string' ? input : '' });
}

/**
 * IR `arguments` of a freeform call → its raw input: the string `input` field, or the argument
 * text itself when it is not JSON with a string `input` (a model that ignored the schema).
 *
 * @example
 * ```ts
 * customInput('{"input":"*** Begin Patch"}'); // '*** Begin Patch'
 * ```
 */
export function customInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (isObj(parsed) && typeof parsed.input === 'string') return parsed.input;
  } catch {
    // not JSON: the raw text is the input
  }
  return args;
}

/**
 * A piece of freeform input as it sits inside the JSON string of {@link CUSTOM_ARGS_OPEN}, so
 * streamed pieces concatenate to the same text as {@link customArguments}.
 */
export function escapeInput(piece: string): string {
  return JSON.stringify(piece).slice(1, -1);
}

/** Whether an IR tool-call name stands for a tool the client declared as freeform. */
export type IsCustomCall = (irName: string) => boolean;

/**
 * Finds the client's freeform tools among `opts.tools` (also under names an upstream renamed).
 *
 * @example
 * ```ts
 * const isCustom = clientCustomCalls(opts);
 * isCustom('apply_patch'); // true when the client declared a `custom` apply_patch tool
 * ```
 */
export function clientCustomCalls(opts: Pick<EncodeOptions, 'tools'>): IsCustomCall {
  if (!opts.tools?.some((t) => t.custom)) return () => false;
  const lookup = clientTools(opts);
  return (irName) => lookup(irName)?.custom !== undefined;
}
