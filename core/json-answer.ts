/**
 * A JSON answer that keeps the upstream's exact bytes beside the parsed body, so a same-format
 * client gets those bytes as they came (big integers, number spellings and whitespace intact, and
 * no re-serializing) — unless a plugin read or replaced `body`, in which case the body is what is
 * sent, as before.
 *
 * @module
 */
import type { WireFormat } from './ir.ts';

/**
 * A `{ type: 'json' }` {@link GatewayResult} built from upstream bytes. `body` is an own
 * enumerable accessor, so `{ ...answer, headers }` still copies it (into a plain result, which is
 * then serialized); reading or assigning it marks the bytes stale.
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
  #value: Record<string, unknown>;
  #read = false;

  static readonly #body: PropertyDescriptor = {
    get(this: JsonAnswer) {
      this.#read = true;
      return this.#value;
    },
    set(this: JsonAnswer, v: Record<string, unknown>) {
      this.#read = true;
      this.#value = v;
    },
    enumerable: true,
    configurable: true,
  };

  constructor(format: WireFormat, bytes: Buffer, value: Record<string, unknown>, headers?: Record<string, string>) {
    this.format = format;
    if (headers) this.headers = headers;
    this.#bytes = bytes;
    this.#value = value;
    Object.defineProperty(this, 'body', JsonAnswer.#body);
  }

  /** The upstream's bytes while `body` was neither read nor assigned; otherwise undefined. */
  untouchedBytes(): Buffer | undefined {
    return this.#read ? undefined : this.#bytes;
  }

  /** The parsed body, without marking the bytes stale (the gateway reading usage). */
  peek(): Record<string, unknown> {
    return this.#value;
  }
}
