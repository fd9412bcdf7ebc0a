/**
 * Tool names across formats (WIRE-FORMATS §4 #7): each upstream encoder renames a tool whose name
 * its format rejects, deterministically, and each client encoder maps the names the upstream
 * answered with back to the ones the client declared (from {@link EncodeOptions.tools}).
 *
 * Chat, Responses and Anthropic take `^[a-zA-Z0-9_-]{1,64}$`; Gemini takes letters, digits and
 * `_.:-`, starting with a letter or `_`, at most 64. A name that already fits is never touched, so
 * same-format requests keep their names; one that does not becomes its fitting characters plus a
 * hash of the original (distinct names stay distinct), and the result fits, so renaming twice is a
 * no-op.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { EncodeOptions } from '../../core/codec.ts';
import type { IRPart, IRRequest, IRResponse, IRTool, WireFormat } from '../../core/ir.ts';

const VALID: Record<WireFormat, RegExp> = {
  openai: /^[a-zA-Z0-9_-]{1,64}$/,
  responses: /^[a-zA-Z0-9_-]{1,64}$/,
  anthropic: /^[a-zA-Z0-9_-]{1,64}$/,
  gemini: /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/,
};
const INVALID_CHAR: Record<WireFormat, RegExp> = {
  openai: /[^a-zA-Z0-9_-]/g,
  responses: /[^a-zA-Z0-9_-]/g,
  anthropic: /[^a-zA-Z0-9_-]/g,
  gemini: /[^a-zA-Z0-9_.:-]/g,
};

/**
 * The name a tool gets in requests to a `format` upstream.
 *
 * @example
 * ```ts
 * upstreamToolName('get_weather', 'anthropic'); // 'get_weather'
 * upstreamToolName('files.read', 'anthropic');  // 'files_read_<hash>'
 * ```
 */
export function upstreamToolName(name: string, format: WireFormat): string {
  if (VALID[format].test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  let stem = name.replace(INVALID_CHAR[format], '_');
  if (format === 'gemini' && !/^[a-zA-Z_]/.test(stem)) stem = `_${stem}`;
  return `${stem.slice(0, 64 - hash.length - 1)}_${hash}`;
}

/** The declared tool an upstream's name stands for: found by its name in any upstream format. */
export type ToolLookup = (name: string) => IRTool | undefined;

/**
 * A lookup from names an upstream may answer with to the client's own tool declarations.
 *
 * @example
 * ```ts
 * const tool = clientTools(opts)('files_read_1a2b3c4d'); // the IRTool named 'files.read'
 * ```
 */
export function clientTools(opts: Pick<EncodeOptions, 'tools'>): ToolLookup {
  const byName = new Map<string, IRTool>();
  for (const t of opts.tools ?? []) {
    for (const f of Object.keys(VALID) as WireFormat[]) byName.set(upstreamToolName(t.name, f), t);
    byName.set(t.name, t);
  }
  return (name) => byName.get(name);
}

/**
 * The tool name to show the client for a name the upstream used (unchanged when unknown).
 *
 * @example
 * ```ts
 * const nameOf = clientToolName(opts);
 * nameOf('files_read_1a2b3c4d'); // 'files.read'
 * ```
 */
export function clientToolName(opts: Pick<EncodeOptions, 'tools'>): (name: string) => string {
  const lookup = clientTools(opts);
  return (name) => lookup(name)?.name ?? name;
}

/**
 * The request with every tool name (declarations, tool choice, calls and results in the history)
 * as a `format` upstream accepts it. Returns `req` itself when no name needs changing.
 *
 * @example
 * ```ts
 * export function encodeRequest(ir: IRRequest, opts: { model: string }) {
 *   ir = withUpstreamToolNames(ir, 'anthropic');
 *   // ...
 * }
 * ```
 */
export function withUpstreamToolNames(req: IRRequest, format: WireFormat): IRRequest {
  const rename = (n: string) => upstreamToolName(n, format);
  const changed = (n: string | undefined) => n !== undefined && rename(n) !== n;
  const tc = req.toolChoice;
  const needed =
    req.tools?.some((t) => changed(t.name)) ||
    (tc?.type === 'tool' && changed(tc.name)) ||
    (tc?.type === 'allowed' && tc.names.some(changed)) ||
    req.messages.some((m) => m.content.some((p) => (p.type === 'tool_call' || p.type === 'tool_result') && changed(p.name)));
  if (!needed) return req;
  const out: IRRequest = { ...req, messages: req.messages.map((m) => ({ ...m, content: m.content.map((p) => renamePart(p, rename)) })) };
  if (req.tools) out.tools = req.tools.map((t) => ({ ...t, name: rename(t.name) }));
  if (tc?.type === 'tool') out.toolChoice = { ...tc, name: rename(tc.name) };
  if (tc?.type === 'allowed') out.toolChoice = { ...tc, names: tc.names.map(rename) };
  return out;
}

function renamePart(p: IRPart, rename: (n: string) => string): IRPart {
  if (p.type === 'tool_call') return { ...p, name: rename(p.name) };
  if (p.type === 'tool_result' && p.name !== undefined) return { ...p, name: rename(p.name) };
  return p;
}

/**
 * The response with its tool calls named as the client declared them.
 *
 * @example
 * ```ts
 * const shown = withClientToolNames(res, opts);
 * ```
 */
export function withClientToolNames(res: IRResponse, opts: Pick<EncodeOptions, 'tools'>): IRResponse {
  if (!opts.tools?.length) return res;
  const nameOf = clientToolName(opts);
  return { ...res, content: res.content.map((p) => (p.type === 'tool_call' ? { ...p, name: nameOf(p.name) } : p)) };
}
