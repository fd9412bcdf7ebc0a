/**
 * What the core keeps for one request while it runs: its `ctx.state`.
 *
 * @module
 */
import type { Logger } from 'pino';
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
 * koaCtx.state = new RequestState(requestId, logger, new AbortController(), version.codecs);
 * ```
 */
export class RequestState implements GatewayState {
  format: WireFormat = 'openai';
  requestId: string;
  signal: AbortSignal;
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
  #done: Array<(o: RequestOutcome) => void | Promise<void>> | undefined = undefined;

  constructor(requestId: string, root: Logger, abort: AbortController, codecs: GatewayState['codecs']) {
    this.requestId = requestId;
    this.#root = root;
    this.signal = abort.signal;
    this.startedAt = Date.now();
    this.codecs = codecs;
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

