/**
 * The abort sources the gateway creates for every request (the client's, each failover
 * attempt's): a hook list to listen with instead of EventTarget listeners (Node's
 * `addEventListener` + `removeEventListener` on an AbortSignal cost about 0.5 µs per pair), and a
 * real AbortSignal made only when something reads it. Plugins reading `ctx.state.signal` or a
 * provider reading `call.signal` get a real AbortSignal, as before.
 *
 * @module
 */

const SOURCE = Symbol('switchyard.abort.source');

type Hook = (reason: unknown) => void;
/** What runs on abort: a function, or another source to abort with the same reason (no closure). */
type Follower = Hook | Abort;
type Tagged = AbortSignal & { [SOURCE]?: Abort };

/**
 * An abort source whose `AbortSignal` is made only when something reads `signal`. The core and
 * the built-in plugins listen through {@link onAbort} (a hook list) and read `aborted`/`reason`,
 * so a request that is never aborted and whose signal nobody reads makes no AbortController at
 * all (two real controllers per request, the client's and the failover attempt's, measured side
 * by side: 13 µs, 5% of the gateway's CPU per request). A signal read once made is a real
 * AbortSignal (event listeners, `throwIfAborted`, `AbortSignal.any`), aborted with the same
 * reason, its listeners running before the hooks.
 *
 * @example
 * ```ts
 * const abort = new Abort();
 * const off = onAbort(abort, () => upstream.destroy());
 * abort.abort(); // upstream.destroy() runs; abort.signal.aborted === true
 * ```
 */
export class Abort {
  #aborted = false;
  #reason: unknown = undefined;
  #hooks: Follower[] | undefined = undefined;
  #controller: AbortController | undefined = undefined;

  /** True once aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The reason given to `abort` (an `AbortError` DOMException when none was). */
  get reason(): unknown {
    return this.#reason;
  }

  /** A real AbortSignal for this source, made on first read (already aborted if this is). */
  get signal(): AbortSignal {
    let c = this.#controller;
    if (!c) {
      c = this.#controller = new AbortController();
      (c.signal as Tagged)[SOURCE] = this;
      if (this.#aborted) c.abort(this.#reason);
    }
    return c.signal;
  }

  /** Aborts once: the signal's listeners (if it was made), then the hooks. */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason !== undefined ? reason : new DOMException('This operation was aborted', 'AbortError');
    this.#controller?.abort(this.#reason);
    const hooks = this.#hooks;
    this.#hooks = undefined;
    if (!hooks) return;
    for (const h of hooks) {
      try {
        if (h instanceof Abort) h.abort(this.#reason);
        else h(this.#reason);
      } catch (err) {
        // as Node does for a throwing event listener: reported, not thrown at the aborter
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  /** @internal {@link onAbort} and {@link follow} for this source. */
  hook(fn: Follower): () => void {
    const hooks = (this.#hooks ??= []);
    hooks.push(fn);
    return () => {
      const i = this.#hooks?.indexOf(fn) ?? -1;
      if (i >= 0) this.#hooks!.splice(i, 1);
    };
  }
}

/** Where the core expects a signal: one of its own sources (signal maybe not made yet) or any AbortSignal. */
export type AbortLike = Abort | AbortSignal;

/**
 * The AbortSignal of `source` (made now for an {@link Abort} whose signal nobody read yet).
 *
 * @example
 * ```ts
 * await sleep(ms, undefined, { signal: signalOf(client) });
 * ```
 */
export function signalOf(source: AbortLike): AbortSignal {
  return source instanceof Abort ? source.signal : source;
}

/**
 * Runs `fn` once when `source` aborts — through the hook list when the gateway made it (an
 * {@link Abort}, or a signal read from one), else as an ordinary `abort` listener. Returns the
 * function that removes it. Not for an already aborted source (check `aborted` first).
 *
 * @example
 * ```ts
 * const off = onAbort(client, (reason) => attempt.abort(reason));
 * try { await next(); } finally { off(); }
 * ```
 */
export function onAbort(source: AbortLike, fn: Hook): () => void {
  const own = ownSource(source);
  if (own) return own.hook(fn);
  const signal = source as AbortSignal; // not an Abort: ownSource would have returned it
  const listener = () => fn(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * Aborts `child` (with the same reason) when `parent` aborts; returns the function that stops
 * following. An {@link Abort} parent keeps the child in its hook list, with no closure. Not for
 * an already aborted parent (check `aborted` first).
 *
 * @example
 * ```ts
 * const attempt = new Abort();
 * const unfollow = follow(attempt, client); // the client going away ends the attempt too
 * ```
 */
export function follow(child: Abort, parent: AbortLike): () => void {
  const own = ownSource(parent);
  if (own) return own.hook(child);
  return onAbort(parent, (reason) => child.abort(reason));
}

/** The gateway's own source behind `source` (itself, or the one a signal was read from), if any. */
function ownSource(source: AbortLike): Abort | undefined {
  return source instanceof Abort ? source : (source as Tagged)[SOURCE];
}

/**
 * What undici needs of a signal (`addEventListener`/`removeEventListener` and `reason`), bound
 * to `signal` through {@link onAbort}: undici calls these rather than Node's EventTarget when
 * the object has no `aborted` property. Give undici the signal itself when it is aborted
 * already, so it fails at once as before.
 *
 * @example
 * ```ts
 * await dispatcher.request({ ...opts, signal: signal.aborted ? signalOf(signal) : upstreamSignal(signal) });
 * ```
 */
export function upstreamSignal(signal: AbortLike): { reason: unknown; addEventListener(type: 'abort', fn: () => void): void; removeEventListener(type: 'abort', fn: () => void): void } {
  let off: (() => void) | undefined;
  const s = {
    reason: undefined as unknown,
    addEventListener(_type: 'abort', fn: () => void) {
      off?.();
      off = onAbort(signal, (reason) => {
        s.reason = reason;
        off = undefined;
        fn();
      });
    },
    removeEventListener() {
      off?.();
      off = undefined;
    },
  };
  return s;
}
