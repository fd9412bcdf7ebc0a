/**
 * The gateway's one logger: pino, JSON lines on stdout (pino-pretty on a terminal or on request),
 * with secrets removed twice — by field path (`redact`: headers, `apiKey` fields, `?key=`
 * queries) and by value (every secret the config declares is censored wherever it appears in a
 * line, including error messages and stacks).
 *
 * @module
 */
import fs from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';
import { ConfigError } from './errors.ts';
import { withLineWriter } from './log-line.ts';

/** Log levels accepted by the config, `LOG_LEVEL` and `--log-level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The config's `log` section. */
export interface LogConfig {
  /** `LOG_LEVEL` and `--log-level` win over it. @default 'info' */
  level?: (typeof LOG_LEVELS)[number];
  /** Extra field paths censored in every line (pino `redact` syntax), e.g. `['tenant.token']`. */
  redact?: string[];
  /** Extra secret values censored wherever they appear (providers declare their keys already). */
  secrets?: Array<string | undefined>;
}

/** The `log` section with defaults filled in. */
export interface ResolvedLogConfig {
  level: string;
  redact: readonly string[];
  secrets: readonly string[];
}

/**
 * Validates the config's `log` section and fills defaults (unset secrets are dropped, so
 * `secrets: [process.env.X]` is fine when X is unset).
 *
 * @example
 * ```ts
 * resolveLogConfig({ level: 'debug' }, 'gateway.config.ts'); // { level: 'debug', redact: [], secrets: [] }
 * ```
 */
export function resolveLogConfig(log: LogConfig | undefined, where: string): ResolvedLogConfig {
  const l = log ?? {};
  if (l.level !== undefined && !isLogLevel(l.level)) throw new ConfigError(`${where}: log.level: must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(l.level)})`);
  const strings = (k: 'redact' | 'secrets'): string[] => {
    const v: unknown = l[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => x === undefined || typeof x === 'string')) throw new ConfigError(`${where}: log.${k}: must be an array of strings`);
    return v.filter((x): x is string => typeof x === 'string');
  };
  return Object.freeze({ level: l.level ?? 'info', redact: Object.freeze(strings('redact')), secrets: Object.freeze(strings('secrets')) });
}

/** Options for {@link createLogger}. */
export interface LogOptions {
  /** The level; omitted means `info` (the gateway then applies `LOG_LEVEL` and `log.level`). */
  level?: string;
  /** `json` lines or human-readable `pretty`. @default 'pretty' on a terminal stdout, else 'json' */
  format?: 'json' | 'pretty';
  /** Where lines go (tests pass an in-memory stream). @default stdout */
  destination?: DestinationStream;
  /** Extra field paths to censor (pino `redact` syntax), e.g. `['tenant.token']`. */
  redact?: string[];
  /** Secret values censored wherever they appear; the gateway adds every config's secrets. */
  secrets?: ReadonlySet<string>;
  /** Fields on every line (e.g. `{ worker: 2 }` under `--workers`). @default none */
  bindings?: Record<string, unknown>;
}

const CENSOR = '[Redacted]';
/** Most log bytes kept in memory while stdout is not read fast enough (then lines are dropped). */
const STDOUT_BACKLOG_BYTES = 16 * 1024 * 1024;
/**
 * Largest single write to a pipe or terminal stdout. Writes up to PIPE_BUF (4 KiB on Linux) are
 * atomic on a pipe: `--workers` processes share one stdout, and bigger batched writes interleave
 * mid-line when the reader falls behind (measured: ~3% corrupt lines with 3 workers and a slow
 * reader).
 */
const PIPE_BUF = 4096;
/**
 * Largest single write when stdout is a regular file. A write to a local file is never split by
 * another process's write (the kernel holds the file's lock for the whole write, and processes
 * sharing the open file share its offset), so lines stay whole at any size; fewer, larger writes
 * cost less per line (measured in isolation: ~0.67 µs a line in 4 KiB writes, ~0.16 in 64 KiB).
 */
const FILE_WRITE = 64 * 1024;
/** Field names whose values are never logged. */
const SECRET_FIELDS = ['authorization', 'proxy-authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie', 'apiKey', 'api_key', 'secret', 'password'];
/**
 * Where those fields usually sit in a logged object. Explicit paths only: with pino's `*`
 * wildcards the same coverage cost ~250 µs a line; string values deeper down are caught by the
 * line-level pass instead.
 */
const SECRET_PARENTS = ['', 'headers', 'req.headers', 'request.headers', 'provider', 'options'];
// The same field names at any depth of the serialized line, when their value is a string.
const SECRET_FIELD_JSON = new RegExp(`"(${SECRET_FIELDS.join('|')})":"(?:[^"\\\\]|\\\\.)*"`, 'gi');

/**
 * The pino `redact` paths the gateway always applies: credential headers, API key fields and a
 * `key` query parameter where plugins usually log them (the line-level pass in
 * {@link redactLine} catches the same field names at any depth).
 *
 * @example
 * ```ts
 * pino({ redact: { paths: redactPaths(), censor: '[Redacted]' } });
 * ```
 */
export function redactPaths(extra: string[] = []): string[] {
  const paths: string[] = [];
  for (const parent of SECRET_PARENTS) {
    for (const f of SECRET_FIELDS) paths.push(/^[A-Za-z_$][\w$]*$/.test(f) ? (parent ? `${parent}.${f}` : f) : `${parent}["${f}"]`);
  }
  paths.push('query.key', 'req.query.key', 'request.query.key');
  return [...paths, ...extra];
}

// `?key=...` (Gemini) and similar credential query parameters inside any logged string.
const KEY_QUERY = /([?&](?:key|api[_-]?key|access_token|token)=)[^&\s"'\\]+/gi;
// Strings shaped like well-known provider keys, whether or not the config declared them.
const KEY_SHAPES = /\b(?:sk-ant-[A-Za-z0-9_-]{6,}|sk-[A-Za-z0-9_-]{6,}|AIza[0-9A-Za-z_-]{10,})/g;
// The same patterns without `g` (a global regex's test() moves lastIndex): is there anything to do?
const SECRET_FIELD_JSON_ANY = new RegExp(SECRET_FIELD_JSON.source, 'i');
const KEY_QUERY_ANY = new RegExp(KEY_QUERY.source, 'i');
const KEY_SHAPES_ANY = new RegExp(KEY_SHAPES.source);

/** A secret as it appears inside a JSON string, memoized in `cache` (this runs for every line). */
function jsonEscaped(s: string, cache?: Map<string, string>): string {
  let e = cache?.get(s);
  if (e === undefined) {
    e = JSON.stringify(s).slice(1, -1);
    cache?.set(s, e);
  }
  return e;
}

/**
 * Censors secrets in one serialized log line: each declared secret value (also in its
 * JSON-escaped form), string values of credential field names at any depth, credential query
 * parameters and key-shaped strings.
 *
 * @example
 * ```ts
 * redactLine('{"msg":"GET /x?key=AIzaSy..."}', new Set()); // '{"msg":"GET /x?key=[Redacted]"}'
 * ```
 *
 * @param escapes Optional cache of the secrets' JSON-escaped forms, kept by the caller (the
 *   gateway's logger keeps one; it holds one entry per declared secret).
 */
export function redactLine(line: string, secrets: ReadonlySet<string> = new Set(), escapes?: Map<string, string>): string {
  let out = line;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(CENSOR);
    const escaped = jsonEscaped(s, escapes);
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(CENSOR);
  }
  // Most lines hold none of these: a test (no allocation, no runtime call) is much cheaper
  // than a replace that finds nothing (which enters the runtime for the `$1` template).
  if (SECRET_FIELD_JSON_ANY.test(out)) out = out.replace(SECRET_FIELD_JSON, `"$1":"${CENSOR}"`);
  if (KEY_QUERY_ANY.test(out)) out = out.replace(KEY_QUERY, `$1${CENSOR}`);
  if (KEY_SHAPES_ANY.test(out)) out = out.replace(KEY_SHAPES, CENSOR);
  return out;
}

/**
 * Creates the gateway's logger. The gateway calls this itself (with the secrets of every loaded
 * config); pass the result as `startGateway({ logger })` only when embedding.
 *
 * @example
 * ```ts
 * const secrets = new Set([process.env.OPENAI_API_KEY!]);
 * const logger = createLogger({ level: 'debug', format: 'json', secrets });
 * logger.info({ headers: { authorization: 'Bearer x' } }, 'hello'); // authorization: "[Redacted]"
 * ```
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const secrets = opts.secrets ?? new Set<string>();
  const escapes = new Map<string, string>(); // per logger: one entry per declared secret
  const censor = (line: string) => redactLine(line, secrets, escapes);
  const pretty = opts.format === 'pretty' || (opts.format === undefined && !opts.destination && process.stdout.isTTY === true);
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: opts.bindings ?? undefined,
    redact: { paths: redactPaths(opts.redact), censor: CENSOR },
    hooks: { streamWrite: censor },
  };
  if (pretty && !opts.destination) {
    return withLineWriter(pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 1 } } }), censor);
  }
  if (opts.destination) return withLineWriter(pino(options, opts.destination), censor);
  // A pipe or a terminal is written asynchronously (pino flushes it on exit): under load, lines
  // written while a write is in flight go out together (whole lines, at most PIPE_BUF per write)
  // instead of one blocking syscall per request. The backlog is capped so a stalled log reader
  // cannot exhaust memory: beyond it lines are dropped, and how many is logged once the output
  // catches up. A regular file never waits on a reader: it is written synchronously, each loop
  // turn's lines in writes of at most FILE_WRITE, without a thread-pool round trip per write
  // (measured side by side: 3-6% of the gateway's CPU per request).
  //
  // Buffer mode: pino hands over strings, each goes in as a Buffer. In its string mode sonic-boom
  // appends a line to the pending chunk and re-measures the whole chunk's UTF-8 length with
  // every line, flattening it into a new string each time (up to PIPE_BUF): measured under the
  // bench's load, ~4 KB allocated per access line and ~10% of the gateway's req/s. Buffer mode
  // keeps each chunk's length as a number.
  const file = stdoutIsFile();
  const maxWrite = file ? FILE_WRITE : PIPE_BUF;
  const stdout = pino.destination({ dest: 1, sync: file, maxLength: STDOUT_BACKLOG_BYTES, maxWrite, contentMode: 'buffer' });
  const writeBuffer = (stdout.write as unknown as (b: Buffer) => boolean).bind(stdout);
  stdout.write = (line: string) => writeBuffer(Buffer.from(line));
  const logger = withLineWriter(pino(options, stdout), censor, { chunkBytes: maxWrite });
  let dropped = 0;
  stdout.on('drop', () => void dropped++);
  stdout.on('drain', () => {
    if (!dropped) return;
    logger.warn({ dropped }, 'log output fell behind; lines dropped');
    dropped = 0;
  });
  return logger;
}

/**
 * Checks a level name (from `--log-level`, `LOG_LEVEL` or the config).
 *
 * @example
 * ```ts
 * isLogLevel('debug'); // true
 * ```
 */
export function isLogLevel(v: unknown): v is (typeof LOG_LEVELS)[number] {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}

/** stdout is a regular file: a write to it never waits on a reader. */
function stdoutIsFile(): boolean {
  try {
    return fs.fstatSync(1).isFile();
  } catch {
    return false;
  }
}
