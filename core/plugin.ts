/**
 * The plugin contract: the context every plugin sees, routes, the runtime handed to `setup` and
 * `definePlugin`. Types only (plus an identity helper); the provider side is in provider.ts.
 *
 * @module
 */
import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Codec } from './codec.ts';
import type { Operation, WireFormat } from './ir.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { Store } from './store.ts';
import type { GatewayRequest, GatewayResult, Provider, ProviderCall, Target } from './provider.ts';

export type { GatewayRequest, GatewayResult, Provider, ProviderCall, Target } from './provider.ts';

/**
 * Per-request state. Plugins add their own fields by declaration merging:
 *
 * @example
 * ```ts
 * declare module 'switchyard' {
 *   interface GatewayState { tenant?: string }
 * }
 * ```
 */
export interface GatewayState {
  /** The wire format errors are rendered in (the inbound route's format; `openai` otherwise). */
  format: WireFormat;
  /** Request id (client `x-request-id` when safe, else generated); echoed on every response. */
  requestId: string;
  /** A pino child logger carrying the request id. */
  logger: Logger;
  /**
   * Aborted when the client disconnects. The provider call receives the value current at
   * dispatch, so a plugin may replace it for the rest of the pipeline (`failover` does, once per
   * attempt, with a signal that also follows the request deadline) and restore it afterwards.
   */
  signal: AbortSignal;
  /** The client request (set by the inbound route before the pipeline runs). */
  request: GatewayRequest;
  /** Ordered targets the request may be served by (set by `models`). */
  candidates: Target[];
  /** The target of the current attempt (set by `failover`, or the first candidate). */
  target?: Target;
  /** 1-based attempt number for the current target choice. */
  attempt: number;
  /** Every upstream attempt made so far (failover appends one per try). */
  attempts: AttemptRecord[];
  /** Name of the gateway key that authenticated the request (set by `auth`). */
  keyName?: string;
  /** Set by `dispatch`: what the upstream answered. Plugins after it may observe or replace it. */
  result?: GatewayResult;
  /** Filled as the request proceeds; read by logging/usage plugins. */
  usage?: import('./ir.ts').IRUsage;
  /** Epoch ms when the request arrived. */
  startedAt: number;
  /** Epoch ms when the first response byte (or stream event) went to the client. */
  firstByteAt?: number;
  /** Set when the request failed: before the response (rendered error) or inside a stream. */
  error?: { status: number; code: string };
  /** Codecs of this pipeline version, by wire format (for plugins that convert results). */
  codecs: ReadonlyMap<WireFormat, Codec>;
  /** The matched route (set by the core's router; absent for unknown paths). */
  route?: Route;
  /**
   * Registers a callback run once the response — including a stream — has fully ended (or the
   * client went away). The place for accounting that needs final usage.
   *
   * @example
   * ```ts
   * ctx.state.onDone((o) => ctx.state.logger.info({ tokens: o.usage?.outputTokens }, 'done')); // carries the request id
   * ```
   */
  onDone(fn: (outcome: RequestOutcome) => void | Promise<void>): void;
}

/** One upstream attempt, as failover records it (no bodies, no keys). */
export interface AttemptRecord {
  provider: string;
  model: string;
  /** HTTP status the attempt ended with (upstream or mapped), absent when it succeeded with a stream. */
  status?: number;
  /** Error code when it failed (`upstream_timeout`, `rate_limit_exceeded` ...). */
  code?: string;
  durationMs: number;
}

/** How a request ended, handed to `onDone` callbacks. */
export interface RequestOutcome {
  status: number;
  /** The client went away before the response finished. */
  aborted: boolean;
  durationMs: number;
  /** Time to first byte for the client, when any byte was sent. */
  ttfbMs?: number;
  usage?: import('./ir.ts').IRUsage;
  /** The failure, if the request failed (also for errors inside a stream). */
  error?: { status: number; code: string };
}

/** The Koa context every plugin middleware receives (closed: no `any` index signature). */
export type GatewayContext = ParameterizedContext<GatewayState, {}>;

/** An onion step: code before `await next()` runs on the way in, after it on the way out. */
export type Middleware = (ctx: GatewayContext, next: () => Promise<void>) => Promise<void>;

/** A route handler; `params` holds the path parameters. */
export type RouteHandler = (ctx: GatewayContext & { params: Record<string, string> }) => Promise<void> | void;

/**
 * Declares an inference endpoint: the core reads the JSON body (size-limited), builds the
 * {@link GatewayRequest}, runs the pipeline and answers in `format`.
 */
export interface InboundSpec {
  format: WireFormat;
  /** What the endpoint does; a function when one path serves several (Gemini's `model:method`). */
  operation: Operation | ((ctx: GatewayContext & { params: Record<string, string> }) => Operation | undefined);
  /** The asked model when it is not `body.model` (Gemini: from the URL). */
  model?(ctx: GatewayContext & { params: Record<string, string> }, body: Record<string, unknown>): string | undefined;
  /** Whether it streams when that is not `body.stream === true` (Gemini: the URL). */
  stream?(ctx: GatewayContext & { params: Record<string, string> }, body: Record<string, unknown>): boolean;
  /** Cheap shape checks that must hold even on the passthrough path; throw a 400 GatewayError. */
  validate?(body: Record<string, unknown>): void;
}

/** An HTTP route a plugin adds: an inference endpoint (`inbound`) or a plain handler. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** A @koa/router path, e.g. `/admin/sessions/:id`. */
  path: string;
  /** Plain routes answer here. Inbound routes may use it to post-process (rarely needed). */
  handler?: RouteHandler;
  inbound?: InboundSpec;
  /** `admin` routes are protected by the admin guard (see the auth plugin). @default 'public' */
  access?: 'public' | 'admin';
  /** Wire format for errors on this route (inbound routes use theirs). @default 'openai' */
  errorFormat?: WireFormat;
  /**
   * A health probe or metrics scrape: its access line is written at `debug` when it succeeds
   * (a load balancer probing every few seconds would otherwise fill the log); a failed one
   * (`/ready` 503, a refused scrape) stays at `info`. @default false
   */
  probe?: boolean;
}


/** What a plugin's `setup` receives on each config load. */
export interface GatewayRuntime {
  /** A child logger named after the plugin. */
  logger: Logger;
  /** The gateway's store, namespaced by plugin name; survives reloads (and restarts when durable). */
  store: Store;
  /** The gateway store without a namespace (for state shared between plugins, e.g. circuits). */
  sharedStore: Store;
  /** The resolved config of this pipeline version. */
  config: import('./config.ts').ResolvedConfig;
  /** The core's upstream dispatcher. */
  dispatcher: Dispatcher;
  /** Asks the gateway to reload its config (same as `POST /admin/reload`). */
  reload(reason?: string): Promise<{ ok: boolean; version: number; error?: string }>;
  /** Aborted when this pipeline version is closed. */
  signal: AbortSignal;
  /**
   * Every plugin of this pipeline version, in request order (built-ins included), so plugins
   * can cooperate — e.g. the routing API runs each routing plugin's `plan` as a dry run.
   */
  plugins: readonly Plugin[];
  /** The gateway's metrics registry (get-or-create: series survive reloads). */
  metrics: MetricsRegistry;
  /**
   * Registers a callback run for every request served by this pipeline version once it has
   * fully ended (after the access line), including requests rejected before the pipeline ran.
   *
   * @example
   * ```ts
   * setup(runtime) { runtime.onRequestDone((ctx, o) => { if (o.aborted) aborts.inc(); }); }
   * ```
   */
  onRequestDone(fn: (ctx: GatewayContext, outcome: RequestOutcome) => void): void;
  /** The gateway's state: shutting down (readiness), the serving version, what is in flight. */
  status(): GatewayStatus;
}

/** What {@link GatewayRuntime.status} reports. */
export interface GatewayStatus {
  /** Shutdown has begun: `/ready` answers 503, in-flight work drains. */
  closing: boolean;
  /** Id of the pipeline version serving new requests. */
  version: number;
  /** Inference requests in progress (streams included). */
  inflight: number;
  /** Streamed responses currently open. */
  streams: number;
}

/** A gateway plugin: a value made by a factory (see DESIGN.md § Plugins). */
export interface Plugin {
  /** Unique in a pipeline, kebab-case, e.g. `rate-limit`. */
  name: string;
  /** Tier, as in Vite: `pre` plugins run before normal ones, `post` after. */
  enforce?: 'pre' | 'post';
  /** The onion step, run for every inference request. */
  middleware?: Middleware;
  /** Extra endpoints. */
  routes?: Route[];
  /** A wire format's codec (format plugins only): used to convert to and from this format. */
  codec?: Codec;
  /** Guards routes declared with `access: 'admin'` (the auth plugin provides one). */
  adminGuard?: Middleware;
  /** Secret values this plugin holds (e.g. gateway keys): censored in every log line. */
  secrets?: string[];
  setup?(runtime: GatewayRuntime): void | Promise<void>;
  close?(): void | Promise<void>;
}

/**
 * Identity helper that gives a plugin object full type inference.
 *
 * @example
 * ```ts
 * export const tagTenant = () => definePlugin({
 *   name: 'tag-tenant',
 *   async middleware(ctx, next) { ctx.set('x-tenant', String(ctx.get('x-tenant'))); await next(); },
 * });
 * ```
 */
export function definePlugin<T extends Plugin>(plugin: T): T {
  return plugin;
}
