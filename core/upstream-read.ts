/**
 * Upstream answers read straight from undici's dispatch handler, whole (`upstreamCollect`: JSON)
 * or as they arrive (`upstreamStream`: SSE).
 *
 * `dispatcher.request()` wraps every call in an async resource and hands the body over as a
 * Readable stream, and under load that graph outlived each call until the next full collection.
 * Measured with the bench's load (`npm run bench:instructions`, `npm run bench:gc`) when JSON
 * answers moved here: 48K fewer instructions per request (396K → 374K outside GC, 69K → 43K in
 * it), and what survives a young-generation collection fell from ~6 KB to ~1.2 KB per request
 * (promoted: ~5 KB → 0.4 KB). One handler serves both: it is also the body a stream hands out,
 * an async iterable with back-pressure (past {@link HIGH_WATER} unread bytes undici is paused,
 * and resumed once the reader has taken half).
 *
 * @module
 */
import type { Dispatcher } from 'undici';
import { onAbort, type AbortLike } from './abort.ts';
import { sourceOf } from './dispatch.ts';
import type { ProviderCall } from './plugin.ts';
import { dispatchOptions, networkError, type UpstreamRequest } from './upstream.ts';

/** Unread bytes at which undici is paused (as undici's own body stream: 64 KiB). */
const HIGH_WATER = 64 * 1024;

/** An upstream body being read: chunks as they come; `destroy()` drops the rest. */
export interface UpstreamBody extends AsyncIterable<Buffer> {
  destroy(): void;
}

/** What {@link upstreamStream} resolves with: a 2xx body to read, or a non-2xx body read whole. */
export type StreamedResponse =
  | { status: number; headers: Record<string, string | string[] | undefined>; body: UpstreamBody; bytes?: undefined }
  | { status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer; body?: undefined };

/**
 * Sends one upstream request and resolves once its status is known: a 2xx answer with its body
 * to iterate, any other with (at most `maxErrorBytes` of) its body read whole. Leaving the
 * iteration early, `destroy()`, the client's abort and a failure mid-body all end the upstream
 * request; a failure is thrown to the reader as an `UpstreamError`.
 *
 * @example
 * ```ts
 * const res = await upstreamStream(call, { url, headers, body });
 * if (res.body) for await (const chunk of res.body) feed(chunk);
 * ```
 */
export function upstreamStream(
  call: Pick<ProviderCall, 'name' | 'dispatcher' | 'signal' | 'requestId'>,
  req: UpstreamRequest,
  maxErrorBytes = 1 << 20,
): Promise<StreamedResponse> {
  return start(call, req, maxErrorBytes, false);
}

/** A whole upstream answer, read by {@link upstreamCollect}. */
export interface CollectedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it came (for a non-2xx answer: at most `maxErrorBytes` of it). */
  bytes: Buffer;
  /** Never a stream (so it narrows against {@link StreamedResponse}). */
  body?: undefined;
}

/**
 * Sends one upstream request and reads the whole answer into memory. A non-2xx answer keeps at
 * most `maxErrorBytes` of its body; past that the connection is closed rather than read on.
 * The client's abort reaches undici before or after the answer started, and settles the
 * promise at once. Network failures become `UpstreamError`s as with `upstreamRequest` (502
 * unreachable, 504 timeout, 499 when the client went away).
 *
 * @example
 * ```ts
 * const { status, headers, bytes } = await upstreamCollect(call, { url: `${base}/embeddings`, headers: auth, body });
 * ```
 */
export function upstreamCollect(
  call: Pick<ProviderCall, 'name' | 'dispatcher' | 'signal' | 'requestId'>,
  req: UpstreamRequest,
  maxErrorBytes = 1 << 20,
): Promise<CollectedResponse> {
  return start(call, req, maxErrorBytes, true) as Promise<CollectedResponse>;
}

/** Dispatches `req` with a {@link Feed}; `whole` reads every answer whole. */
function start(call: Pick<ProviderCall, 'name' | 'dispatcher' | 'signal' | 'requestId'>, req: UpstreamRequest, maxErrorBytes: number, whole: boolean): Promise<StreamedResponse> {
  const signal = sourceOf(call); // the attempt's signal itself is not made: the hook list is used
  if (signal.aborted) return Promise.reject(networkError(call.name, signal.reason, signal));
  return new Promise((resolve, reject) => {
    const handler = new Feed(call.name, signal, maxErrorBytes, whole, resolve, reject);
    try {
      call.dispatcher.dispatch(dispatchOptions(call.requestId, req), handler);
    } catch (err) {
      handler.onResponseError(undefined, err as Error); // invalid options: undici throws before any callback
    }
  });
}

type Waiter = { resolve: (r: IteratorResult<Buffer>) => void; reject: (e: unknown) => void };

/** The dispatch handler behind both reads, and the body a stream hands out. Settles once. */
class Feed implements Dispatcher.DispatchHandler, UpstreamBody {
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  chunks: Buffer[] = [];
  size = 0;
  /** Set once the status is known: the body is a stream (2xx) or is read whole. */
  mode: 'wait' | 'stream' | 'whole' = 'wait';
  /** Most bytes kept of a body read whole (a non-2xx one: `maxErrorBytes`). */
  limit = Infinity;
  controller: Dispatcher.DispatchController | undefined = undefined;
  /** The body is over for its reader: ended, failed or dropped. */
  over = false;
  error: unknown = undefined;
  waiter: Waiter | undefined = undefined;
  paused = false;
  readonly name: string;
  readonly signal: AbortLike;
  readonly maxErrorBytes: number;
  readonly whole: boolean;
  readonly resolve: (r: StreamedResponse) => void;
  readonly reject: (e: unknown) => void;
  readonly off: () => void;

  constructor(name: string, signal: AbortLike, maxErrorBytes: number, whole: boolean, resolve: (r: StreamedResponse) => void, reject: (e: unknown) => void) {
    this.name = name;
    this.signal = signal;
    this.maxErrorBytes = maxErrorBytes;
    this.whole = whole;
    this.resolve = resolve;
    this.reject = reject;
    this.off = onAbort(signal, (reason) => {
      if (this.controller) this.controller.abort(reason as Error);
      else this.onResponseError(undefined, reason as Error); // not started yet: settle now
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted || this.over) controller.abort((this.signal.reason as Error) ?? new Error('upstream body dropped'));
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return; // informational: the answer follows
    this.status = status;
    this.headers = headers;
    if (status >= 300 || this.whole) {
      this.mode = 'whole';
      if (status >= 300) this.limit = this.maxErrorBytes;
      return;
    }
    this.mode = 'stream';
    this.resolve({ status, headers, body: this });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.over) return;
    if (this.mode === 'whole') {
      if (this.size + chunk.length > this.limit) {
        const keep = this.limit - this.size;
        if (keep > 0) this.chunks.push(chunk.subarray(0, keep));
        this.onResponseEnd();
        controller.abort(new Error('upstream error body over the bound'));
        return;
      }
      this.chunks.push(chunk);
      this.size += chunk.length;
      return;
    }
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > HIGH_WATER && !this.paused) {
      this.paused = true;
      controller.pause();
    }
  }

  onResponseEnd(): void {
    if (this.mode === 'wait') return this.onResponseError(undefined, new Error('the upstream ended without an answer')); // never a hang
    if (this.mode === 'whole') {
      if (this.over) return;
      this.over = true;
      this.off();
      const c = this.chunks;
      this.chunks = [];
      this.resolve({ status: this.status, headers: this.headers, bytes: c.length === 1 ? c[0]! : Buffer.concat(c) });
      return;
    }
    this.off();
    this.over = true; // what is queued is still read
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ value: undefined, done: true });
  }

  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    this.off();
    if (this.mode === 'stream') {
      if (this.over) return; // ended, or dropped by its reader
      this.over = true;
      this.error = networkError(this.name, err, this.signal);
      this.chunks = [];
      const w = this.waiter;
      this.waiter = undefined;
      w?.reject(this.error);
      return;
    }
    if (this.over) return;
    this.over = true;
    this.reject(networkError(this.name, err, this.signal));
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.chunks.length) {
      // everything queued at once, as a Readable's read() hands it over: a reader that fell
      // behind catches up in one step rather than one per upstream chunk
      const chunk = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [];
      this.size = 0;
      if (this.paused && this.size <= HIGH_WATER / 2) {
        this.paused = false;
        this.controller?.resume();
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.over) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  destroy(): void {
    if (this.over) return;
    this.over = true;
    this.off();
    this.chunks = [];
    this.controller?.abort(new Error('upstream body dropped by its reader'));
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => this.next(),
      return: (value?: unknown) => {
        this.destroy();
        return Promise.resolve({ value: value as Buffer, done: true as const });
      },
    };
  }
}
