/**
 * A JSON answer that keeps the upstream's exact bytes beside the parsed body, so a same-format
 * client gets those bytes as they came (big integers, number spellings and whitespace intact, and
 * no re-serializing) — unless a plugin read or replaced `body`, in which case the body is what is
 * sent, as before.
 *
 * The body may be parsed lazily: an answer whose usage sits in its last member (OpenAI Chat,
 * Anthropic) is relayed without parsing the rest (see {@link tailMember}).
 *
 * @module
 */
import { UpstreamError } from './errors.ts';
import type { WireFormat } from './ir.ts';

/**
 * A `{ type: 'json' }` {@link GatewayResult} built from upstream bytes. `body` is an own
 * enumerable accessor, so `{ ...answer, headers }` still copies it (into a plain result, which is
 * then serialized); reading or assigning it marks the bytes stale. Without `value`, the bytes are
 * parsed on first use; its usage member is then what passthrough accounting reads.
 *
 * @example
 * ```ts
 * const answer = new JsonAnswer('openai', bytes, JSON.parse(bytes.toString()));
 * answer.untouchedBytes(); // bytes
 * answer.body.id;          // a plugin looked: from now on the body is serialized
 * answer.untouchedBytes(); // undefined
 * ```
 */
export class JsonAnswer {
  readonly type = 'json' as const;
  format: WireFormat;
  declare body: Record<string, unknown>;
  headers?: Record<string, string>;
  #bytes: Buffer;
  #value: Record<string, unknown> | undefined;
  #lazy: LazyBody | undefined;
  #read = false;

  static readonly #body: PropertyDescriptor = {
    get(this: JsonAnswer) {
      this.#read = true;
      return this.peek();
    },
    set(this: JsonAnswer, v: Record<string, unknown>) {
      this.#read = true;
      this.#value = v;
    },
    enumerable: true,
    configurable: true,
  };

  /** @param value The parsed body; a lazy answer passes `lazy` instead and is parsed when first read. */
  constructor(format: WireFormat, bytes: Buffer, value: Record<string, unknown> | undefined, headers?: Record<string, string>, lazy?: LazyBody) {
    this.format = format;
    if (headers) this.headers = headers;
    this.#bytes = bytes;
    this.#value = value;
    this.#lazy = lazy;
    Object.defineProperty(this, 'body', JsonAnswer.#body);
  }

  /** The upstream's bytes while `body` was neither read nor assigned; otherwise undefined. */
  untouchedBytes(): Buffer | undefined {
    return this.#read ? undefined : this.#bytes;
  }

  /** The parsed body, without marking the bytes stale (the gateway reading usage). */
  peek(): Record<string, unknown> {
    if (this.#value === undefined) {
      try {
        this.#value = JSON.parse(this.#bytes.toString('utf8')) as Record<string, unknown>;
      } catch {
        const provider = this.#lazy?.provider ?? 'upstream';
        throw new UpstreamError('upstream_bad_response', `upstream "${provider}" returned invalid JSON`, { status: 502, provider });
      }
    }
    return this.#value;
  }

  /** What a codec's `responseUsage` reads: the usage member alone when the body was not parsed. */
  usageSource(): Record<string, unknown> {
    return this.#value ?? this.#lazy?.usage ?? this.peek();
  }
}

/** What a lazily parsed {@link JsonAnswer} knows before parsing. */
export interface LazyBody {
  /** The provider's name (for the error when the body turns out not to be JSON). */
  provider: string;
  /** An object holding only the body's usage member (e.g. `{ usage: {...} }`). */
  usage: Record<string, unknown>;
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

/**
 * Reads the object value of `key` when it is the last member of the top-level object in `bytes`
 * (`{ ..., "usage": { ... } }`), parsing only that value; undefined when it is not (another
 * member follows it, it is not an object, the bytes do not look like a JSON object). The rest of
 * the bytes is not validated: a caller that must know the whole body is JSON parses it.
 *
 * @example
 * ```ts
 * tailMember(Buffer.from('{"id":"x","usage":{"prompt_tokens":3}}'), 'usage'); // { prompt_tokens: 3 }
 * ```
 */
export function tailMember(bytes: Buffer, key: string): Record<string, unknown> | undefined {
  let end = bytes.length - 1;
  while (end >= 0 && WS[bytes[end]!]) end--;
  let start = 0;
  while (start < end && WS[bytes[start]!]) start++;
  if (bytes[start] !== 0x7b || bytes[end] !== 0x7d) return undefined; // { ... }
  const at = lastName(bytes, key, start, end);
  if (at < 0) return undefined;
  // A member name: after `{` or `,` (inside a string the quote would be escaped).
  let i = at - 1;
  while (WS[bytes[i]!]) i--;
  if (bytes[i] !== 0x2c && bytes[i] !== 0x7b) return undefined;
  i = at + key.length + 2;
  while (WS[bytes[i]!]) i++;
  if (bytes[i] !== 0x3a) return undefined; // :
  i++;
  while (WS[bytes[i]!]) i++;
  if (bytes[i] !== 0x7b) return undefined;
  const from = i;
  const to = objectEnd(bytes, from, end);
  if (to < 0) return undefined;
  i = to + 1;
  while (WS[bytes[i]!]) i++;
  if (i !== end) return undefined; // another member (or more) follows
  try {
    return JSON.parse(bytes.toString('utf8', from, to + 1)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Index of the last `"key"` (an ASCII name) after `start` and before `end`, or -1: a plain loop from the end
 * (the usage member is a few dozen bytes from it), not `Buffer#lastIndexOf`, which converts the
 * needle into bytes and crosses into C++ on every call.
 */
function lastName(bytes: Buffer, key: string, start: number, end: number): number {
  const n = key.length;
  outer: for (let i = end - n - 2; i > start; i--) {
    if (bytes[i] !== 0x22 || bytes[i + n + 1] !== 0x22) continue;
    for (let j = 0; j < n; j++) if (bytes[i + 1 + j] !== key.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

/** Index of the `}` closing the object that opens at `from`, or -1 before `limit`. */
function objectEnd(bytes: Buffer, from: number, limit: number): number {
  let depth = 0;
  for (let i = from; i < limit; i++) {
    const c = bytes[i];
    if (c === 0x22) {
      // a string: to its closing quote, past escapes
      for (i++; i < limit && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) return c === 0x7d ? i : -1;
    }
  }
  return -1;
}
