/**
 * Abort signals the gateway creates for every request (the client's, each failover attempt's)
 * with a second way to listen: a hook list on the controller, instead of an EventTarget
 * listener on the signal. Node's `addEventListener` + `removeEventListener` on an AbortSignal
 * cost about 0.5 µs per pair, and a request used to make three pairs (failover linking an
 * attempt to the client, undici listening on the attempt's signal). This saves CPU only: what
 * survives a young-generation collection per request (`npm run bench:gc`) did not change. The
 * signals stay real AbortSignals: plugins see no difference.
 *
 * @module
 */

const CONTROLLER = Symbol('switchyard.abort.controller');

type Hook = (reason: unknown) => void;

/**
 * An AbortController whose abort also runs hooks added with {@link onAbort}.
 *
 * @example
 * ```ts
 * const ac = new HookedAbortController();
 * const off = onAbort(ac.signal, () => upstream.destroy());
 * off(); // once the upstream call is over
 * ```
 */
export class HookedAbortController extends AbortController {
  #hooks: Hook[] | undefined = undefined;

  constructor() {
    super();
    (this.signal as AbortSignal & { [CONTROLLER]?: HookedAbortController })[CONTROLLER] = this;
  }

  override abort(reason?: unknown): void {
    if (this.signal.aborted) return;
    super.abort(reason);
    const hooks = this.#hooks;
    this.#hooks = undefined;
    if (!hooks) return;
    for (const h of hooks) {
      try {
        h(this.signal.reason);
      } catch (err) {
        // as Node does for a throwing event listener: reported, not thrown at the aborter
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  /** @internal {@link onAbort} for this controller's signal. */
  hook(fn: Hook): () => void {
    const hooks = (this.#hooks ??= []);
    hooks.push(fn);
    return () => {
      const i = this.#hooks?.indexOf(fn) ?? -1;
      if (i >= 0) this.#hooks!.splice(i, 1);
    };
  }
}

/**
 * Runs `fn` once when `signal` aborts — through the controller's hook list when the gateway made
 * the signal, else as an ordinary `abort` listener. Returns the function that removes it. Not
 * for an already aborted signal (check `signal.aborted` first).
 *
 * @example
 * ```ts
 * const off = onAbort(ctx.state.signal, () => attempt.abort(ctx.state.signal.reason));
 * try { await next(); } finally { off(); }
 * ```
 */
export function onAbort(signal: AbortSignal, fn: Hook): () => void {
  const controller = (signal as AbortSignal & { [CONTROLLER]?: HookedAbortController })[CONTROLLER];
  if (controller) return controller.hook(fn);
  const listener = () => fn(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * What undici needs of a signal (`addEventListener`/`removeEventListener` and `reason`), bound
 * to `signal` through {@link onAbort}: undici calls these rather than Node's EventTarget when
 * the object has no `aborted` property. Give undici the signal itself when it is aborted
 * already, so it fails at once as before.
 *
 * @example
 * ```ts
 * await dispatcher.request({ ...opts, signal: signal.aborted ? signal : upstreamSignal(signal) });
 * ```
 */
export function upstreamSignal(signal: AbortSignal): { reason: unknown; addEventListener(type: 'abort', fn: () => void): void; removeEventListener(type: 'abort', fn: () => void): void } {
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
