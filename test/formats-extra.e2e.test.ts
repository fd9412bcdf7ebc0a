/**
 * Format details end to end: token counting, Gemini passthrough with thought signatures, image
 * URLs inlined for Gemini (and refused for private hosts), `n > 1` only where it can be honoured.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, gemini, mock, openai, type TestGateway } from 'switchyard';
import { formatUpstream } from './fixtures/format-upstream.ts';
import { openaiUpstream, sse, startUpstream, type MockUpstream } from './fixtures/upstream.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
// WIRE-FORMATS §2.4: thought, then a functionCall carrying a thoughtSignature, then an empty final part.
const GEMINI_STREAM = [
  { candidates: [{ content: { parts: [{ text: '**Checking**', thought: true }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 131, totalTokenCount: 131 }, modelVersion: 'gemini-3-pro-preview', responseId: 'B94h' },
  { candidates: [{ content: { parts: [{ functionCall: { name: 'weather', args: { city: 'San Francisco' } }, thoughtSignature: 'Eq0Esig' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 131, candidatesTokenCount: 15, thoughtsTokenCount: 95, totalTokenCount: 241 }, modelVersion: 'gemini-3-pro-preview', responseId: 'B94h' },
  { candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 131, candidatesTokenCount: 15, thoughtsTokenCount: 95, totalTokenCount: 241 }, modelVersion: 'gemini-3-pro-preview', responseId: 'B94h' },
];

let gemRec: MockUpstream;
let gemUp: MockUpstream;
let chatUp: MockUpstream;
let images: MockUpstream;
let gw: TestGateway;

beforeAll(async () => {
  gemRec = await startUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const chunk of GEMINI_STREAM) sse(res, chunk);
    res.end();
  });
  gemUp = await formatUpstream('gemini');
  chatUp = await openaiUpstream();
  images = await startUpstream((req, res) => {
    if (req.path === '/cat.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
  });
  gw = await createTestGateway({
    config: {
      providers: {
        rec: gemini({ baseURL: gemRec.url, apiKey: 'up-key' }),
        gem: gemini({ baseURL: gemUp.url, apiKey: 'up-key', inlineImages: { allowPrivateHosts: true } }),
        strict: gemini({ baseURL: gemUp.url, apiKey: 'up-key' }),
        chat: openai({ baseURL: `${chatUp.url}/v1`, apiKey: 'up-key' }),
        echo: mock(),
      },
      models: { recorded: 'rec/gemini-3-pro-preview', gem: 'gem/gemini-2.5-flash', strict: 'strict/gemini-2.5-flash', chat: 'chat/gpt-x', demo: 'echo/echo' },
    },
  });
});

afterAll(async () => {
  await gw?.close();
  for (const u of [gemRec, gemUp, chatUp, images]) await u?.close();
});

describe('token counting', () => {
  it('Anthropic count_tokens and Gemini countTokens answer in their own shapes', async () => {
    const c = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const counted = await c.messages.countTokens({ model: 'demo', messages: [{ role: 'user', content: 'count these words for me please' }] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const g = await ai.models.countTokens({ model: 'demo', contents: 'count these words for me please' });
    expect(g.totalTokens).toBe(counted.input_tokens);
  });
});

describe('Gemini passthrough', () => {
  it('relays the stream byte for byte, thought signature included', async () => {
    const res = await fetch(`${gw.url}/v1beta/models/recorded:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'client-key' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'weather?' }] }] }),
    });
    const lines = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
    expect(lines).toEqual(GEMINI_STREAM.map((c) => JSON.stringify(c)));
    const sent = gemRec.received.at(-1)!;
    expect(sent.path).toBe('/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse');
    expect(sent.headers['x-goog-api-key']).toBe('up-key');
  });

  it('gives the signature to the Gemini SDK on the functionCall part', async () => {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const parts = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'recorded', contents: 'weather?' })) parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
    expect(parts.find((p) => p.functionCall)).toMatchObject({ functionCall: { name: 'weather' }, thoughtSignature: 'Eq0Esig' });
  });
});

describe('images for Gemini', () => {
  it('downloads an image URL and sends it inline', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    await c.chat.completions.create({
      model: 'gem',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: `${images.url}/cat.png` } }] }],
    });
    const parts = (gemUp.received.at(-1)!.body as { contents: Array<{ parts: Array<Record<string, unknown>> }> }).contents[0]!.parts;
    expect(parts).toContainEqual({ inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } });
  });

  it('refuses private hosts by default and non-images always, with a 400', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const privateErr = await c.chat.completions
      .create({ model: 'strict', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `${images.url}/cat.png` } }] }] })
      .catch((e) => e);
    expect(privateErr).toBeInstanceOf(OpenAI.BadRequestError);
    expect(privateErr.message).toContain('private');
    const htmlErr = await c.chat.completions
      .create({ model: 'gem', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `${images.url}/page.html` } }] }] })
      .catch((e) => e);
    expect(htmlErr).toBeInstanceOf(OpenAI.BadRequestError);
    expect(htmlErr.message).toContain('not an image');
  });
});

describe('n > 1', () => {
  it('passes through to a same-format upstream and is refused when it would be cut by a conversion', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    await c.chat.completions.create({ model: 'chat', n: 2, messages: [{ role: 'user', content: 'two please' }] });
    expect(chatUp.received.at(-1)!.body.n).toBe(2);
    const err = await c.chat.completions.create({ model: 'gem', n: 2, messages: [{ role: 'user', content: 'two please' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain('n > 1');
  });
});
