/**
 * What every HTTP provider shares: choosing passthrough or IR encoding for the body, calling the
 * upstream, mapping error statuses (with upstream keys scrubbed from messages), and peeking the
 * first stream event so failures before it can still fail over.
 *
 * @module
 */
import type { Codec } from './codec.ts';
import { GatewayError, UpstreamError } from './errors.ts';
import type { IRRequest } from './ir.ts';
import type { ProviderCall, GatewayResult } from './plugin.ts';
import { parseSSE, peek } from './sse.ts';
import { JsonAnswer, tailMember } from './json-answer.ts';
import { sourceOf } from './dispatch.ts';
import { untouchedText } from './request.ts';
import { JsonText, networkError } from './upstream.ts';
import { upstreamCollect, upstreamStream } from './upstream-read.ts';

/**
 * The body to send upstream: the client's own body with only the model changed when formats
 * match (passthrough), the IR encoded for the provider otherwise.
 *
 * @example
 * ```ts
 * const body = upstreamBody(call, openaiCodec, { setModel: true });
 * ```
 */
export function upstreamBody(call: ProviderCall, codec: Codec, opts: { setModel: boolean }): Record<string, unknown> {
  const req = call.request;
  if (req.format === codec.format && !req.rewritten) {
    return opts.setModel ? { ...req.body, model: call.target.model } : req.body;
  }
  return codec.encodeRequest(irForUpstream(call), { model: call.target.model });
}

/**
 * {@link upstreamBody} for a provider that sets the model and sends the body as it is: the
 * client's own text, not serialized again, when the request is in the provider's format, nothing
 * read or replaced its body and its `model` is already the target's; otherwise the body to
 * serialize, as {@link upstreamBody} makes it. Do not edit what it returns (use `upstreamBody`).
 *
 * @example
 * ```ts
 * return callHttp(call, { url, headers, body: passthroughBody(call, openaiCodec), stream: false, codec: openaiCodec });
 * ```
 */
export function passthroughBody(call: ProviderCall, codec: Codec): Record<string, unknown> | JsonText {
  if (call.request.format === codec.format) {
    const text = untouchedText(call.request, call.target.model);
    if (text !== undefined) return new JsonText(text);
  }
  return upstreamBody(call, codec, { setModel: true });
}

/**
 * The request's IR, checked for what only same-format passthrough can honour: several choices
 * (`n > 1`) would be silently cut to one by a conversion, so they are refused (WIRE-FORMATS §4 #20).
 */
export function irForUpstream(call: ProviderCall): IRRequest {
  const ir = call.request.ir;
  if (ir.n !== undefined && ir.n > 1) {
    throw new GatewayError('unsupported_parameter', `n > 1 is only supported when provider "${call.name}" speaks the client's format`, {
      status: 400,
      param: 'n',
    });
  }
  return ir;
}

/** Options for {@link callHttp}. */
export interface HttpCallOptions {
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  method?: 'GET' | 'POST';
  stream: boolean;
  codec: Codec;
  timeoutMs?: number;
  /** Secrets to scrub from any upstream message that reaches the client. */
  secrets?: string[];
}

/**
 * Calls an upstream and returns its answer as a {@link GatewayResult} in the provider's format.
 * Non-2xx answers throw {@link UpstreamError} with the status relayed (the message is the
 * upstream's own for 4xx, scrubbed of keys; a generic one for 5xx). A stream resolves only once
 * its first event has arrived; an upstream error as that first event throws too.
 *
 * @example
 * ```ts
 * return callHttp(call, { url, headers, body, stream: call.request.stream, codec: openaiCodec });
 * ```
 */
export async function callHttp(call: ProviderCall, o: HttpCallOptions): Promise<GatewayResult> {
  const req = { url: o.url, method: o.method, headers: o.headers, moreHeaders: call.target.headers, body: o.body, timeoutMs: call.target.timeoutMs ?? o.timeoutMs };
  // Both reads give a non-2xx answer's body whole (bounded); only a 2xx stream comes as `body`.
  const res = o.stream ? await upstreamStream(call, req) : await upstreamCollect(call, req);
  const retryAfter = header(res.headers['retry-after']);
  const headers: Record<string, string> = retryAfter ? { 'retry-after': retryAfter } : {};
  if (!res.body) {
    if (res.status >= 200 && res.status < 300) return jsonAnswer(call, o, res.bytes);
    throw upstreamStatusError(call.name, res.status, res.bytes.toString('utf8'), o.codec, headers, o.secrets);
  }
  const ctype = header(res.headers['content-type']) ?? '';
  try {
    if (!ctype.includes('text/event-stream')) {
      res.body.destroy();
      throw new UpstreamError('upstream_bad_response', `upstream "${call.name}" did not stream`, { status: 502, provider: call.name });
    }
    const { first, stream } = await peek(parseSSE(res.body));
    if (first === undefined) {
      throw new UpstreamError('upstream_empty_stream', `upstream "${call.name}" returned an empty stream`, { status: 502, provider: call.name });
    }
    const early = o.codec.createStreamDecoder().push(first).find((e) => e.type === 'error');
    if (early?.type === 'error') {
      res.body.destroy();
      throw new UpstreamError(early.error.code ?? 'upstream_error', scrub(early.error.message, o.secrets), {
        status: early.error.status,
        provider: call.name,
        upstreamStatus: early.error.status,
        headers,
      });
    }
    return { type: 'sse', format: o.codec.format, messages: stream };
  } catch (err) {
    if (err instanceof GatewayError) throw err; // upstream errors, and codec errors as they are
    if (err instanceof SyntaxError) {
      throw new UpstreamError('upstream_bad_response', `upstream "${call.name}" returned invalid JSON`, { status: 502, provider: call.name });
    }
    throw networkError(call.name, err, sourceOf(call));
  }
}

/**
 * A whole 2xx answer as the provider's JSON (kept byte for byte for a same-format client). A
 * same-format chat answer whose usage is its last member is not parsed (its usage alone is): a
 * body that is not a JSON object still fails here, as a 502 the failover can act on, but damage
 * inside an object reaches the client as the upstream sent it, as any byte-relaying proxy would.
 * An answer to convert is parsed whole, so that failing happens here too.
 */
function jsonAnswer(call: ProviderCall, o: HttpCallOptions, bytes: Buffer): GatewayResult {
  const key = o.codec.usageKey;
  if (key && call.request.format === o.codec.format && call.request.operation === 'chat') {
    const usage = tailMember(bytes, key);
    if (usage) return new JsonAnswer(o.codec.format, bytes, undefined, undefined, { provider: call.name, usage: { [key]: usage } });
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UpstreamError('upstream_bad_response', `upstream "${call.name}" returned invalid JSON`, { status: 502, provider: call.name });
  }
  return new JsonAnswer(o.codec.format, bytes, value as Record<string, unknown>);
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Builds the error for a non-2xx upstream answer. */
export function upstreamStatusError(
  provider: string,
  status: number,
  text: string,
  codec: Codec,
  headers: Record<string, string>,
  secrets?: string[],
): UpstreamError {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the codec falls back to a generic message
  }
  const decoded = codec.decodeError(status, body);
  const clientStatus = decoded.status || status;
  let message: string;
  if (clientStatus === 401 || clientStatus === 403) {
    message = `upstream "${provider}" rejected the gateway's credentials (${status})`;
  } else if (clientStatus >= 500) {
    message = `upstream "${provider}" failed with status ${status}`;
  } else {
    message = scrub(decoded.message, secrets);
  }
  return new UpstreamError(decoded.code ?? 'upstream_error', message, {
    status: clientStatus,
    expose: true,
    provider,
    upstreamStatus: status,
    headers,
  });
}

/** Removes configured secrets and anything shaped like an API key from a message. */
export function scrub(message: string, secrets: string[] = []): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('***');
  return out.replace(/\b(sk-[A-Za-z0-9_-]{6,}|AIza[0-9A-Za-z_-]{10,}|sk-ant-[A-Za-z0-9_-]{6,})/g, '***');
}
