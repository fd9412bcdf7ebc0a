/**
 * Route by prompt size: one logical model (`auto`) that sends short prompts to a cheap model and
 * long ones to a long-context model. It runs in the `pre` tier, before the built-in `models`
 * plugin turns the (rewritten) model name into candidate targets.
 */
import { definePlugin, type IRRequest } from 'switchyard';

/** Options for {@link routeBySize}. */
export interface RouteBySizeOptions {
  /** The logical model clients ask for. @default 'auto' */
  model?: string;
  /** Prompts estimated at up to this many tokens go to `small`. */
  maxSmallTokens: number;
  /** Logical model for short prompts. */
  small: string;
  /** Logical model for long prompts. */
  large: string;
}

/**
 * A rough token count (4 characters a token) of everything the model reads: system text,
 * messages, tool results and tool schemas. Good enough to pick a model; not a tokenizer.
 *
 * @example
 * ```ts
 * if (estimateTokens(ctx.state.request.ir) > 8_000) ctx.state.request.model = 'long';
 * ```
 */
export function estimateTokens(ir: IRRequest): number {
  let chars = 0;
  for (const s of ir.system) chars += s.text.length;
  for (const m of ir.messages) {
    for (const p of m.content) {
      if (p.type === 'text' || p.type === 'reasoning' || p.type === 'refusal') chars += p.text.length;
      else if (p.type === 'tool_call') chars += p.arguments.length;
      else if (p.type === 'tool_result') chars += typeof p.content === 'string' ? p.content.length : JSON.stringify(p.content).length;
      else chars += 1_000; // an image or a document: a flat guess
    }
  }
  for (const t of ir.tools ?? []) chars += JSON.stringify(t.parameters).length + t.name.length;
  return Math.ceil(chars / 4);
}

/**
 * Rewrites the asked model by prompt size and says why in `x-route`.
 *
 * @example
 * ```ts
 * pipeline: [routeBySize({ model: 'auto', maxSmallTokens: 1000, small: 'small', large: 'long' })]
 * ```
 */
export function routeBySize(opts: RouteBySizeOptions) {
  const asked = opts.model ?? 'auto';
  return definePlugin({
    name: 'route-by-size',
    enforce: 'pre', // must run before `models` resolves the name
    async middleware(ctx, next) {
      const req = ctx.state.request;
      if (req.operation === 'chat' && req.model === asked) {
        const tokens = estimateTokens(req.ir); // the IR, whatever format the client spoke
        req.model = tokens <= opts.maxSmallTokens ? opts.small : opts.large;
        ctx.set('x-route', `${req.model}; prompt ~${tokens} tokens`);
      }
      await next();
    },
  });
}
