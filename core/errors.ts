/**
 * One error family for the whole gateway. Plugins and codecs throw; one boundary renders the
 * error in the caller's wire format. Compare errors by `code`, never by message.
 *
 * @module
 */

const BRAND = Symbol.for('switchyard.error');
const UPSTREAM_BRAND = Symbol.for('switchyard.upstream-error');

/** Options accepted by {@link GatewayError}. */
export interface GatewayErrorOptions {
  /** HTTP status. @default 500 */
  status?: number;
  /** Show `message` to the client. @default status < 500 */
  expose?: boolean;
  /** Extra response headers, e.g. `{ 'retry-after': '3' }`. */
  headers?: Record<string, string>;
  cause?: unknown;
  /** The parameter at fault, when there is one (rendered as OpenAI `param`). */
  param?: string;
}

/**
 * The gateway's error. `code` is stable and machine-readable (`model_not_found`,
 * `rate_limit_exceeded`, `upstream_timeout` ...); `status` is the HTTP status the client gets;
 * `expose` decides whether `message` reaches the client (5xx default to a generic message).
 *
 * @example
 * ```ts
 * throw new GatewayError('model_not_found', `model "${name}" is not configured`, { status: 404 });
 * ```
 */
export class GatewayError extends Error {
  readonly code: string;
  status: number;
  expose: boolean;
  headers: Record<string, string>;
  param?: string;
  /** Name of the plugin the error passed through first (stamped by the boundary). */
  plugin?: string;

  constructor(code: string, message: string, opts: GatewayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = opts.status ?? 500;
    this.expose = opts.expose ?? this.status < 500;
    this.headers = opts.headers ?? {};
    this.param = opts.param;
    (this as unknown as Record<symbol, boolean>)[BRAND] = true;
  }

  /** Works across duplicate module instances (a hot-reloaded config imports its own copy). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * A config or plugin option is invalid. Thrown at load time; names the file/field at fault.
 *
 * @example
 * ```ts
 * throw new ConfigError('rate-limit: "rpm" must be a positive number');
 * ```
 */
export class ConfigError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('invalid_config', message, { status: 500, expose: false, cause: opts.cause });
    this.name = 'ConfigError';
  }
}

/**
 * An upstream call failed. `upstreamStatus` is what the provider answered (absent for network
 * errors); `provider` is the provider's configured name. The message never holds upstream bodies
 * or keys unless the codec decoded a safe, sanitised message.
 *
 * @example
 * ```ts
 * throw new UpstreamError('upstream_timeout', 'upstream "oa" timed out', { status: 504, provider: 'oa' });
 * ```
 */
export class UpstreamError extends GatewayError {
  provider: string;
  upstreamStatus?: number;
  constructor(
    code: string,
    message: string,
    opts: GatewayErrorOptions & { provider: string; upstreamStatus?: number },
  ) {
    super(code, message, opts);
    this.name = 'UpstreamError';
    this.provider = opts.provider;
    this.upstreamStatus = opts.upstreamStatus;
    (this as unknown as Record<symbol, boolean>)[UPSTREAM_BRAND] = true;
  }

  /** Its own brand: the inherited check would take every GatewayError for an upstream one. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[UPSTREAM_BRAND] === true;
  }
}

/**
 * Shorthand for a 400 `invalid_request_error`, the error every codec throws on bad input.
 *
 * @example
 * ```ts
 * if (!Array.isArray(body.messages)) throw invalidRequest('"messages" must be an array', 'messages');
 * ```
 */
export function invalidRequest(message: string, param?: string): GatewayError {
  return new GatewayError('invalid_request', message, { status: 400, param });
}

/** Wraps anything thrown into a GatewayError (non-errors and plain Errors become opaque 500s). */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('internal_error', 'internal error', { status: 500, expose: false, cause: err });
}

/** The message a client may see for an error: its own when exposed, a generic one otherwise. */
export function publicMessage(err: GatewayError): string {
  if (err.expose) return err.message;
  if (err instanceof UpstreamError) return err.message;
  return err.status === 503 ? 'service unavailable' : 'internal error';
}
