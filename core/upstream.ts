/**
 * Upstream HTTP: one undici Agent owned by the core (keep-alive, per-origin connect timeouts),
 * a JSON/SSE call helper shared by every HTTP provider, and the mapping of network failures to
 * gateway errors. Never `setGlobalDispatcher`: the Agent is passed explicitly.
 *
 * @module
 */
import { Agent, Pool, type Dispatcher } from 'undici';
import { signalOf, upstreamSignal } from './abort.ts';
import { sourceOf } from './dispatch.ts';
import { UpstreamError } from './errors.ts';
import type { ProviderCall } from './plugin.ts';

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions {
  /** Connect timeout per origin (ms), e.g. from each provider's options. */
  connectTimeouts?: Map<string, number>;
  /** @default 10_000 */
  defaultConnectTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this long. @default 30_000 */
  keepAliveTimeoutMs?: number;
  /** Max sockets per origin. @default 256 */
  connections?: number;
}

/**
 * Builds the gateway's one Agent. Each origin gets a Pool with its own connect timeout.
 *
 * @example
 * ```ts
 * const dispatcher = createDispatcher({ connectTimeouts: new Map([['https://api.openai.com', 5000]]) });
 * ```
 */
export function createDispatcher(opts: DispatcherOptions = {}): Agent {
  return new Agent({
    factory(origin, poolOpts) {
      const key = typeof origin === 'string' ? origin : origin.origin;
      const timeout = opts.connectTimeouts?.get(key) ?? opts.defaultConnectTimeoutMs ?? 10_000;
      return new Pool(origin, {
        ...(poolOpts as Pool.Options),
        connections: opts.connections ?? 256,
        keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
        connect: { timeout },
      });
    },
  });
}

/**
 * JSON text sent upstream as it is, in place of a body to serialize (the client's own body,
 * untouched: see `passthroughBody`).
 *
 * @example
 * ```ts
 * await callHttp(call, { url, headers, body: new JsonText('{"model":"m","messages":[]}'), stream: false, codec });
 * ```
 */
export class JsonText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** What {@link upstreamRequest} sends. */
export interface UpstreamRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  /** More headers, applied over `headers` (e.g. a target's own). */
  moreHeaders?: Record<string, string>;
  body?: unknown;
  /** Time to the first response byte and between body chunks. @default 300_000 */
  timeoutMs?: number;
}

/** An upstream response whose status has been read; the body is still unread. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/**
 * Sends one upstream request through the core's dispatcher, forwarding the request id and the
 * client's abort signal, and returns the answer's body as a Node stream: for calls outside
 * `callHttp` (model lists, Gemini's images). `callHttp` reads through `upstreamCollect` and
 * `upstreamStream`, which cost less per call. Network failures become
 * {@link UpstreamError}s (502 unreachable, 504 timeout); statuses are returned as they are (the
 * caller maps non-2xx).
 *
 * @example
 * ```ts
 * const res = await upstreamRequest(call, { url: `${base}/chat/completions`, headers, body });
 * ```
 */
export async function upstreamRequest(
  call: Pick<ProviderCall, 'name' | 'dispatcher' | 'signal' | 'requestId'>,
  req: UpstreamRequest,
): Promise<UpstreamResponse> {
  try {
    const opts: Dispatcher.RequestOptions = dispatchOptions(call.requestId, req);
    // undici takes any object with addEventListener and no `aborted` (util.addAbortListener); its types say AbortSignal
    const source = sourceOf(call);
    opts.signal = source.aborted ? signalOf(source) : (upstreamSignal(source) as unknown as AbortSignal);
    const res = await call.dispatcher.request(opts);
    return { status: res.statusCode, headers: res.headers, body: res.body };
  } catch (err) {
    throw networkError(call.name, err, sourceOf(call));
  }
}

/**
 * What undici is given for `req`: origin and path split without a URL object, the JSON body,
 * the request id and the caller's headers over the defaults, and the timeouts.
 *
 * @example
 * ```ts
 * dispatcher.dispatch(dispatchOptions(call.requestId, req), handler);
 * ```
 */
export function dispatchOptions(requestId: string, req: UpstreamRequest): Dispatcher.DispatchOptions {
  const timeout = req.timeoutMs ?? 300_000;
  const cut = req.url.indexOf('/', req.url.indexOf('//') + 2);
  const headers: Record<string, string> = req.body !== undefined ? { 'content-type': 'application/json', 'x-request-id': requestId } : { 'x-request-id': requestId };
  Object.assign(headers, req.headers);
  if (req.moreHeaders) Object.assign(headers, req.moreHeaders);
  return {
    origin: cut < 0 ? req.url : req.url.slice(0, cut),
    path: cut < 0 ? '/' : req.url.slice(cut),
    method: req.method ?? 'POST',
    headers,
    body: req.body === undefined ? undefined : req.body instanceof JsonText ? req.body.text : JSON.stringify(req.body),
    headersTimeout: timeout,
    bodyTimeout: timeout,
  };
}

/**
 * Maps an undici/network error to an {@link UpstreamError}. The message names the provider and
 * the failure kind only: no URLs with keys, no upstream bodies.
 */
export function networkError(provider: string, err: unknown, signal?: { readonly aborted: boolean }): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = (err as { code?: string })?.code ?? '';
  if (signal?.aborted) {
    return new UpstreamError('client_aborted', 'the client closed the request', { status: 499, provider, cause: err });
  }
  if (/TIMEOUT/.test(code)) {
    return new UpstreamError('upstream_timeout', `upstream "${provider}" timed out`, { status: 504, provider, cause: err });
  }
  return new UpstreamError('upstream_unreachable', `upstream "${provider}" is unreachable`, {
    status: 502,
    provider,
    cause: err,
  });
}

/** Reads a whole upstream body as text, bounded (error bodies only; success bodies stream). */
export async function readBounded(body: UpstreamResponse['body'], max = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      discard(body);
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Drops an upstream body we no longer want. undici emits an "aborted" error when a body is
 * destroyed without one; with nobody listening that would be an uncaught exception.
 *
 * @example
 * ```ts
 * if (res.statusCode !== 200) discard(res.body);
 * ```
 */
export function discard(body: { on(event: 'error', fn: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}
