/**
 * Up-front estimates for token and cost reservations: about four characters per token for the
 * prompt (images and documents at a flat rate), plus the request's max output tokens.
 *
 * @module
 */
import type { IRPart, IRRequest, IRUsage } from '../../core/ir.ts';
import type { GatewayRequest, Target } from '../../core/plugin.ts';

/** Price of a model in USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** Cached prompt tokens. @default input */
  cachedInput?: number;
}

/** Tokens assumed for one image or document part. */
const MEDIA_TOKENS = 1000;

const chars = (s: string | undefined) => (s ? s.length : 0);

function partChars(p: IRPart): number {
  switch (p.type) {
    case 'text':
    case 'reasoning':
    case 'refusal':
      return chars(p.text);
    case 'tool_call':
      return chars(p.name) + chars(p.arguments);
    case 'tool_result':
      return typeof p.content === 'string' ? chars(p.content) : p.content.reduce((n, c) => n + partChars(c), 0);
    default:
      return MEDIA_TOKENS * 4;
  }
}

function promptChars(ir: IRRequest): number {
  let n = ir.system.reduce((s, t) => s + chars(t.text), 0);
  for (const m of ir.messages) for (const p of m.content) n += partChars(p) + 4;
  for (const t of ir.tools ?? []) n += chars(t.name) + chars(t.description) + JSON.stringify(t.parameters).length;
  return n;
}

/**
 * Prompt and output tokens a request may use.
 *
 * @example
 * ```ts
 * const { input, output } = estimateTokens(ctx.state.request, 1024);
 * ```
 */
export function estimateTokens(req: GatewayRequest, defaultMaxTokens: number): { input: number; output: number } {
  const body = req.body;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  if (req.operation === 'chat') {
    try {
      const ir = req.ir;
      return { input: Math.ceil(promptChars(ir) / 4), output: ir.maxTokens ?? defaultMaxTokens };
    } catch {
      return { input: Math.ceil(JSON.stringify(body).length / 4), output: defaultMaxTokens };
    }
  }
  if (req.operation === 'embeddings') return { input: Math.ceil(JSON.stringify(body.input ?? '').length / 4), output: 0 };
  if (req.operation === 'completions') return { input: Math.ceil(JSON.stringify(body.prompt ?? '').length / 4), output: num(body.max_tokens) ?? defaultMaxTokens };
  return { input: 0, output: 0 };
}

/**
 * Total tokens of a usage report.
 *
 * @example
 * ```ts
 * usageTokens({ inputTokens: 10, outputTokens: 5 }); // 15
 * ```
 */
export const usageTokens = (u: IRUsage) => u.inputTokens + u.outputTokens;

/**
 * The price of a target: `provider/model`, then the provider's model name, then the asked model.
 *
 * @example
 * ```ts
 * priceOf({ 'oa/gpt-4o-mini': { input: 0.15, output: 0.6 } }, ctx.state.target, 'fast');
 * ```
 */
export function priceOf(prices: Record<string, Price>, target: Target | undefined, asked: string): Price | undefined {
  return (target && (prices[`${target.provider}/${target.model}`] ?? prices[target.model])) ?? prices[asked];
}

/**
 * USD cost of a usage report at a price (cached prompt tokens at `cachedInput`).
 *
 * @example
 * ```ts
 * costOf({ inputTokens: 1000, outputTokens: 500 }, { input: 0.15, output: 0.6 }); // 0.00045
 * ```
 */
export function costOf(u: IRUsage, p: Price): number {
  const cached = Math.min(u.cachedTokens ?? 0, u.inputTokens);
  return ((u.inputTokens - cached) * p.input + cached * (p.cachedInput ?? p.input) + u.outputTokens * p.output) / 1e6;
}
