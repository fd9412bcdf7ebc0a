/**
 * The production config end to end, keys from the environment and every upstream a real mock
 * server (one per wire format), with the official SDKs as clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';
import { formatUpstream } from '../../test/fixtures/format-upstream.ts';
import { openaiUpstream, type MockUpstream } from '../../test/fixtures/upstream.ts';

type Ups = { openai: MockUpstream; anthropic: MockUpstream; gemini: MockUpstream; responses: MockUpstream };
const data = mkdtempSync(join(tmpdir(), 'production-example-'));
const KEYS = { app: 'gw-app-key-1234567890', batch: 'gw-batch-key-1234567890', admin: 'gw-admin-key-1234567890' };
let gw: TestGateway<Ups>;
let oa: OpenAI;

beforeAll(async () => {
  gw = await createTestGateway({
    config: join(import.meta.dirname, 'gateway.config.ts'),
    upstreams: { openai: openaiUpstream, anthropic: () => formatUpstream('anthropic'), gemini: () => formatUpstream('gemini'), responses: () => formatUpstream('responses') },
    env: (up) => ({
      GATEWAY_KEY: KEYS.app,
      BATCH_KEY: KEYS.batch,
      BATCH_RPM: '3',
      ADMIN_KEY: KEYS.admin,
      OPENAI_API_KEY: 'sk-upstream-openai',
      ANTHROPIC_API_KEY: 'sk-ant-upstream',
      GEMINI_API_KEY: 'AIza-upstream',
      OPENAI_BASE_URL: `${up.openai.url}/v1`,
      ANTHROPIC_BASE_URL: up.anthropic.url,
      GEMINI_BASE_URL: up.gemini.url,
      OPENAI_RESPONSES_BASE_URL: `${up.responses.url}/v1`,
      REDIS_URL: undefined,
      STORE_PATH: join(data, 'store.db'),
    }),
  });
  oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.app, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
  rmSync(data, { recursive: true, force: true });
});

const messages = [{ role: 'user' as const, content: 'hi' }];
const allReceived = () => Object.values(gw.upstreams).flatMap((u) => u.received);

it('refuses a request without a valid gateway key, in the caller’s format', async () => {
  await expect(new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'wrong', maxRetries: 0 }).chat.completions.create({ model: 'fast', messages })).rejects.toBeInstanceOf(
    OpenAI.AuthenticationError,
  );
  const claude = new Anthropic({ baseURL: gw.url, apiKey: 'wrong', maxRetries: 0 });
  await expect(claude.messages.create({ model: 'smart', max_tokens: 50, messages })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  expect(allReceived()).toHaveLength(0);
});

it('serves every client format, sending the upstream’s own key, never the client’s', async () => {
  const chat = await oa.chat.completions.create({ model: 'fast', messages });
  expect(chat.choices[0]!.message.content).toBe('echo: hi');

  const claude = new Anthropic({ baseURL: gw.url, apiKey: KEYS.app, maxRetries: 0 });
  let text = '';
  for await (const ev of claude.messages.stream({ model: 'smart', max_tokens: 50, messages })) {
    if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
  }
  expect(text).toBe('echo: hi');
  expect(gw.upstreams.anthropic.received.at(-1)!.headers['x-api-key']).toBe('sk-ant-upstream');

  const google = new GoogleGenAI({ apiKey: KEYS.app, httpOptions: { baseUrl: gw.url } });
  expect((await google.models.generateContent({ model: 'fast', contents: 'hi' })).text).toBe('echo: hi');

  const reasoning = await oa.responses.create({ model: 'reasoning', input: 'hi' });
  expect(reasoning.output_text).toBe('echo: hi');
  expect(gw.upstreams.responses.received.at(-1)!.body.model).toBe('o4-mini');

  const sent = JSON.stringify(allReceived().map((r) => r.headers));
  expect(sent).not.toContain(KEYS.app);
});

it('limits the batch key to its models and its request rate', async () => {
  const batch = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.batch, maxRetries: 0 });
  await expect(batch.chat.completions.create({ model: 'smart', messages })).rejects.toMatchObject({ status: 403 });
  let limited: unknown;
  for (let i = 0; i < 5 && !limited; i++) limited = await batch.chat.completions.create({ model: 'fast', messages }).then(() => undefined, (e: unknown) => e);
  expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
  expect(Number((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after'))).toBeGreaterThan(0);
});

it('keeps /admin behind the admin key, and accounts usage per key', async () => {
  expect((await fetch(`${gw.url}/admin/models`)).status).toBe(401);
  const auth = { authorization: `Bearer ${KEYS.admin}` };
  expect((await fetch(`${gw.url}/admin/models`, { headers: auth })).status).toBe(200);
  const stats = (await (await fetch(`${gw.url}/admin/stats`, { headers: auth })).json()) as { byKey: Array<{ key: string; requests: number }> };
  expect(stats.byKey.find((r) => r.key === 'app')?.requests).toBeGreaterThanOrEqual(4);
});

it('fails over when Anthropic goes down: smart is answered by the Responses upstream', async () => {
  await gw.upstreams.anthropic.close(); // an outage: connections are refused from now on
  const before = gw.upstreams.responses.received.length;
  const res = await oa.chat.completions.create({ model: 'smart', messages });
  expect(res.choices[0]!.message.content).toBe('echo: hi');
  expect(gw.upstreams.responses.received.length).toBe(before + 1);
  const stream = await oa.chat.completions.create({ model: 'smart', stream: true, messages });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  expect(text).toBe('echo: hi');
});
