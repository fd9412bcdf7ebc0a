/**
 * Small pure helpers shared by the four codecs. One place for the policies every converter
 * needs (data URLs, tool-argument parsing, effort ↔ budget), so they never drift apart.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { invalidRequest } from '../../core/errors.ts';
import type { IRMessage, IRPart, IRUsage, ReasoningEffort } from '../../core/ir.ts';

type RawJson = { rawJSON: string };
const isRawJSON = (JSON as unknown as { isRawJSON?: (v: unknown) => v is RawJson }).isRawJSON;

/**
 * The value when it is a finite number. An integer the gateway kept exact as its source text (a
 * request's `seed` past 2^53, see core/body.ts) reads as the nearest double, as it always did:
 * only same-format forwarding writes its original digits.
 *
 * @example
 * ```ts
 * num(0.7); // 0.7
 * num('0.7'); // undefined
 * ```
 */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return isRawJSON?.(v) ? Number(v.rawJSON) : undefined;
}

/**
 * An optional numeric field of a client body: absent or null → undefined, not a number → 400.
 *
 * @example
 * ```ts
 * optNumber({ temperature: 0.2 }, 'temperature'); // 0.2
 * optNumber({ temperature: 'hot' }, 'temperature'); // throws invalid_request (400)
 * ```
 */
export function optNumber(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const n = num(v);
  if (n === undefined) throw invalidRequest(`"${key}" must be a number`, key);
  return n;
}

/** Splits `data:<mime>;base64,<payload>`; returns undefined for anything else. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1] ?? 'application/octet-stream', data: m[2]! } : undefined;
}

/** Builds a `data:` URL from a media type and base64 payload. */
export function toDataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

/**
 * Parses tool-call argument text into the object Anthropic `input` / Gemini `args` require.
 * Policy (WIRE-FORMATS §4 #4): empty → `{}`; a JSON object → itself; anything else (truncated or
 * invalid JSON, arrays, scalars) → `{}`, because those fields must be objects.
 */
export function parseArgs(text: string | undefined): Record<string, unknown> {
  if (!text || !text.trim()) return {};
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Serialises tool arguments to JSON text (`"{}"` for undefined). */
export function stringifyArgs(value: unknown): string {
  return value === undefined || value === null ? '{}' : JSON.stringify(value);
}

/** Maps tool-call id → tool name over a conversation (for formats whose results need the name). */
export function toolNamesById(messages: IRMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of messages) for (const p of m.content) if (p.type === 'tool_call') names.set(p.id, p.name);
  return names;
}

/** A random id with a prefix, in the style providers use (`msg_…`, `call_…`, `resp_…`). */
export function newId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** Unix seconds now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Effort → thinking budget (tokens). No official mapping exists; this is the gateway's policy:
 * minimal/low 1024, medium 4096, high 16384, xhigh 32768, max 65536; `none` → 0 (off).
 */
export function effortToBudget(effort: ReasoningEffort): number {
  return { none: 0, minimal: 1024, low: 1024, medium: 4096, high: 16384, xhigh: 32768, max: 65536 }[effort];
}

/** Thinking budget → effort, the inverse of {@link effortToBudget} (0 → none, -1/dynamic → medium). */
export function budgetToEffort(budget: number): ReasoningEffort {
  if (budget === 0) return 'none';
  if (budget < 0) return 'medium';
  if (budget <= 1024) return 'low';
  if (budget <= 4096) return 'medium';
  if (budget <= 16384) return 'high';
  return 'xhigh';
}

/**
 * Merges consecutive messages of the same role (Anthropic and Gemini require alternation, and
 * tool results of one turn must share one user message), keeping tool results before other
 * parts inside a merged user message.
 */
export function mergeConsecutive(messages: IRMessage[]): IRMessage[] {
  const out: IRMessage[] = [];
  for (const m of messages) {
    const last = out[out.length - 1];
    if (last && last.role === m.role) last.content = [...last.content, ...m.content];
    else out.push({ role: m.role, content: [...m.content] });
  }
  for (const m of out) {
    if (m.role !== 'user') continue;
    const results = m.content.filter((p) => p.type === 'tool_result');
    if (results.length && results.length !== m.content.length) {
      m.content = [...results, ...m.content.filter((p: IRPart) => p.type !== 'tool_result')];
    }
  }
  return out;
}

/** Concatenated text of the text parts. */
export function textOf(parts: IRPart[]): string {
  return parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/**
 * IR usage from the OpenAI family's shape (Chat and Responses differ only in field names): totals
 * that already include cached input and reasoning output, plus their detail objects.
 *
 * @example
 * ```ts
 * openaiStyleUsage(u.prompt_tokens, u.completion_tokens, u.prompt_tokens_details, u.completion_tokens_details);
 * ```
 */
export function openaiStyleUsage(input: unknown, output: unknown, inputDetails: unknown, outputDetails: unknown): IRUsage {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const inDet = obj(inputDetails);
  const outDet = obj(outputDetails);
  const usage: IRUsage = { inputTokens: n(input) ?? 0, outputTokens: n(output) ?? 0 };
  if (n(inDet.cached_tokens) !== undefined) usage.cachedTokens = n(inDet.cached_tokens);
  if (n(inDet.cache_write_tokens) !== undefined) usage.cacheWriteTokens = n(inDet.cache_write_tokens);
  if (n(outDet.reasoning_tokens) !== undefined) usage.reasoningTokens = n(outDet.reasoning_tokens);
  return usage;
}

/**
 * The end-user id sent to an upstream of another format: a SHA-256 hex digest (64 characters,
 * within every format's limit), never the raw value, which may be an email or an account id
 * (WIRE-FORMATS §4 #23). Stable, so per-user abuse tracking upstream still works. Same-format
 * passthrough forwards what the client sent.
 *
 * @example
 * ```ts
 * if (ir.user) body.metadata = { user_id: opaqueUserId(ir.user) };
 * ```
 */
export function opaqueUserId(user: string): string {
  return createHash('sha256').update(user).digest('hex');
}
