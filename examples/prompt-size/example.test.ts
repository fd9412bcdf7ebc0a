import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';

let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  gw = await createTestGateway({ config: join(import.meta.dirname, 'gateway.config.ts'), env: { OPENAI_API_KEY: undefined } });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => gw?.close());

const long = 'lorem ipsum dolor sit amet '.repeat(200); // ~5,400 characters

it('sends a short prompt to the small model', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: 'hi there' }] })
    .withResponse();
  expect(data.model).toBe('small');
  expect(data.choices[0]!.message.content).toBe('hi there');
  expect(response.headers.get('x-route')).toMatch(/^small; prompt ~\d+ tokens$/);
});

it('sends a long prompt, streamed, to the long-context model', async () => {
  const stream = await client.chat.completions.create({ model: 'auto', stream: true, messages: [{ role: 'user', content: long }] });
  let text = '';
  let model = '';
  for await (const c of stream) {
    model = c.model;
    text += c.choices[0]?.delta.content ?? '';
  }
  expect(model).toBe('long');
  expect(text).toBe(long);
});

it('counts the system prompt and works for every client format', async () => {
  const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
  const res = await anthropic.messages.create({ model: 'auto', max_tokens: 100, system: long, messages: [{ role: 'user', content: 'short question' }] });
  expect(res.model).toBe('long');
});

it('leaves other model names alone', async () => {
  const res = await client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: long }] });
  expect(res.model).toBe('small');
});
