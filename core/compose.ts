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
 * A GatewayError thrown by a layer named in `names` is tagged with that name (for the logs); one
 * from an unnamed layer (the core's dispatch) gets the name of the nearest named layer around it.
 *
 * @example
 * ```ts
 * const run = compose([auth.middleware!, failover.middleware!, dispatch], ['auth', 'failover']);
 * await run(ctx);
 * ```
 */
export function compose(fns: Middleware[], names: ReadonlyArray<string | undefined> = []): (ctx: GatewayContext) => Promise<void> {
  const tags: Array<string | undefined> = [];
  for (let i = 0; i < fns.length; i++) tags.push(names[i] ?? tags[i - 1]);
  return (ctx) => step(fns, tags, 0, ctx);
}

const NEXT_AGAIN = 'next() called again before the previous call finished; you are probably missing an await';

/**
 * Runs layer `i`; its `next` runs layer `i + 1`. No async frame, and no promise of its own for a
 * layer that returns what its `next()` returned (most layers, on most requests): errors from
 * further in were named there. A layer that returns a promise of its own gets one reaction, which
 * names its errors.
 */
function step(fns: Middleware[], tags: ReadonlyArray<string | undefined>, i: number, ctx: GatewayContext): Promise<void> {
  const fn = fns[i];
  if (!fn) return Promise.resolve();
  let last: Promise<void> | undefined;
  let out: unknown;
  try {
    out = fn(ctx, () => (last = last === undefined ? step(fns, tags, i + 1, ctx) : again(last, () => step(fns, tags, i + 1, ctx))));
  } catch (err) {
    return Promise.reject(tag(err, tags[i]));
  }
  if (out === last && last !== undefined) return last;
  // a plain function that returned nothing is done; another library's thenable is adopted
  const done = out instanceof Promise ? (out as Promise<void>) : Promise.resolve(out as undefined);
  const name = tags[i];
  return name ? done.then(undefined, (err: unknown) => Promise.reject(tag(err, name))) : done;
}

const PENDING = Symbol('pending');

/**
 * A second `next()`: runs `run` if the previous call's promise had settled when it was made,
 * else rejects. `race` reacts to `previous` first, so a promise already settled wins over the
 * marker, and one still pending loses to it, even if it settles before the reactions run. Only
 * a layer that calls `next()` again (a retry) pays for this check.
 */
function again(previous: Promise<void>, run: () => Promise<void>): Promise<void> {
  return Promise.race([previous, PENDING]).then(
    (v) => (v === PENDING ? Promise.reject(new Error(NEXT_AGAIN)) : run()),
    () => run(),
  );
}

/** Names the plugin on a GatewayError that does not name one yet. */
function tag(err: unknown, plugin: string | undefined): unknown {
  if (plugin && err instanceof GatewayError && !err.plugin) err.plugin = plugin;
  return err;
}
