/**
 * The onion: plugin middleware composed into one function, each layer's `next()` running the
 * rest. The core's own rather than koa-compose, which forbids calling `next()` twice.
 *
 * @module
 */
import { GatewayError } from './errors.ts';
import type { GatewayContext, Middleware } from './plugin.ts';

/**
 * Composes middleware into one onion. Unlike koa-compose, a middleware may call `next()` more
 * than once (failover calls it once per attempt) — but never while a previous call is running.
 * A GatewayError thrown by a layer named in `names` is tagged with that name (for the logs).
 *
 * @example
 * ```ts
 * const run = compose([auth.middleware!, failover.middleware!, dispatch], ['auth', 'failover']);
 * await run(ctx);
 * ```
 */
export function compose(fns: Middleware[], names: ReadonlyArray<string | undefined> = []): (ctx: GatewayContext) => Promise<void> {
  return (ctx) => step(fns, names, 0, ctx);
}

const NEXT_AGAIN = 'next() called again before the previous call finished; you are probably missing an await';

/** Runs layer `i`; its `next` runs layer `i + 1`. One promise reaction per layer, no async frame. */
function step(fns: Middleware[], names: ReadonlyArray<string | undefined>, i: number, ctx: GatewayContext): Promise<void> {
  const fn = fns[i];
  if (!fn) return Promise.resolve();
  let running = false;
  let out: unknown;
  try {
    out = fn(ctx, () => {
      if (running) return Promise.reject(new Error(NEXT_AGAIN));
      running = true;
      return step(fns, names, i + 1, ctx).then(
        () => {
          running = false;
        },
        (err: unknown) => {
          running = false;
          throw tag(err, names[i + 1]);
        },
      );
    });
  } catch (err) {
    return Promise.reject(tag(err, names[i]));
  }
  // a plain function that returned nothing is done; another library's thenable is adopted
  const done = out instanceof Promise ? (out as Promise<void>) : Promise.resolve(out as undefined);
  return i === 0 && names[0] ? done.then(undefined, (err: unknown) => Promise.reject(tag(err, names[0]))) : done;
}

/** Names the plugin on a GatewayError that does not name one yet. */
function tag(err: unknown, plugin: string | undefined): unknown {
  if (plugin && err instanceof GatewayError && !err.plugin) err.plugin = plugin;
  return err;
}

