/**
 * The gateway's Koa application: Koa as it is, except that a response whose body is bytes, a
 * string or JSON is ended directly, without the `on-finished` listeners Koa attaches to every
 * response before running the middleware.
 *
 * Those listeners (four on the response and its socket, each through an `AsyncResource`) were
 * the largest allocation site per request under the bench's load, and in the gateway they
 * report nothing: the core's boundary renders every error itself, streams bypass Koa
 * (`stream-out.ts`), and the app is silent. Every other body (a stream a plugin route sets, a
 * HEAD request, a status without a body, no body at all) still goes through Koa's own
 * `handleRequest`, listeners and response code included, so it behaves exactly as in Koa.
 *
 * {@link setBytesBody} is `ctx.body = bytes` for the answer relayed as the upstream sent it, with
 * the same outcome as Koa's setter but without what that setter does for any body (three header
 * lookups and a header set, each lower-casing a mixed-case name into a new string).
 *
 * @module
 */
import Koa from 'koa';
import type { ParameterizedContext } from 'koa';

type Ctx = ParameterizedContext;
type Handle = (ctx: Ctx, fnMiddleware: (ctx: Ctx) => Promise<void>) => Promise<void>;

/** Koa's own request handling (not in its type definitions; stable since Koa 2). */
const koaHandleRequest = (Koa.prototype as unknown as { handleRequest: Handle }).handleRequest;

/**
 * Koa with the direct response path described in the module comment. Use as `new Koa()`.
 *
 * @example
 * ```ts
 * const app = new GatewayKoa<GatewayState>();
 * app.use(boundary);
 * http.createServer(app.callback());
 * ```
 */
export class GatewayKoa<StateT = Koa.DefaultState> extends Koa<StateT> {
  /** @internal Called by Koa's `callback()` for every request. */
  handleRequest(ctx: Ctx, fnMiddleware: (ctx: Ctx) => Promise<void>): Promise<void> {
    ctx.res.statusCode = 404;
    return fnMiddleware(ctx).then(
      () => {
        try {
          if (endDirect(ctx)) return;
        } catch (err) {
          return ctx.onerror(err as Error); // as Koa: a body JSON cannot hold (a BigInt, a cycle) is a 500
        }
        // Koa's handleRequest starts by setting 404 again: its middleware puts the status back.
        const status = ctx.res.statusCode;
        return koaHandleRequest.call(this, ctx, () => {
          ctx.res.statusCode = status;
          return Promise.resolve();
        });
      },
      (err: unknown) => ctx.onerror(err as Error),
    );
  }
}

/**
 * Ends the response as Koa's `respond` would when that is simple — `respond = false` (nothing to
 * do), or a bytes, string or plain JSON body to a writable, non-HEAD response whose status has a
 * body. False for anything else, which Koa then handles.
 */
function endDirect(ctx: Ctx): boolean {
  if (ctx.respond === false) return true;
  const res = ctx.res;
  const code = res.statusCode;
  if (code === 204 || code === 205 || code === 304 || ctx.method === 'HEAD' || !ctx.writable) return false;
  const body: unknown = ctx.body;
  if (body === null || body === undefined) return false;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(body);
    return true;
  }
  const proto = typeof body === 'object' ? Object.getPrototypeOf(body) : undefined;
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false; // streams, Blobs, Responses...
  const json = JSON.stringify(body);
  if (!res.headersSent) ctx.length = Buffer.byteLength(json);
  res.end(json);
  return true;
}

/** Koa's response fields that `setBytesBody` writes (Koa's own, since Koa 2). */
interface KoaResponseFields {
  _body: unknown;
  _explicitStatus?: boolean;
}

/**
 * `ctx.body = bytes` as Koa's setter does it for a Buffer whose `content-type` is already set:
 * status 200 unless one was set explicitly, `content-length` unless `transfer-encoding` is set.
 * A context that already holds a body (say a stream a plugin set) goes through Koa's setter,
 * which releases it.
 *
 * @example
 * ```ts
 * ctx.res.setHeader('content-type', 'application/json; charset=utf-8');
 * setBytesBody(ctx, bytes); // ctx.body === bytes
 * ```
 */
export function setBytesBody(ctx: Pick<Ctx, 'response' | 'res' | 'body'>, bytes: Buffer): void {
  const r = ctx.response as unknown as KoaResponseFields;
  const res = ctx.res;
  if (r._body != null || res.headersSent || !res.hasHeader('content-type')) {
    ctx.body = bytes;
    return;
  }
  r._body = bytes;
  if (!r._explicitStatus) {
    r._explicitStatus = true;
    res.statusCode = 200;
  }
  if (!res.hasHeader('transfer-encoding')) res.setHeader('content-length', bytes.length);
}
