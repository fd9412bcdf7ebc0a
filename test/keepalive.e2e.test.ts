/**
 * End to end: a streamed answer that goes silent (a model thinking) gets SSE comment lines
 * (`server.sseKeepAliveMs`), so idle timeouts between the client and the gateway do not cut it;
 * the official SDKs ignore them and read the whole answer. The mock upstream's `gated` model
 * streams one chunk, then waits for `up.release()`.
 */
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, openai, type TestGateway } from 'switchyard';
import { openaiUpstream, sleep, type MockUpstream } from './fixtures/upstream.ts';

let up: MockUpstream;
let gw: TestGateway;
let quiet: TestGateway;

const config = (sseKeepAliveMs: number) => ({
  server: { sseKeepAliveMs },
  providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-test-keepalive-123456' }) },
  models: { gated: { provider: 'oa', model: 'gated' } },
});

beforeAll(async () => {
  up = await openaiUpstream();
  gw = await createTestGateway({ config: config(40) });
  quiet = await createTestGateway({ config: config(0) });
});

afterAll(async () => {
  await gw?.close();
  await quiet?.close();
  await up?.close();
});

/** Streams `gated` from `url`, releasing the upstream after `silentMs`; returns the raw SSE text. */
async function rawStream(url: string, silentMs: number): Promise<string> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gated', stream: true, messages: [{ role: 'user', content: 'a b c' }] }),
  });
  expect(res.status).toBe(200);
  const released = sleep(silentMs).then(() => up.release());
  const text = await res.text();
  await released;
  return text;
}

describe('SSE keep-alive while an upstream is silent', () => {
  it('writes comment lines between whole events during the silence, and none once it ends', async () => {
    const text = await rawStream(gw.url, 200);
    const events = text.split('\n\n').filter(Boolean);
    const comments = events.filter((e) => e === ': keep-alive');
    expect(comments.length).toBeGreaterThanOrEqual(2); // ~200 ms of silence at 40 ms
    // every other block is a whole data event, and the stream still ends with [DONE]
    expect(events.filter((e) => e !== ': keep-alive').every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const first = events.findIndex((e) => e.startsWith('data: '));
    expect(events.indexOf(': keep-alive')).toBeGreaterThan(first); // only after the first event
  });

  it('writes none when turned off (sseKeepAliveMs: 0)', async () => {
    const text = await rawStream(quiet.url, 150);
    expect(text).not.toContain(': keep-alive');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('the openai SDK reads the whole answer through the comments', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'gated', stream: true, messages: [{ role: 'user', content: 'a b c' }] });
    const released = sleep(150).then(() => up.release());
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    await released;
    expect(text).toBe('echo: a b c');
  });

  it('the @google/genai SDK (its own SSE reader) reads the whole converted answer through the comments', async () => {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const stream = await ai.models.generateContentStream({ model: 'gated', contents: 'a b c' });
    const released = sleep(150).then(() => up.release());
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    await released;
    expect(text).toBe('echo: a b c');
  });

  it('rejects a negative interval with the field named', async () => {
    await expect(createTestGateway({ config: config(-1) })).rejects.toThrow(/server\.sseKeepAliveMs/);
  });
});
