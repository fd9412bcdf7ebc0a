/**
 * Server-sent events, once: parse upstream bodies with eventsource-parser into messages, peek the
 * first event before committing to a response, and frame messages for the client.
 *
 * @module
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { SSEMessage } from './codec.ts';

/**
 * Parses a byte stream of SSE into messages, lazily (pull-based: back-pressure reaches the
 * upstream socket). Comments and `retry:` lines are dropped.
 *
 * @example
 * ```ts
 * for await (const m of parseSSE(res.body)) console.log(m.event, m.data);
 * ```
 */
export async function* parseSSE(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SSEMessage> {
  const queue: SSEMessage[] = [];
  const parser = createParser({
    onEvent(ev: EventSourceMessage) {
      queue.push(ev.event ? { event: ev.event, data: ev.data } : { data: ev.data });
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (queue.length) yield queue.shift()!;
  }
  parser.feed(decoder.decode() + '\n\n'); // flush an unterminated last event
  while (queue.length) yield queue.shift()!;
}

/**
 * Waits for the first item of an async iterable, then returns an iterable that replays it and
 * continues. Errors before the first item reject here, so the caller can still fail over or
 * answer with a proper HTTP status; an empty source resolves with `first: undefined`.
 *
 * @example
 * ```ts
 * const { stream } = await peek(parseSSE(res.body)); // throws if the upstream died before any event
 * ```
 */
export async function peek<T>(source: AsyncIterable<T>): Promise<{ first: T | undefined; stream: AsyncIterable<T> }> {
  const it = source[Symbol.asyncIterator]();
  const head = await it.next();
  const stream: AsyncIterable<T> = {
    [Symbol.asyncIterator]() {
      let replayed = head.done === true;
      return {
        next: () => {
          if (!replayed) {
            replayed = true;
            return Promise.resolve(head);
          }
          return it.next();
        },
        return: (v?: unknown) => (it.return ? it.return(v) : Promise.resolve({ done: true as const, value: v as T })),
      };
    },
  };
  return { first: head.done ? undefined : head.value, stream };
}

/** Frames one message as SSE text (`event:` line only when named; multi-line data split). */
export function formatSSE(m: SSEMessage): string {
  const data = m.data.includes('\n') ? m.data.split('\n').join('\ndata: ') : m.data;
  return m.event ? `event: ${m.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}
