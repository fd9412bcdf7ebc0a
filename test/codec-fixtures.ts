/**
 * Table-driven codec tests. Each `*.json` file in a fixtures folder is one case:
 *
 * ```json
 * { "name": "tool call round trip", "fn": "decodeRequest", "options": {}, "input": {...}, "expected": {...} }
 * ```
 *
 * `fn` is one of `decodeRequest`, `encodeRequest`, `decodeResponse`, `encodeResponse`,
 * `decodeStream` (input: SSE messages, `inputSse` raw text, or `inputSseFile`: a `*.sse` file beside
 * the fixture, e.g. a recorded upstream stream; expected: IR events),
 * `encodeStream` (input: IR events; expected: SSE messages, `data` compared as JSON when it parses),
 * `renderError`, `renderStreamError` (`options.after`: the last message already relayed),
 * `decodeError` (input: `{ status, body }`).
 * Instead of `expected`, a case may give `throws: { status, code }`.
 * In `expected`, the strings `"<string>"` and `"<number>"` match any value of that type.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { describe, expect, it } from 'vitest';
import type { Codec, SSEMessage } from '../core/codec.ts';
import type { IRStreamEvent } from '../core/ir.ts';

interface Fixture {
  name: string;
  fn: string;
  input?: unknown;
  inputSse?: string;
  inputSseFile?: string;
  options?: Record<string, unknown>;
  expected?: unknown;
  throws?: { status?: number; code?: string };
}

function matchers(value: unknown): unknown {
  if (value === '<string>') return expect.any(String);
  if (value === '<number>') return expect.any(Number);
  if (Array.isArray(value)) return value.map(matchers);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, matchers(v)]));
  }
  return value;
}

function parseData(messages: SSEMessage[]): unknown[] {
  return messages.map((m) => {
    let data: unknown = m.data;
    try {
      data = JSON.parse(m.data);
    } catch {
      // not JSON (e.g. "[DONE]"): compare as text
    }
    return m.event === undefined ? { data } : { event: m.event, data };
  });
}

/** Parses raw SSE text with the same parser the gateway uses. */
export async function parseSse(text: string): Promise<SSEMessage[]> {
  const out: SSEMessage[] = [];
  const stream = new ReadableStream<string>({
    start(c) {
      c.enqueue(text);
      c.close();
    },
  }).pipeThrough(new EventSourceParserStream());
  for await (const ev of stream) out.push(ev.event ? { event: ev.event, data: ev.data } : { data: ev.data });
  return out;
}

async function run(codec: Codec, f: Fixture, dir: string): Promise<unknown> {
  const input = f.input as never;
  const opts = (f.options ?? {}) as never;
  switch (f.fn) {
    case 'decodeRequest':
      return codec.decodeRequest(input, opts);
    case 'encodeRequest':
      return codec.encodeRequest(input, { model: 'upstream-model', ...(f.options ?? {}) });
    case 'decodeResponse':
      return codec.decodeResponse(input);
    case 'encodeResponse':
      return codec.encodeResponse(input, { model: 'client-model', ...(f.options ?? {}) });
    case 'decodeStream': {
      const raw = f.inputSseFile !== undefined ? readFileSync(join(dir, f.inputSseFile), 'utf8') : f.inputSse;
      const messages = raw !== undefined ? await parseSse(raw) : (f.input as SSEMessage[]);
      const dec = codec.createStreamDecoder();
      const events: IRStreamEvent[] = [];
      for (const m of messages) events.push(...dec.push(m));
      events.push(...dec.end());
      return events;
    }
    case 'encodeStream': {
      const enc = codec.createStreamEncoder({ model: 'client-model', ...(f.options ?? {}) });
      const out: SSEMessage[] = [];
      for (const ev of f.input as IRStreamEvent[]) out.push(...enc.push(ev));
      out.push(...enc.end());
      return parseData(out);
    }
    case 'renderError':
      return codec.renderError(input);
    case 'renderStreamError':
      return parseData(codec.renderStreamError(input, f.options?.after as SSEMessage | undefined));
    case 'decodeError': {
      const { status, body } = f.input as { status: number; body: unknown };
      return codec.decodeError(status, body);
    }
    default:
      throw new Error(`fixture "${f.name}": unknown fn "${f.fn}"`);
  }
}

/**
 * Registers one vitest case per fixture file in `dir`.
 *
 * @example
 * ```ts
 * runCodecFixtures(anthropicCodec, new URL('./fixtures', import.meta.url).pathname);
 * ```
 */
export function runCodecFixtures(codec: Codec, dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  describe(`${codec.format} codec fixtures`, () => {
    it('has fixtures', () => expect(files.length).toBeGreaterThan(0));
    for (const file of files) {
      const f = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Fixture;
      it(`${file}: ${f.name}`, async () => {
        if (f.throws) {
          let caught: unknown;
          try {
            await run(codec, f, dir);
          } catch (err) {
            caught = err;
          }
          expect(caught, 'expected the codec to throw').toBeDefined();
          expect(caught).toMatchObject(f.throws);
          return;
        }
        expect(await run(codec, f, dir)).toEqual(matchers(f.expected));
      });
    }
  });
}
