/**
 * Reading request bodies: size-limited, JSON only, errors as 400/413 GatewayErrors.
 *
 * @module
 */
import { GatewayError } from './errors.ts';
import type { GatewayContext } from './plugin.ts';

/** A JSON object body: parsed, and the text it was parsed from. */
export interface JsonBody {
  body: Record<string, unknown>;
  text: string;
}

/**
 * Reads and parses a JSON object body. Over `limit` bytes → 413 (checked against
 * `content-length` first, then while reading); malformed JSON or a non-object → 400.
 *
 * @example
 * ```ts
 * const { body, text } = await readJsonBody(ctx, 10 * 1024 * 1024);
 * ```
 */
export function readJsonBody(ctx: GatewayContext, limit: number): Promise<JsonBody> {
  const declared = Number(ctx.req.headers['content-length'] || 0);
  const tooLarge = () =>
    new GatewayError('request_too_large', `request body exceeds the limit of ${limit} bytes`, { status: 413 });
  if (declared > limit) {
    ctx.req.resume(); // drain so the connection can answer
    return Promise.reject(tooLarge());
  }
  // Event listeners rather than for-await: leaving a for-await loop would destroy the socket
  // before the 413 can be written. Past the limit we keep draining and discard.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ctx.req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    ctx.req.on('end', () => {
      if (size > limit) return reject(tooLarge());
      try {
        const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
        resolve({ body: parseObject(text), text });
      } catch (err) {
        reject(err);
      }
    });
    ctx.req.on('error', reject);
  });
}

/** A run of digits long enough to be an integer past 2^53 (9007199254740993 has 16 digits). */
const LONG_DIGITS = /\d{16}/;
const rawJSON = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * Keeps an integer that a double cannot hold exactly (a `seed`, an id) as its source text
 * (`JSON.rawJSON`), so forwarding the body to a same-format upstream writes the digits the
 * client sent; the codecs read it as the nearest double, as before. Other values stay as parsed.
 */
function exactIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
    return rawJSON!(context.source);
  }
  return value;
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    // The reviver costs a call per value: only a body that can hold such an integer pays it.
    value = rawJSON && LONG_DIGITS.test(text) ? JSON.parse(text, exactIntegers as never) : JSON.parse(text);
  } catch {
    throw new GatewayError('invalid_json', 'the request body is not valid JSON', { status: 400 });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('invalid_request', 'the request body must be a JSON object', { status: 400 });
  }
  return value as Record<string, unknown>;
}
