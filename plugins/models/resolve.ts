/**
 * Pure model resolution for the `models` plugin: weighted ordering, wildcard patterns, aliases,
 * `provider/model` names, discovered names, and the prompt-size estimate used by
 * `maxContextTokens`.
 *
 * @module
 */
import type { ResolvedConfig } from '../../core/config.ts';
import type { IRRequest } from '../../core/ir.ts';
import { promptSize } from '../shared/prompt-size.ts';
import type { Target } from '../../core/plugin.ts';

/** How a name was resolved. */
export type ResolvedVia = 'logical' | 'alias' | 'direct' | 'wildcard' | 'discovered';

/** The targets a name maps to (in config order) and how it got there. */
export interface Resolution {
  targets: Target[];
  via: ResolvedVia;
  /** The config entry that matched: the logical name, the pattern, or the provider names. */
  entry: string;
}

/** A wildcard entry of `config.models` (a key containing `*`), compiled. */
export interface Pattern {
  key: string;
  re: RegExp;
  targets: readonly Target[];
}

/**
 * Orders targets: lowest `priority` first; within a priority, a weighted random permutation
 * (each draw picks a remaining target with probability weight / remaining weight).
 *
 * @example
 * ```ts
 * orderTargets([{ provider: 'a', model: 'x', weight: 3 }, { provider: 'b', model: 'y' }]);
 * ```
 */
export function orderTargets(targets: readonly Target[], random: () => number = Math.random): Target[] {
  const byPriority = new Map<number, Target[]>();
  for (const t of targets) {
    const p = t.priority ?? 0;
    byPriority.set(p, [...(byPriority.get(p) ?? []), t]);
  }
  const out: Target[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    const pool = [...byPriority.get(p)!];
    while (pool.length) {
      const total = pool.reduce((n, t) => n + (t.weight ?? 1), 0);
      let r = random() * total;
      let i = 0;
      while (i < pool.length - 1 && (r -= pool[i]!.weight ?? 1) >= 0) i++;
      out.push(pool.splice(i, 1)[0]!);
    }
  }
  return out;
}

/**
 * Compiles the wildcard keys of `config.models` (`claude-*`), most specific (most literal
 * characters) first, config order breaking ties.
 *
 * @example
 * ```ts
 * compilePatterns(config)[0]?.re.test('claude-sonnet-4-5');
 * ```
 */
export function compilePatterns(config: ResolvedConfig): Pattern[] {
  return Object.entries(config.models)
    .filter(([key]) => key.includes('*'))
    .map(([key, targets], i) => ({ key, targets, i, re: globToRegExp(key) }))
    .sort((a, b) => b.key.replaceAll('*', '').length - a.key.replaceAll('*', '').length || a.i - b.i)
    .map(({ key, re, targets }) => ({ key, re, targets }));
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** What resolution looks at besides the config. */
export interface ResolveContext {
  config: ResolvedConfig;
  patterns: readonly Pattern[];
  aliases: Readonly<Record<string, string>>;
  /** Discovered model name → providers that list it. */
  discovered: ReadonlyMap<string, string[]>;
}

/**
 * Resolves a name: a logical name, then an alias (followed to its target name), then
 * `provider/model`, then a wildcard pattern (the asked name replaces `*` in the target's model),
 * then a discovered model.
 *
 * @example
 * ```ts
 * resolveName({ config, patterns, aliases: { 'gpt-4': 'fast' }, discovered: new Map() }, 'gpt-4');
 * ```
 */
export function resolveName(rc: ResolveContext, asked: string): Resolution | undefined {
  let name = asked;
  let aliased = false;
  for (let hops = 0; rc.aliases[name] !== undefined && hops < 8; hops++) {
    name = rc.aliases[name]!;
    aliased = true;
  }
  const via = (v: ResolvedVia): ResolvedVia => (aliased ? 'alias' : v);
  const logical = name.includes('*') ? undefined : rc.config.models[name];
  if (logical) return { targets: [...logical], via: via('logical'), entry: name };
  const slash = name.indexOf('/');
  if (slash > 0 && slash < name.length - 1 && name.slice(0, slash) in rc.config.providers) {
    return { targets: [{ provider: name.slice(0, slash), model: name.slice(slash + 1) }], via: via('direct'), entry: name };
  }
  const pattern = rc.patterns.find((p) => p.re.test(name));
  if (pattern) {
    const targets = pattern.targets.map((t) => ({ ...t, model: t.model.replaceAll('*', name) }));
    return { targets, via: via('wildcard'), entry: pattern.key };
  }
  const providers = rc.discovered.get(name);
  if (providers?.length) {
    return { targets: providers.map((provider) => ({ provider, model: name })), via: via('discovered'), entry: providers.join(', ') };
  }
  return undefined;
}

/**
 * Rough token count of a chat request's prompt (about 4 characters a token; 1000 per image or
 * document): enough to keep a request away from a target whose window it would overflow.
 *
 * @example
 * ```ts
 * const needed = estimatePromptTokens(ctx.state.request.ir) + (ir.maxTokens ?? 0);
 * ```
 */
export function estimatePromptTokens(ir: IRRequest): number {
  const { chars, media } = promptSize(ir);
  return Math.ceil(chars / 4) + media * 1000;
}
