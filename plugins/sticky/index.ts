/**
 * The `sticky` plugin: session stickiness and session context.
 *
 * A session key (the `X-Session-Id` header by default; another header, a body field such as
 * `metadata.user_id`, or a function of the context) binds the session, per asked model, to the
 * target that served it, with a TTL. Later requests put that target first. When it fails or its
 * circuit is open, `failover` proceeds as usual and the binding moves to the target that
 * succeeded — a dead provider is never pinned. Bindings live in the gateway store, so they
 * survive reloads (and are shared across instances on a shared store); concurrent requests
 * never lose each other's bindings (see `bindings.ts`).
 *
 * It also records the session's recent exchanges (bounded) and serves them at
 * `GET /context/:sessionId`; `DELETE` removes them. Place it before `failover`.
 *
 * @module
 */
import { ConfigError } from '../../core/errors.ts';
import { definePlugin, type GatewayContext, type Route } from '../../core/plugin.ts';
import type { Store } from '../../core/store.ts';
import { explain, type RoutingPlugin } from '../models/routing.ts';
import { createBindings, type Bindings, type Bound } from './bindings.ts';
import { lastUserText, tapAnswer, type Exchange, type TextSink } from './context.ts';

export type { Exchange } from './context.ts';

/** Where a session id comes from. */
export type SessionSource = { header: string } | { body: string } | ((ctx: GatewayContext) => string | undefined);

/** Options for {@link sticky}. */
export interface StickyOptions {
  /** The session id: a header, a dotted path into the request body, or a function. @default { header: 'x-session-id' } */
  session?: SessionSource;
  /**
   * How long a binding (and the recorded context) lives after its last use (a binding's expiry
   * is refreshed once it is older than a tenth of this). @default 3_600_000
   */
  ttlMs?: number;
  /** Session context recording, or `false` to keep bindings only. */
  context?:
    | false
    | {
        /** Exchanges kept per session (oldest dropped). @default 20 */
        maxExchanges?: number;
        /** Characters kept of each input and output text. @default 4000 */
        maxChars?: number;
        /** Who may read `/context/:sessionId`: `admin` (the admin guard) or anyone. @default 'admin' */
        access?: 'public' | 'admin';
      };
}

/** A session's binding for one asked model. */
export interface SessionBinding {
  /** The model name the client asked for. */
  model: string;
  provider: string;
  targetModel: string;
  boundAt: string;
  /** Last write of the binding: a use rewrites it once it is older than `ttlMs / 10`. */
  usedAt: string;
}

/** Everything stored about a session. */
export interface SessionInfo {
  session: string;
  bindings: SessionBinding[];
  exchanges: Exchange[];
}

/** The `sticky` plugin object: a routing step plus session lookups for the routing API. */
export interface StickyPlugin extends RoutingPlugin {
  getSession(id: string): Promise<SessionInfo | undefined>;
  /** Removes bindings and context; false when there was nothing. */
  deleteSession(id: string): Promise<boolean>;
}

function readPath(body: Record<string, unknown>, path: string): unknown {
  let v: unknown = body;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * Session stickiness and context, keyed by `X-Session-Id` unless configured otherwise.
 *
 * @example
 * ```ts
 * pipeline: [sticky({ session: { body: 'metadata.user_id' }, ttlMs: 30 * 60_000 }), failover()]
 * ```
 */
export function sticky(opts: StickyOptions = {}): StickyPlugin {
  const source: SessionSource = opts.session ?? { header: 'x-session-id' };
  const ttlMs = opts.ttlMs ?? 3_600_000;
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new ConfigError('sticky: "ttlMs" must be a positive number');
  const ctxOpts = opts.context === false ? undefined : { maxExchanges: 20, maxChars: 4000, access: 'admin' as const, ...opts.context };
  if (ctxOpts && !(Number.isInteger(ctxOpts.maxExchanges) && ctxOpts.maxExchanges > 0)) {
    throw new ConfigError('sticky: "context.maxExchanges" must be a positive integer');
  }
  let store: Store;
  let bindings: Bindings;
  const cKey = (id: string) => `c:${id}`;

  const sessionOf = (ctx: GatewayContext): string | undefined => {
    const req = ctx.state.request;
    let v: unknown;
    if (typeof source === 'function') v = source(ctx);
    else if ('header' in source) v = req.headers[source.header.toLowerCase()];
    else v = readPath(req.body, source.body);
    if (Array.isArray(v)) v = v[0];
    if (typeof v !== 'string') return undefined;
    const id = v.trim();
    return id && id.length <= 256 && !/[\u0000-\u001f]/.test(id) ? id : undefined;
  };

  /** The session of a request and its binding for the asked model (one store read). */
  const lookup = async (ctx: GatewayContext): Promise<{ id: string; bound?: Bound } | undefined> => {
    const id = sessionOf(ctx);
    return id ? { id, bound: await bindings.get(id, ctx.state.request.model) } : undefined;
  };

  const reorder = (ctx: GatewayContext, id: string, b: Bound | undefined) => {
    const list = ctx.state.candidates;
    const i = b ? list.findIndex((t) => t.provider === b.provider && t.model === b.model) : -1;
    if (i < 0) return;
    const t = list[i]!;
    ctx.state.candidates = [t, ...list.slice(0, i), ...list.slice(i + 1)];
    explain(ctx, t, 'sticky', i === 0 ? 'kept' : 'reordered', `session "${id}" is bound to this target${i ? '; moved first' : ''}`);
  };

  const routes: Route[] = [];
  const plugin: StickyPlugin = definePlugin({
    name: 'sticky',
    setup(runtime) {
      store = runtime.store;
      bindings = createBindings(store, ttlMs);
      const at = (name: string) => runtime.plugins.findIndex((p) => p.name === name);
      if (at('failover') >= 0 && at('failover') < at('sticky')) {
        throw new ConfigError('sticky: place it before "failover" in the pipeline (failover tries targets in the order sticky sets)');
      }
    },
    async plan(ctx: GatewayContext) {
      const s = await lookup(ctx);
      if (s) reorder(ctx, s.id, s.bound);
    },
    async middleware(ctx, next) {
      const s = await lookup(ctx);
      if (!s) return next();
      const { id, bound } = s;
      reorder(ctx, id, bound);
      let answer: TextSink | undefined;
      if (ctxOpts) {
        const input = lastUserText(ctx, ctxOpts.maxChars);
        ctx.state.onDone(async (o) => {
          const t = o.error && !answer ? undefined : ctx.state.target;
          const ex: Exchange = {
            at: ctx.state.startedAt,
            requestId: ctx.state.requestId,
            model: ctx.state.request.model,
            ...(t ? { provider: t.provider, targetModel: t.model } : {}),
            status: o.status,
            stream: ctx.state.request.stream,
            input,
            output: answer?.text ?? '',
            ...(o.usage ? { usage: o.usage } : {}),
            ...(o.error ? { error: o.error } : {}),
          };
          await store.push(cKey(id), ex, { max: ctxOpts.maxExchanges, ttlMs });
        });
      }
      await next();
      // The answer is in hand: a binding that cannot be written (store down) must not lose it.
      const t = ctx.state.target;
      if (t) await bindings.bind(id, ctx.state.request.model, t, bound).catch((err) => ctx.state.logger.warn({ err: String(err) }, 'sticky binding not saved'));
      if (ctxOpts) answer = tapAnswer(ctx, ctxOpts.maxChars);
    },
    async getSession(id: string) {
      const [bound, exchanges] = await Promise.all([bindings.all(id), store.list<Exchange>(cKey(id))]);
      if (!bound.length && !exchanges.length) return undefined;
      const iso = (ms: number) => new Date(ms).toISOString();
      const list = bound.map(([model, b]) => ({ model, provider: b.provider, targetModel: b.model, boundAt: iso(b.boundAt), usedAt: iso(b.usedAt) }));
      return { session: id, bindings: list, exchanges };
    },
    async deleteSession(id: string) {
      const [cleared, exchanges] = await Promise.all([bindings.clear(id), store.list(cKey(id))]);
      await store.delete(cKey(id));
      return cleared > 0 || exchanges.length > 0;
    },
    routes,
  });
  if (ctxOpts) {
    routes.push(
      {
        method: 'GET',
        path: '/context/:sessionId',
        access: ctxOpts.access,
        async handler(ctx) {
          const id = ctx.params.sessionId!;
          ctx.body = { session: id, exchanges: await store.list<Exchange>(cKey(id)) };
        },
      },
      {
        method: 'DELETE',
        path: '/context/:sessionId',
        access: ctxOpts.access,
        async handler(ctx) {
          const id = ctx.params.sessionId!;
          const had = (await store.list(cKey(id))).length > 0;
          await store.delete(cKey(id));
          ctx.body = { session: id, deleted: had };
        },
      },
    );
  }
  return plugin;
}
