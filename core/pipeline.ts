/**
 * A pipeline version: one loaded config compiled into started plugins, a composed onion ending in
 * `dispatch`, and a router. Immutable once built; a reload builds the next one beside it.
 *
 * @module
 */
import Router from '@koa/router';
import type { Middleware as KoaMiddleware } from 'koa';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { ResolvedConfig } from './config.ts';
import { ConfigError, GatewayError } from './errors.ts';
import { respond, type CodecRegistry } from './exchange.ts';
import { createRequest } from './request.ts';
import type { Codec } from './codec.ts';
import type { WireFormat } from './ir.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { GatewayContext, GatewayRuntime, Middleware, Plugin, RequestOutcome, Route } from './plugin.ts';
import { readJsonBody } from './body.ts';
import { compose } from './compose.ts';
import { dispatch } from './dispatch.ts';
import type { Store } from './store.ts';

/** Plugins the gateway adds around the user's pipeline (made fresh for every version). */
export interface Builtins {
  /** Always present (inbound formats, admin, health) unless the user's pipeline has the same name. */
  always: Plugin[];
  /** Inserted at the head of the normal tier when the pipeline has no plugin of that name (e.g. `models`). */
  ensure: Plugin[];
  /** Used as the normal tier when the config has no `pipeline` at all. */
  defaults: Plugin[];
}

/** What a version needs from the gateway that owns it. */
export interface VersionDeps {
  id: number;
  logger: Logger;
  store: Store;
  dispatcher: Dispatcher;
  builtins: Builtins;
  metrics: MetricsRegistry;
  reload: GatewayRuntime['reload'];
  status: GatewayRuntime['status'];
}

/** A started pipeline version. */
export interface PipelineVersion {
  readonly id: number;
  readonly config: ResolvedConfig;
  readonly plugins: readonly Plugin[];
  readonly codecs: CodecRegistry;
  /** Koa middleware serving this version's routes. */
  readonly handle: KoaMiddleware;
  /** Requests (and streams) still running on this version. */
  inflight: number;
  /** Runs the `onRequestDone` callbacks plugins registered (called once per finished request). */
  observe(ctx: GatewayContext, outcome: RequestOutcome): void;
  /** Closes the plugins now (call once drained). */
  close(): Promise<void>;
}

/**
 * The final plugin order. Within each tier (pre, normal, post) the user's plugins come first in
 * config order, then the built-ins of that tier; `ensure` built-ins (e.g. `models`) head the
 * normal tier. Route-only built-ins have no middleware, so their place changes nothing.
 */
export function orderPlugins(config: ResolvedConfig, builtins: Builtins): Plugin[] {
  const user = config.pipelineGiven ? [...config.pipeline] : [...builtins.defaults];
  const names = new Set(user.map((p) => p.name));
  const always = builtins.always.filter((p) => !names.has(p.name));
  const ensured = builtins.ensure.filter((p) => !names.has(p.name));
  const tier = (list: Plugin[], t: Plugin['enforce']) => list.filter((p) => p.enforce === t);
  const normal = (list: Plugin[]) => list.filter((p) => p.enforce !== 'pre' && p.enforce !== 'post');
  return [
    ...tier(user, 'pre'),
    ...tier(always, 'pre'),
    ...ensured,
    ...normal(user),
    ...normal(always),
    ...tier(user, 'post'),
    ...tier(always, 'post'),
  ];
}

/**
 * Starts every plugin (`setup`), composes the onion and builds the router. If any `setup`
 * throws, the plugins already started are closed and a ConfigError names the plugin.
 */
export async function buildVersion(config: ResolvedConfig, deps: VersionDeps): Promise<PipelineVersion> {
  const plugins = orderPlugins(config, deps.builtins);
  const abort = new AbortController();
  const started: Plugin[] = [];
  const observers: Array<(ctx: GatewayContext, o: RequestOutcome) => void> = [];
  const close = async () => {
    abort.abort();
    for (const p of [...started].reverse()) {
      try {
        await p.close?.();
        if (p.close) deps.logger.info({ plugin: p.name, version: deps.id }, 'plugin closed');
      } catch (err) {
        deps.logger.warn({ plugin: p.name, err: String(err) }, 'plugin close failed');
      }
    }
  };
  for (const p of plugins) {
    try {
      await p.setup?.({
        logger: deps.logger.child({ plugin: p.name }),
        store: deps.store.namespace(p.name),
        sharedStore: deps.store,
        config,
        dispatcher: deps.dispatcher,
        reload: deps.reload,
        status: deps.status,
        metrics: deps.metrics,
        onRequestDone: (fn) => void observers.push(fn),
        signal: abort.signal,
        plugins,
      });
      started.push(p);
      if (p.setup) deps.logger.info({ plugin: p.name, version: deps.id }, 'plugin started');
    } catch (err) {
      await close();
      throw new ConfigError(`${config.path || 'config'}: plugin "${p.name}" failed to start: ${(err as Error)?.message ?? err}`, { cause: err });
    }
  }
  const codecs = new Map<WireFormat, Codec>();
  for (const p of plugins) if (p.codec) codecs.set(p.codec.format, p.codec);
  const layers = plugins.filter((p) => p.middleware);
  const run = compose([...layers.map((p) => p.middleware!), dispatch(config, deps.dispatcher)], layers.map((p) => p.name));
  const guards = plugins.filter((p) => p.adminGuard).map((p) => p.adminGuard!);
  const router = new Router();
  // Static paths (all the inference routes) are found by map lookups, by path then method (no key
  // string built and hashed per request); the router matches the rest (parameters, trailing
  // slashes, HEAD for GET) and anything the maps do not hold.
  const exact = new Map<string, Map<string, RouteRunner>>();
  for (const p of plugins) {
    for (const r of p.routes ?? []) {
      const runner = addRoute(router, r, { run, codecs, guards, config });
      if (!STATIC_PATH.test(r.path)) continue;
      let byMethod = exact.get(r.path);
      if (!byMethod) exact.set(r.path, (byMethod = new Map()));
      if (!byMethod.has(r.method)) byMethod.set(r.method, runner);
    }
  }
  const routed = router.routes() as unknown as KoaMiddleware;
  const routes: KoaMiddleware = (ctx, next) => {
    const runner = exact.get(ctx.path)?.get(ctx.method);
    if (!runner) return routed(ctx, next);
    (ctx as unknown as { params: Record<string, string> }).params = {};
    return runner(ctx);
  };
  const observe = (ctx: GatewayContext, outcome: RequestOutcome) => {
    for (const fn of observers) {
      try {
        fn(ctx, outcome);
      } catch (err) {
        ctx.state.logger.warn({ err: String(err) }, 'onRequestDone callback failed');
      }
    }
  };
  return { id: deps.id, config, plugins, codecs, handle: routes, inflight: 0, observe, close };
}

const STATIC_PATH = /^[A-Za-z0-9_\-./]+$/;

interface RouteDeps {
  run: (ctx: GatewayContext) => Promise<void>;
  codecs: CodecRegistry;
  guards: Middleware[];
  config: ResolvedConfig;
}

type RouteRunner = (ctx: KoaParameterizedContext) => Promise<void>;
type KoaParameterizedContext = Parameters<KoaMiddleware>[0];

/** Registers a route on the router; returns its handler. */
function addRoute(router: Router, r: Route, d: RouteDeps): RouteRunner {
  const method = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'patch';
  const run: RouteRunner = async (koaCtx) => {
    const ctx = koaCtx as unknown as GatewayContext & { params: Record<string, string> };
    ctx.state.format = r.inbound?.format ?? r.errorFormat ?? 'openai';
    ctx.state.route = r;
    if (r.access === 'admin') await adminGuard(ctx, d.guards);
    if (!r.inbound) return r.handler?.(ctx);
    const spec = r.inbound;
    const operation = typeof spec.operation === 'function' ? spec.operation(ctx) : spec.operation;
    if (!operation) throw new GatewayError('not_found', `no route for ${ctx.method} ${ctx.path}`, { status: 404 });
    const { body, text } = await readJsonBody(ctx, d.config.server.bodyLimit);
    spec.validate?.(body);
    const model = spec.model ? spec.model(ctx, body) : body.model;
    if (typeof model !== 'string' || !model) {
      throw new GatewayError('invalid_request', 'you must provide a model parameter', { status: 400, param: 'model' });
    }
    ctx.state.request = createRequest(
      {
        format: spec.format,
        operation,
        model,
        stream: spec.stream ? spec.stream(ctx, body) : body.stream === true,
        body,
        text,
        headers: ctx.headers,
        // Koa parses through URLSearchParams into a per-request cache: only when there is a query
        query: ctx.querystring ? (ctx.query as Record<string, string>) : {},
      },
      d.codecs.get(spec.format),
    );
    await d.run(ctx);
    if (!ctx.state.result) throw new GatewayError('no_result', 'the pipeline produced no response', { status: 500 });
    respond(ctx, ctx.state.result, d.codecs, { keepAliveMs: d.config.server.sseKeepAliveMs });
    if (r.handler) await r.handler(ctx); // no await (a turn of its own) for nothing
  };
  router[method](r.path, run);
  return run;
}

/** Admin routes: the configured guards, or loopback-only when no plugin provides a guard. */
async function adminGuard(ctx: GatewayContext, guards: Middleware[]): Promise<void> {
  if (!guards.length) {
    const ip = ctx.req.socket.remoteAddress ?? '';
    if (ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1') return;
    throw new GatewayError('forbidden', 'admin endpoints are loopback-only until an admin key is configured', { status: 403 });
  }
  await compose([...guards, async () => {}])(ctx);
}
