/**
 * What the core keeps for one request while it runs: its `ctx.state`.
 *
 * @module
 */
import type { Logger } from 'pino';
import { signalOf, type AbortLike } from './abort.ts';
import type { WireFormat } from './ir.ts';
import type { GatewayState, RequestOutcome, Route } from './plugin.ts';

/**
 * The state object of one request (`ctx.state`): every {@link GatewayState} field the core owns
 * on one class, so each request gets the same object shape (plugins' reads stay fast), the child
 * logger is made on first use, and the request's own bookkeeping — its abort controller, its
 * `onDone` callbacks — lives in private fields beside it. Made by the core's boundary.
 *
 * @example
 * ```ts
 * koaCtx.state = new RequestState(requestId, logger, new Abort(), version.codecs);
 * ```
 */
export class RequestState implements GatewayState {
  format: WireFormat = 'openai';
  requestId: string;
  request!: GatewayState['request'];
  candidates: GatewayState['candidates'] = [];
  target: GatewayState['target'] = undefined;
  attempt = 0;
  attempts: GatewayState['attempts'] = [];
  keyName: string | undefined = undefined;
  result: GatewayState['result'] = undefined;
  usage: GatewayState['usage'] = undefined;
  startedAt: number;
  firstByteAt: number | undefined = undefined;
  error: GatewayState['error'] = undefined;
  codecs: GatewayState['codecs'];
  route: Route | undefined = undefined;
  #logger: Logger | undefined = undefined;
  #root: Logger;
  #abort: AbortLike;
  #done: Array<(o: RequestOutcome) => void | Promise<void>> | undefined = undefined;

  constructor(requestId: string, root: Logger, abort: AbortLike, codecs: GatewayState['codecs']) {
    this.requestId = requestId;
    this.#root = root;
    this.#abort = abort;
    this.startedAt = Date.now();
    this.codecs = codecs;
  }

  /** The current abort source's AbortSignal (made on first read). */
  get signal(): AbortSignal {
    return signalOf(this.#abort);
  }

  set signal(s: AbortSignal) {
    this.#abort = s;
  }

  /** @internal The current abort source, without making its signal (see {@link abortOf}). */
  get abortSource(): AbortLike {
    return this.#abort;
  }

  set abortSource(a: AbortLike) {
    this.#abort = a;
  }

  get logger(): Logger {
    return (this.#logger ??= this.#root.child({ requestId: this.requestId }));
  }

  set logger(l: Logger) {
    this.#logger = l;
  }

  onDone(fn: (o: RequestOutcome) => void | Promise<void>): void {
    (this.#done ??= []).push(fn);
  }

  /** Runs the `onDone` callbacks; a promise only when one of them is still running. */
  runDone(outcome: RequestOutcome): Promise<unknown> | undefined {
    if (!this.#done) return undefined;
    let pending: Array<Promise<unknown>> | undefined;
    for (const fn of this.#done) {
      try {
        const r = fn(outcome);
        if (r && typeof (r as Promise<void>).then === 'function') (pending ??= []).push(Promise.resolve(r).catch((err) => this.#failed(err)));
      } catch (err) {
        this.#failed(err);
      }
    }
    return pending && Promise.allSettled(pending);
  }

  #failed(err: unknown): void {
    this.logger.warn({ err: String(err) }, 'onDone callback failed');
  }
}

/**
 * The abort source behind `state.signal`, without making an AbortSignal when the core's own
 * source has none yet.
 *
 * @example
 * ```ts
 * const client = abortOf(ctx.state);
 * if (!client.aborted) onAbort(client, (reason) => attempt.abort(reason));
 * ```
 */
export function abortOf(state: GatewayState): AbortLike {
  return state instanceof RequestState ? state.abortSource : state.signal;
}

/**
 * Makes `source` the request's current abort source (`ctx.state.signal` reads its signal).
 *
 * @example
 * ```ts
 * useAbort(ctx.state, attempt); // … and afterwards: useAbort(ctx.state, client)
 * ```
 */
export function useAbort(state: GatewayState, source: AbortLike): void {
  if (state instanceof RequestState) state.abortSource = source;
  else state.signal = signalOf(source);
}
