/**
 * Writing a streamed answer to the client: the SSE text goes straight to the response with
 * `write()`, and the next chunk is pulled only once the socket took the last one (`drain`), so a
 * slow client holds the upstream back instead of filling memory.
 *
 * Koa would pipe a `ctx.body` stream with `stream.pipeline`; this skips that layer (a Readable
 * around the generator, pipeline's end-of-stream listeners, Koa's on-finished hook), which under
 * load kept every chunk of every open stream alive through young-generation collections.
 *
 * The route marks the stream with {@link sendStream}; the core's boundary starts it with
 * {@link startStream} once the whole pipeline has unwound (plugins may still set headers after
 * `next()`), or drops it with {@link dropStream} when the pipeline failed after all.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { GatewayContext } from './plugin.ts';

// On the context itself rather than in a WeakMap and WeakSet: an entry made and removed per
// stream gives each context an identity hash and churns the tables (which then kept contexts
// alive through scavenges, as a Set does: see active.ts).
const PENDING = Symbol('switchyard.stream.pending');
const OPEN = Symbol('switchyard.stream.open');
type Marked = { [PENDING]?: AsyncIterable<string> | undefined; [OPEN]?: boolean };

/**
 * Makes `source` the response body, written once the pipeline has unwound (`ctx.respond` is
 * false from now on: the core writes the body, not Koa). Set status and headers before.
 *
 * @example
 * ```ts
 * ctx.status = 200;
 * sendStream(ctx, events()); // the boundary calls startStream(ctx) after the pipeline
 * ```
 */
export function sendStream(ctx: GatewayContext, source: AsyncIterable<string>): void {
  ctx.respond = false;
  (ctx as Marked)[PENDING] = source;
}

/**
 * Starts writing the stream {@link sendStream} set, if any; true when one was started.
 *
 * @example
 * ```ts
 * await version.handle(ctx, next);
 * startStream(ctx);
 * ```
 */
export function startStream(ctx: GatewayContext): boolean {
  const m = ctx as Marked;
  const source = m[PENDING];
  if (!source) return false;
  m[PENDING] = undefined;
  m[OPEN] = true;
  void pump(ctx.res, source, ctx).finally(() => (m[OPEN] = false));
  return true;
}

/**
 * Forgets the stream {@link sendStream} set (the pipeline failed after it) and hands the
 * response back to Koa; true when there was one. The caller then releases the upstream (an
 * unstarted generator's `return()` does not reach the sources it would have read).
 *
 * @example
 * ```ts
 * catch (err) { if (dropStream(ctx)) abort.abort(); renderError(ctx, err); }
 * ```
 */
export function dropStream(ctx: GatewayContext): boolean {
  const m = ctx as Marked;
  if (!m[PENDING]) return false;
  m[PENDING] = undefined;
  ctx.respond = true;
  return true;
}

/**
 * True while `ctx` has a streamed answer set or being written.
 *
 * @example
 * ```ts
 * if (isStreaming(ctx)) streams++;
 * ```
 */
export function isStreaming(ctx: GatewayContext): boolean {
  const m = ctx as Marked;
  return m[OPEN] === true || m[PENDING] !== undefined;
}

async function pump(res: ServerResponse, source: AsyncIterable<string>, ctx: GatewayContext): Promise<void> {
  try {
    for await (const chunk of source) {
      if (res.destroyed) break; // the client left: leaving the loop closes the source
      if (!res.write(chunk) && !(await drained(res))) break;
    }
    if (!res.destroyed) res.end();
  } catch (err) {
    // the relays end a failed stream in-band; anything thrown here is unexpected: cut it
    if (!res.destroyed) ctx.state.logger.error({ err }, 'stream failed');
    res.destroy();
  }
}

/** Resolves when `res` can take more (true) or has closed (false). */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed);
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
