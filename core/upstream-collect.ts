/**
 * An upstream answer read whole, straight from undici's dispatch handler.
 *
 * `dispatcher.request()` wraps every call in an async resource and hands the body over as a
 * Readable stream; for an answer that is read whole anyway (JSON: non-streaming chat,
 * completions, embeddings, model lists) that machinery is pure cost. Measured with the bench's
 * load (`npm run bench:instructions`, `npm run bench:gc`): 48K fewer instructions per request
 * (396K → 374K outside GC, 69K → 43K in it), and what survives a young-generation collection
 * fell from ~6 KB to ~1.2 KB per request (promoted: ~5 KB → 0.4 KB) — the graph behind each
 * `request()` call outlived the call until the next full collection. Streams go through
 * `upstreamStream` (upstream-stream.ts) for the same reason.
 *
 * @module
 */
import type { Dispatcher } from 'undici';
import { onAbort } from './abort.ts';
import type { ProviderCall } from './plugin.ts';
import { dispatchOptions, networkError, type UpstreamRequest } from './upstream.ts';

/** A whole upstream answer, read by {@link upstreamCollect}. */
export interface CollectedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it came (for a non-2xx answer: at most `maxErrorBytes` of it). */
  bytes: Buffer;
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
  const signal = call.signal;
  if (signal.aborted) return Promise.reject(networkError(call.name, signal.reason, signal));
  return new Promise((resolve, reject) => {
    const handler = new Collector(call.name, signal, maxErrorBytes, resolve, reject);
    try {
      call.dispatcher.dispatch(dispatchOptions(call.requestId, req), handler);
    } catch (err) {
      handler.fail(err); // invalid options: undici throws before any callback
    }
  });
}

/** The dispatch handler behind {@link upstreamCollect}: one per call, settles exactly once. */
class Collector implements Dispatcher.DispatchHandler {
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  chunks: Buffer[] = [];
  size = 0;
  limit = Infinity;
  controller: Dispatcher.DispatchController | undefined = undefined;
  done = false;
  readonly name: string;
  readonly signal: AbortSignal;
  readonly maxErrorBytes: number;
  readonly resolve: (r: CollectedResponse) => void;
  readonly reject: (e: unknown) => void;
  readonly off: () => void;

  constructor(name: string, signal: AbortSignal, maxErrorBytes: number, resolve: (r: CollectedResponse) => void, reject: (e: unknown) => void) {
    this.name = name;
    this.signal = signal;
    this.maxErrorBytes = maxErrorBytes;
    this.resolve = resolve;
    this.reject = reject;
    this.off = onAbort(signal, (reason) => {
      // Not started yet (queued, connecting): settle now; onRequestStart aborts it when it comes.
      if (this.controller) this.controller.abort(reason as Error);
      else this.fail(reason);
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason as Error);
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return; // informational (100 Continue, 103 Early Hints): the answer follows
    this.status = status;
    this.headers = headers;
    if (status >= 300) this.limit = this.maxErrorBytes;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    if (this.size + chunk.length > this.limit) {
      const keep = this.limit - this.size;
      if (keep > 0) this.chunks.push(chunk.subarray(0, keep));
      this.finish();
      controller.abort(new Error('upstream error body over the bound'));
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    this.off();
    const c = this.chunks;
    this.chunks = [];
    this.resolve({ status: this.status, headers: this.headers, bytes: c.length === 1 ? c[0]! : Buffer.concat(c) });
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.off();
    this.reject(networkError(this.name, err, this.signal));
  }
}
