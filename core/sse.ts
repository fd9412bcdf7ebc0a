/**
 * Server-sent events, once: parse upstream bodies with eventsource-parser into messages, peek the
 * first event before committing to a response, and frame messages for the client.
 *
 * @module
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { SSEMessage } from './codec.ts';

/**
 * Messages of one stream, also readable as batches: every message parsed from one upstream read
 * at once. A relay that takes the batches writes them in one piece and pays the async-iteration
 * cost once per read instead of once per message. Plugins see a plain `AsyncIterable` (the
 * messages); a plugin that wraps it drops the batches, and the relay reads messages one by one.
 */
export interface SSEStream extends AsyncIterable<SSEMessage> {
  batches(): AsyncIterable<SSEMessage[]>;
}

/**
 * Parses a byte stream of SSE into messages, lazily (pull-based: back-pressure reaches the
 * upstream socket). Comments and `retry:` lines are dropped.
 *
 * @example
 * ```ts
 * for await (const m of parseSSE(res.body)) console.log(m.event, m.data);
 * ```
 */
export function parseSSE(body: AsyncIterable<Uint8Array | string>): SSEStream {
  return fromBatches(parseBatches(body));
}

async function* parseBatches(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SSEMessage[]> {
  let batch: SSEMessage[] = [];
  const parser = createParser({
    onEvent(ev: EventSourceMessage) {
      batch.push(ev.event ? { event: ev.event, data: ev.data } : { data: ev.data });
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (batch.length) {
      yield batch;
      batch = [];
    }
  }
  parser.feed(decoder.decode() + '\n\n'); // flush an unterminated last event
  if (batch.length) yield batch;
}

/** One batch source, read either as batches or flattened to messages (one reader only). */
function fromBatches(source: AsyncIterable<SSEMessage[]>): SSEStream {
  return {
    batches: () => source,
    async *[Symbol.asyncIterator]() {
      for await (const batch of source) yield* batch;
    },
  };
}

/**
 * Whether `messages` can still be read as batches (nothing has wrapped the parsed stream).
 *
 * @example
 * ```ts
 * if (hasBatches(result.messages)) for await (const batch of result.messages.batches()) relay(batch);
 * ```
 */
export function hasBatches(messages: AsyncIterable<SSEMessage>): messages is SSEStream {
  return typeof (messages as Partial<SSEStream>).batches === 'function';
}

/**
 * Waits for the first message of a stream, then returns a stream that replays it and continues.
 * Errors before the first message reject here, so the caller can still fail over or answer with
 * a proper HTTP status; an empty source resolves with `first: undefined`. Batches are kept.
 *
 * @example
 * ```ts
 * const { stream } = await peek(parseSSE(res.body)); // throws if the upstream died before any event
 * ```
 */
export async function peek(source: SSEStream): Promise<{ first: SSEMessage | undefined; stream: SSEStream }> {
  const it = source.batches()[Symbol.asyncIterator]();
  const head = await it.next();
  const replay: AsyncIterable<SSEMessage[]> = {
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
        return: (v?: unknown) => (it.return ? it.return(v) : Promise.resolve({ done: true as const, value: v as SSEMessage[] })),
      };
    },
  };
  return { first: head.done ? undefined : head.value[0], stream: fromBatches(replay) };
}

/** Frames one message as SSE text (`event:` line only when named; multi-line data split). */
export function formatSSE(m: SSEMessage): string {
  const data = m.data.includes('\n') ? m.data.split('\n').join('\ndata: ') : m.data;
  return m.event ? `event: ${m.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}
