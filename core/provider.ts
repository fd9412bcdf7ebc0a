/**
 * The upstream side of the plugin contract: targets, the client request as plugins and providers
 * see it, what a provider answers, and the provider interface itself.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { SSEMessage } from './codec.ts';
import type { IRRequest, IRResponse, IRStreamEvent, Operation, WireFormat } from './ir.ts';
/** One place a logical model can be served: a provider and the provider's model name. */
export interface Target {
  /** Provider name from `config.providers`. */
  provider: string;
  /** The model name the provider knows. */
  model: string;
  /** Lower runs first. @default 0 */
  priority?: number;
  /** Relative share within a priority. @default 1 */
  weight?: number;
  /** Skip this target when prompt + max tokens would overflow it. */
  maxContextTokens?: number;
  /** Extra headers sent upstream for this target. */
  headers?: Record<string, string>;
  /** Overrides the provider's timeout for this target. */
  timeoutMs?: number;
  /** Same-target retries on 5xx/timeouts (used by `failover`). */
  retries?: number;
  /** Anything a custom plugin wants to attach (prices, tags ...). */
  meta?: Record<string, unknown>;
}

/**
 * The client's request as the gateway holds it: the wire body as received, and the IR decoded
 * lazily on first access of `ir`.
 */
export interface GatewayRequest {
  /** The client's wire format. */
  readonly format: WireFormat;
  readonly operation: Operation;
  /** The model name the client asked for (plugins may rewrite it before `models` runs). */
  model: string;
  readonly stream: boolean;
  /** The parsed wire body. Edits here reach passthrough upstreams. */
  body: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
  /** Query parameters of the inbound URL. */
  readonly query: Record<string, string>;
  /** The request in the IR (decoded on first access; throws a 400 GatewayError if malformed). */
  readonly ir: IRRequest;
  /** True once a plugin changed the IR through `rewrite`: every target is then encoded from it. */
  readonly rewritten: boolean;
  /**
   * Edits the request in the IR for every target, including same-format ones.
   *
   * @example
   * ```ts
   * ctx.state.request.rewrite((ir) => { ir.system.unshift({ type: 'text', text: 'Be brief.' }); });
   * ```
   */
  rewrite(edit: (ir: IRRequest) => void): void;
}

/**
 * What a provider (or a plugin) produced: a JSON body or an SSE stream, either still in a wire
 * format (`format`) or already in the IR. The format plugin encodes it for the client.
 */
export type GatewayResult =
  | { type: 'json'; format: WireFormat; body: Record<string, unknown>; headers?: Record<string, string> }
  | { type: 'ir'; response: IRResponse }
  | {
      type: 'sse';
      format: WireFormat;
      messages: AsyncIterable<SSEMessage>;
      headers?: Record<string, string>;
      /** Messages the gateway reads (usage) but does not relay to a same-format client, e.g. a usage chunk it asked for itself. */
      hidden?: (m: SSEMessage) => boolean;
    }
  | { type: 'ir-stream'; events: AsyncIterable<IRStreamEvent> };

/** Context a provider gets for one upstream call. */
export interface ProviderCall {
  /** The provider's configured name. */
  name: string;
  request: GatewayRequest;
  target: Target;
  signal: AbortSignal;
  /** The core's undici dispatcher (one Agent for the whole gateway). */
  dispatcher: Dispatcher;
  /** Request id, forwarded upstream. */
  requestId: string;
  logger: Logger;
  /**
   * Runs `fn` once the request has fully ended (answer sent, stream closed or client gone) — the
   * place to free what a result still holds when a plugin replaced or dropped it unread (a child
   * process, a socket). Absent outside a request (e.g. model discovery).
   */
  onDone?(fn: () => void | Promise<void>): void;
}

/**
 * An upstream: made by a factory (`openai()`, `anthropic()`, `mock()` ...). `format` is the wire
 * format it speaks (`ir` for in-process providers such as `mock`).
 */
export interface Provider {
  /** Factory kind, e.g. `openai`. */
  readonly kind: string;
  readonly format: WireFormat | 'ir';
  readonly baseURL?: string;
  /** Time allowed for the upstream to start answering (and between body chunks). */
  readonly timeoutMs?: number;
  /** Time allowed to open a connection to `baseURL`. @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** Secrets this provider holds, so logs and errors can redact them. */
  readonly secrets?: string[];
  call(call: ProviderCall): Promise<GatewayResult>;
  /** The upstream's model list (zero-config discovery); optional. */
  listModels?(call: Pick<ProviderCall, 'name' | 'signal' | 'dispatcher' | 'logger'>): Promise<string[]>;
}
