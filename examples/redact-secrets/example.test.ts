import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type IRStreamEvent, type Provider, type TestGateway } from 'switchyard';
import { createRedactor, redactSecrets } from './redact.ts';

const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';

async function collect(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  return text;
}

describe('the example config', () => {
  let gw: TestGateway;
  let client: OpenAI;
  beforeAll(async () => {
    gw = await createTestGateway({ config: join(import.meta.dirname, 'gateway.config.ts') });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => gw?.close());
  const content = `use ${KEY} or acme_live_0123456789abcdefghij, not sk-short.`;

  it('redacts keys from a streamed answer', async () => {
    const stream = await client.chat.completions.create({ model: 'demo', stream: true, messages: [{ role: 'user', content }] });
    expect(await collect(stream)).toBe('use [REDACTED] or [REDACTED], not sk-short.');
  });

  it('redacts keys from a whole answer', async () => {
    const res = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content }] });
    expect(res.choices[0]!.message.content).toBe('use [REDACTED] or [REDACTED], not sk-short.');
  });
});

describe('secrets split across deltas', () => {
  let gw: TestGateway;
  let client: OpenAI;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  // An in-process provider that streams exactly these deltas, pausing at the gate.
  const scripted: Provider = {
    kind: 'scripted',
    format: 'ir',
    async call(call) {
      const deltas = ['Hello, my key is sk-pro', 'j-abcdefghij', 'klmnopqrstuvwxyz0123 and the ', 'rest', '|gate|', ' (', 'AIza', 'SyA1234567890abcdefghijklmnopqrstu', ').'];
      async function* events(): AsyncGenerator<IRStreamEvent> {
        yield { type: 'start', id: 'scripted-1', model: call.target.model };
        for (const text of deltas) {
          if (text === '|gate|') await gate;
          else yield { type: 'text_delta', text };
        }
        yield { type: 'finish', reason: 'stop' };
      }
      return { type: 'ir-stream', events: events() };
    },
  };

  beforeAll(async () => {
    gw = await createTestGateway({ config: { providers: { s: scripted }, models: { demo: 's/script' }, pipeline: [redactSecrets()] } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => gw?.close());

  it('holds back only the unfinished run, so text flows before the stream ends', async () => {
    const stream = await client.chat.completions.create({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const it = stream[Symbol.asyncIterator]();
    let text = '';
    for (let r = await it.next(); !r.done; r = await it.next()) {
      text += r.value.choices[0]?.delta.content ?? '';
      if (text.endsWith('and the ')) break;
    }
    // The upstream is paused at the gate: the key has gone out redacted, only "rest" is held.
    expect(text).toBe('Hello, my key is [REDACTED] and the ');
    release();
    for (let r = await it.next(); !r.done; r = await it.next()) text += r.value.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello, my key is [REDACTED] and the rest ([REDACTED]).');
  });
});

describe('createRedactor', () => {
  it('redacts a key however the text is split', () => {
    const text = `a ${KEY} b ${KEY}`;
    for (let size = 1; size <= 7; size++) {
      const r = createRedactor();
      let out = '';
      for (let i = 0; i < text.length; i += size) out += r.push(text.slice(i, i + size));
      expect(out + r.flush()).toBe('a [REDACTED] b [REDACTED]');
    }
  });

  it('bounds what it holds: an over-long run is released, and a secret in it is dropped whole', () => {
    const r = createRedactor({ maxHoldChars: 16 });
    expect(r.push('x'.repeat(10))).toBe('');
    expect(r.push('y'.repeat(10))).toBe('x'.repeat(10) + 'y'.repeat(10));
    const out = r.push(' sk-aaaaaaaaaaaaaaaa') + r.push('bbbbbbbbbbbbbbbb') + r.push('cccc end') + r.flush();
    expect(out).toBe(' [REDACTED] end');
  });
});
