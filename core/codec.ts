/**
 * The codec contract: what every wire format implements once, as pure functions.
 *
 * Client side: `decodeRequest` → IR, IR → `encodeResponse` / `createStreamEncoder`, `renderError`.
 * Upstream side: IR → `encodeRequest`, `decodeResponse` / `createStreamDecoder` → IR, `decodeError`.
 * Codecs import nothing from Koa and never do I/O; they throw {@link GatewayError} (status 400) on
 * input they cannot accept.
 *
 * @module
 */
import type { IRError, IRRequest, IRResponse, IRStreamEvent, IRTool, IRUsage, WireFormat } from './ir.ts';

/** One server-sent event: `event:` name (when the format uses one) and the raw `data:` text. */
export interface SSEMessage {
  event?: string;
  data: string;
  id?: string;
}

/** Options a client-side encoder needs to present the answer as the client expects it. */
export interface EncodeOptions {
  /** The model name the client asked for; responses show this, not the upstream's name. */
  model: string;
  /** OpenAI Chat `stream_options.include_usage`: emit the trailing usage chunk. */
  includeUsage?: boolean;
  /**
   * The tools the client declared (its request's IR tools): encoders show tool calls under the
   * client's own names (upstream encoders may have renamed them, Responses namespaces are split).
   */
  tools?: IRTool[];
  /**
   * The request's {@link IRRequest.legacyFunctions}: the Chat encoder answers with the legacy
   * `function_call` shape instead of `tool_calls` (other formats ignore it).
   */
  legacyFunctions?: boolean;
}

/** Options for decoding a client request. */
export interface DecodeOptions {
  /** The model, when the wire format carries it outside the body (Gemini: in the URL). */
  model?: string;
  /** Whether the request streams, when the format says so outside the body (Gemini: the URL). */
  stream?: boolean;
}

/**
 * Turns IR stream events into client-format SSE messages. Stateful: one per response.
 * `end()` is called when the source is exhausted: it emits the format's terminal events, or the
 * format's in-stream error if the source ended without a `finish` (never a fake success).
 */
export interface StreamEncoder {
  push(event: IRStreamEvent): SSEMessage[];
  end(): SSEMessage[];
}

/**
 * Turns upstream-format SSE messages into IR stream events. Stateful: one per upstream response.
 * `end()` is called when the upstream body closes: a stream that ended without its terminator
 * yields an `error` event (status 502) so truncation is never mistaken for success.
 */
export interface StreamDecoder {
  push(message: SSEMessage): IRStreamEvent[];
  end(): IRStreamEvent[];
}

/** A wire format's complete codec. */
export interface Codec {
  format: WireFormat;
  /** Client body → IR. Throws GatewayError(400, 'invalid_request') on malformed input. */
  decodeRequest(body: Record<string, unknown>, opts?: DecodeOptions): IRRequest;
  /** IR response → client body. */
  encodeResponse(res: IRResponse, opts: EncodeOptions): Record<string, unknown>;
  /** A stateful IR → client SSE encoder. */
  createStreamEncoder(opts: EncodeOptions): StreamEncoder;
  /** An error → the client format's HTTP status and body (e.g. 529 becomes 503 for OpenAI). */
  renderError(err: IRError): { status: number; body: Record<string, unknown> };
  /**
   * An error after the first byte → the client format's in-stream error event(s). `after` is the
   * last message already relayed (passthrough), so a format that numbers its events (Responses
   * `sequence_number`) continues the count instead of restarting it.
   */
  renderStreamError(err: IRError, after?: SSEMessage): SSEMessage[];
  /** IR → upstream body. `model` is the upstream's model name. */
  encodeRequest(req: IRRequest, opts: { model: string }): Record<string, unknown>;
  /** Upstream body → IR response. */
  decodeResponse(body: Record<string, unknown>): IRResponse;
  /**
   * Only the usage of an upstream body — what passthrough accounting needs, without decoding
   * the whole response. Falls back to `decodeResponse(body).usage` when absent.
   */
  responseUsage?(body: Record<string, unknown>): IRUsage | undefined;
  /**
   * The top-level member of a response body that holds its usage (`usage`, `usageMetadata`).
   * When it comes last in an answer relayed to a client of the same format, passthrough reads
   * usage from it alone (`{ [usageKey]: value }` to `responseUsage`) instead of parsing the body.
   */
  usageKey?: string;
  /** A stateful upstream SSE → IR decoder. */
  createStreamDecoder(): StreamDecoder;
  /** Upstream error status + body → IR error (message is the upstream's own, sanitised later). */
  decodeError(status: number, body: unknown): IRError;
}
