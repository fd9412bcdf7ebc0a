/**
 * The Koa app: one boundary middleware that gives each request its id, abort signal, logger and
 * pipeline version, renders every error in the caller's wire format, and writes the access line.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { Abort } from './abort.ts';
import type { ActiveRequests } from './active.ts';
import { GatewayError, publicMessage, toGatewayError } from './errors.ts';
import { GatewayKoa } from './koa-app.ts';
import { laterWriter, type LaterWriter } from './log-line.ts';
import type { GatewayContext, GatewayState, RequestOutcome } from './plugin.ts';
import { RequestState } from './request-state.ts';
import { dropStream, isStreaming, startStream } from './stream-out.ts';
import type { PipelineVersion } from './pipeline.ts';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the app needs from the gateway. */
export interface AppDeps {
  logger: Logger;
  /** The version new requests start on. */
  current(): PipelineVersion;
  /** Called when a request on `version` has fully finished (response or stream closed). */
  released(version: PipelineVersion): void;
  /** Requests in progress, owned by the gateway (in-flight and open-stream counts). */
  active: ActiveRequests<GatewayContext>;
  /** True once shutdown began: responses then ask clients to close their connection. */
  closing(): boolean;
}

/**
 * Counts what `active` holds: inference requests in flight and streamed responses still open.
 *
 * @example
 * ```ts
 * const { inflight, streams } = countActive(active);
 * ```
 */
export function countActive(active: Iterable<GatewayContext>): { inflight: number; streams: number } {
  let inflight = 0;
  let streams = 0;
  for (const ctx of active) {
    if (ctx.state.route?.inbound) inflight++;
    if (isStreaming(ctx)) streams++;
  }
  return { inflight, streams };
}

/**
 * Builds the Koa app. Requests capture the current pipeline version on arrival and finish on it,
 * whatever reloads happen meanwhile.
 */
export function createApp(deps: AppDeps): Koa<GatewayState> {
  const app = new GatewayKoa<GatewayState>();
  // The access line's fields are all scalars with known names, none a redacted path. With the
  // gateway's own logger it is serialized here and framed by the logger's line writer; with an
  // embedder's logger it goes through this child, which skips the path pass (half its cost).
  // Either way every line keeps the by-value pass (declared secrets, key shapes).
  const access: AccessLog = { logger: deps.logger.child({}, { redact: [] }), later: laterWriter(deps.logger) };
  app.proxy = false;
  app.silent = true;
  app.use(async function boundary(koaCtx, next) {
    const ctx = koaCtx as unknown as GatewayContext;
    const asked = ctx.req.headers['x-request-id']; // not ctx.get: it lower-cases the name per call
    const requestId = typeof asked === 'string' && SAFE_ID.test(asked) ? asked : randomUUID();
    ctx.res.setHeader('x-request-id', requestId); // Koa's ctx.set builds three arrays per call
    if (deps.closing()) ctx.set('connection', 'close'); // draining: let the client reconnect elsewhere
    const abort = new Abort();
    const version = deps.current();
    version.inflight++;
    deps.active.add(ctx);
    const state = new RequestState(requestId, deps.logger, abort, version.codecs);
    (koaCtx as { state: unknown }).state = state;
    // Exactly once per request, when the response (or stream) has ended or the client went away
    // — and after the pipeline settled, so an aborted request still reports its attempts. A
    // plugin that ignores the abort signal must not cost the request its access line: 5 s at most.
    let settled = false;
    let closed: boolean | undefined; // the response closed before the pipeline settled (aborted?)
    let bound: NodeJS.Timeout | undefined;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (closed === undefined) return;
      clearTimeout(bound);
      finish(ctx, state, closed, version, deps, access);
    };
    // `on`, not `once` (a response closes once): no wrapper bound and removed per request
    ctx.res.on('close', () => {
      const aborted = !ctx.res.writableFinished;
      if (aborted) abort.abort();
      if (settled) return finish(ctx, state, aborted, version, deps, access); // the usual case
      closed = aborted;
      bound = setTimeout(settle, 5_000).unref();
    });
    try {
      await version.handle(koaCtx as never, next);
      if (!startStream(ctx) && ctx.body === undefined && ctx.status === 404) {
        throw new GatewayError('not_found', `no route for ${ctx.method} ${ctx.path}`, { status: 404 });
      }
    } catch (err) {
      // A plugin failed after a streamed answer was set (before the route wrote it, or after):
      // the error goes out instead, and the upstream stream nobody will read is released.
      const streamed = dropStream(ctx) || ctx.state.result?.type === 'sse' || ctx.state.result?.type === 'ir-stream';
      if (streamed) abort.abort(new Error('the pipeline failed after a streamed answer was set'));
      renderError(ctx, err, version);
    } finally {
      settle();
    }
  });
  return app;
}

/** Where the access line goes: the child logger, and the root logger's line writer when it has one. */
interface AccessLog {
  logger: Logger;
  later: LaterWriter | undefined;
}

/** The end of a request: access line, observers, `onDone` callbacks, then the version is released. */
function finish(ctx: GatewayContext, s: RequestState, aborted: boolean, version: PipelineVersion, deps: AppDeps, access: AccessLog): void {
  const outcome: RequestOutcome = {
    status: aborted && !ctx.headerSent ? 499 : ctx.res.statusCode,
    aborted,
    durationMs: Date.now() - s.startedAt,
    ttfbMs: s.firstByteAt === undefined ? undefined : s.firstByteAt - s.startedAt,
    usage: s.usage,
    error: s.error,
  };
  accessLog(ctx, outcome, access, deps.logger);
  version.observe(ctx, outcome);
  deps.active.delete(ctx);
  const pending = s.runDone(outcome);
  if (!pending) return deps.released(version);
  // The version (and its plugins) may close once released: let the callbacks finish first,
  // but never wait on a stuck one for more than 10 s.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000).unref()));
  void Promise.race([pending, stuck]).then(() => {
    clearTimeout(timer);
    deps.released(version);
  });
}

function renderError(ctx: GatewayContext, err: unknown, version: PipelineVersion): void {
  const e = toGatewayError(err);
  const log = ctx.state.logger;
  ctx.state.error = { status: e.status, code: e.code };
  if (e.status >= 500 && !e.expose && e.code !== 'client_aborted') log.error({ err: e.cause ?? e, plugin: e.plugin }, 'request failed');
  else log.debug({ code: e.code, status: e.status, plugin: e.plugin }, 'request rejected');
  if (ctx.headerSent || !ctx.writable) return; // streams render their own in-band errors
  const codec = version.codecs.get(ctx.state.format);
  const irErr = { status: e.status, message: publicMessage(e), code: e.code, ...(e.param ? { param: e.param } : {}) };
  const rendered = codec
    ? codec.renderError(irErr)
    : { status: e.status, body: { error: { message: irErr.message, type: 'error', code: e.code } } };
  ctx.status = rendered.status;
  for (const k in e.headers) ctx.set(k, e.headers[k]!);
  ctx.set('content-type', 'application/json; charset=utf-8'); // before the body: no MIME lookup
  ctx.body = rendered.body;
}

/**
 * Number of upstream attempts a request made: failover records each one; without failover the
 * core's dispatch made one exactly when it chose a target.
 *
 * @example
 * ```ts
 * attemptCount(ctx.state); // 2 after one failover
 * ```
 */
export function attemptCount(s: Pick<GatewayState, 'attempts' | 'target'>): number {
  return s.attempts.length || (s.target ? 1 : 0);
}

/**
 * Failed attempts at `warn` (provider and status, never bodies), then the one access line — at
 * `debug` for a successful probe or scrape (`Route.probe`), else at `info`.
 */
function accessLog(ctx: GatewayContext, o: RequestOutcome, { logger, later }: AccessLog, root: Logger): void {
  const s = ctx.state;
  if (logger.level !== root.level) logger.level = root.level; // a reload may change the level
  s.attempts.forEach((a, i) => {
    if (a.code || (a.status ?? 0) >= 400) {
      logger.warn({ requestId: s.requestId, attempt: i + 1, provider: a.provider, targetModel: a.model, status: a.status, code: a.code, durationMs: a.durationMs }, 'upstream attempt failed');
    }
  });
  const level = s.route?.probe && o.status < 400 ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const fields = {
    requestId: s.requestId,
    method: ctx.method,
    path: ctx.path,
    status: o.status,
    format: s.route?.inbound ? s.format : undefined,
    model: s.request?.model,
    provider: s.target?.provider,
    targetModel: s.target?.model,
    stream: s.request?.stream,
    attempts: attemptCount(s),
    keyName: s.keyName,
    inputTokens: o.usage?.inputTokens,
    outputTokens: o.usage?.outputTokens,
    durationMs: o.durationMs,
    ttfbMs: o.ttfbMs,
    error: o.error?.code,
    aborted: o.aborted,
  };
  if (later) later(level, fields, 'request');
  else logger[level](fields, 'request');
}
