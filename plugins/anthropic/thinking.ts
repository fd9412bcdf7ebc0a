/**
 * The gateway's policy for IR reasoning → Anthropic `thinking` / `output_config.effort` /
 * `max_tokens` (§3.7, §4 #1, #18).
 *
 * @module
 */
import type { IRReasoningConfig } from '../../core/ir.ts';
import { effortToBudget } from '../shared/codec-util.ts';
import type { Json } from './blocks.ts';

/** `max_tokens` when the request set none (Anthropic requires it). */
export const DEFAULT_MAX_TOKENS = 4096;

const MIN_BUDGET = 1024;

/** Claude models that predate adaptive thinking and only take `{type:"enabled",budget_tokens}`. */
const PRE_ADAPTIVE = /claude-3|claude-(?:opus|sonnet|haiku)-4(?:-[015])?(?:$|[-@]\d{8}|-v\d|[@:])/;

/**
 * Whether `model` takes `{type:"adaptive"}`: Claude models after 4.5. Other names (older Claude,
 * Anthropic-compatible third-party endpoints) get a manual budget, which they all accept.
 */
export function supportsAdaptive(model: string): boolean {
  return model.includes('claude-') && !PRE_ADAPTIVE.test(model);
}

/** What to send: the `thinking` object, the effort, an adjusted `max_tokens`, and whether thinking is on. */
export interface ThinkingPlan {
  on: boolean;
  thinking?: Json;
  effort?: string;
  maxTokens?: number;
}

/**
 * Plans thinking for one request.
 * - Off (`enabled:false`, effort `none`, budget 0) → `{type:"disabled"}`.
 * - A prefill (rejected with thinking on) → no `thinking` at all. So does a tool loop whose
 *   assistant turn lacks a leading Anthropic thinking block (history from another format), but only
 *   for manual budgets: adaptive thinking does not require that block.
 * - A budget → `enabled` with `budget_tokens` ≥ 1024 and < `max_tokens`; when `max_tokens` is unset
 *   it grows to budget + 4096; when the client's `max_tokens` leaves no room for 1024, thinking is omitted.
 * - No budget (effort only, adaptive, Gemini dynamic −1) → `adaptive` + `output_config.effort` on
 *   models that support it, else `enabled` with the shared effort → budget policy.
 * `display:"omitted"` is sent only when the IR asks not to include thoughts.
 */
export function planThinking(
  r: IRReasoningConfig | undefined,
  maxTokens: number | undefined,
  model: string,
  history: { prefill: boolean; foreignToolLoop: boolean },
): ThinkingPlan {
  if (!r) return { on: false };
  if (r.enabled === false || r.effort === 'none' || r.budgetTokens === 0) return { on: false, thinking: { type: 'disabled' } };
  const effort = r.effort === 'minimal' ? 'low' : r.effort;
  const budget = r.budgetTokens !== undefined && r.budgetTokens > 0 ? r.budgetTokens : undefined;
  if (history.prefill || (r.enabled !== true && !effort && budget === undefined && r.budgetTokens !== -1)) return { on: false };
  const display = r.includeThoughts === false ? { display: 'omitted' } : {};

  if (budget === undefined && supportsAdaptive(model)) {
    return { on: true, thinking: { type: 'adaptive', ...display }, ...(effort ? { effort } : {}) };
  }
  if (history.foreignToolLoop) return { on: false };
  let b = Math.max(MIN_BUDGET, budget ?? effortToBudget(effort ?? 'medium'));
  let max = maxTokens;
  if (max === undefined) max = b >= DEFAULT_MAX_TOKENS ? b + DEFAULT_MAX_TOKENS : DEFAULT_MAX_TOKENS;
  else if (b >= max) b = max - 1;
  if (b < MIN_BUDGET) return { on: false, maxTokens: max };
  // Effort rides along only when the client chose both a budget and an effort (Anthropic → Anthropic).
  const keepEffort = budget !== undefined && effort ? { effort } : {};
  return { on: true, thinking: { type: 'enabled', budget_tokens: b, ...display }, maxTokens: max, ...keepEffort };
}
