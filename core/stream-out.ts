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

const pending = new WeakMap<GatewayContext, AsyncIterable<string>>();
const open = new WeakSet<GatewayContext>();

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
  pending.set(ctx, source);
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
  const source = pending.get(ctx);
  if (!source) return false;
  pending.delete(ctx);
  open.add(ctx);
  void pump(ctx.res, source, ctx).finally(() => open.delete(ctx));
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
  if (!pending.delete(ctx)) return false;
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
  return open.has(ctx) || pending.has(ctx);
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
