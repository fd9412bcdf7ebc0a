/**
 * Same-format requests: a body nothing read goes upstream as the text the client sent when its
 * model is already the target's (no parse → stringify round trip); a different target model, a
 * plugin's edit in place or a rewrite are serialized as before.
 */
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, createTestGateway, definePlugin, failover, openai, type TestGateway } from 'switchyard';

const received: Array<{ path: string; text: string }> = [];
let upstream: Server;
let gw: TestGateway;

const CHAT = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});
const MESSAGE = JSON.stringify({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'm',
  content: [{ type: 'text', text: 'ok' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 1 },
});

// Edits the body in place when asked (x-edit), or only reads it (x-read).
const touch = definePlugin({
  name: 'touch',
  middleware(ctx, next) {
    if (ctx.get('x-edit')) ctx.state.request.body.temperature = 0.25;
    if (ctx.get('x-read')) void ctx.state.request.body.messages;
    return next();
  },
});

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', text: Buffer.concat(parts).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.endsWith('/messages') ? MESSAGE : CHAT);
    });
  }).listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await createTestGateway({
    config: {
      providers: { oa: openai({ baseURL: `${base}/v1`, apiKey: 'sk-test-1234567' }), an: anthropic({ baseURL: base, apiKey: 'sk-ant-test-1234567' }) },
      models: {
        same: { provider: 'oa', model: 'same' },
        renamed: { provider: 'oa', model: 'upstream-name' },
        claude: { provider: 'an', model: 'claude' },
      },
      pipeline: [touch, failover({ retries: 0 })],
    },
  });
});

afterAll(async () => {
  await gw?.close();
  upstream?.close();
});

const post = async (path: string, text: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
  expect(res.status).toBe(200);
  await res.text();
  return received.at(-1)!.text;
};

// What a parse → stringify round trip would change: spacing, "1.50", the 20-digit seed.
const client = (model: string) => `{ "model" : "${model}",  "temperature": 1.50, "seed": 12345678901234567890,
  "messages": [ {"role":"user","content":"hi \\u00e9"} ] }`;

describe('a same-format request body', () => {
  it('goes upstream as the client sent it when nothing read it and its model is the target\'s', async () => {
    expect(await post('/v1/chat/completions', client('same'))).toBe(client('same'));
  });

  it('has its model replaced when the target model differs (serialized, digits kept)', async () => {
    const sent = await post('/v1/chat/completions', client('renamed'));
    expect(sent).not.toBe(client('renamed'));
    expect(JSON.parse(sent)).toMatchObject({ model: 'upstream-name', temperature: 1.5, messages: [{ role: 'user', content: 'hi é' }] });
    expect(sent).toContain('12345678901234567890');
  });

  it('carries a plugin\'s edit made in place', async () => {
    const sent = await post('/v1/chat/completions', client('same'), { 'x-edit': '1' });
    expect(JSON.parse(sent)).toMatchObject({ model: 'same', temperature: 0.25 });
  });

  it('is serialized once a plugin read it (it may have kept the object to edit later)', async () => {
    const sent = await post('/v1/chat/completions', client('same'), { 'x-read': '1' });
    expect(sent).not.toBe(client('same'));
    expect(JSON.parse(sent)).toMatchObject({ model: 'same', temperature: 1.5 });
  });

  it('goes to an Anthropic upstream as sent too', async () => {
    const text = `{"model":"claude","max_tokens":16,  "messages":[{"role":"user","content":"hi"}]}`;
    expect(await post('/v1/messages', text)).toBe(text);
  });

  it('works for the official SDKs', async () => {
    const oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const chat = await oa.chat.completions.create({ model: 'same', messages: [{ role: 'user', content: 'sdk' }] });
    expect(chat.choices[0]!.message.content).toBe('ok');
    expect(JSON.parse(received.at(-1)!.text)).toMatchObject({ model: 'same', messages: [{ role: 'user', content: 'sdk' }] });
    const an = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
    const msg = await an.messages.create({ model: 'claude', max_tokens: 16, messages: [{ role: 'user', content: 'sdk' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'ok' });
    expect(JSON.parse(received.at(-1)!.text)).toMatchObject({ model: 'claude', max_tokens: 16 });
  });
});
