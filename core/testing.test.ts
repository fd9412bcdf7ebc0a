/**
 * The plugin author's side of docs/plugins.md, over real HTTP with the official SDKs: the test
 * helper (upstreams started first, `env` from them, everything closed with the gateway) and the
 * error rules (thrown GatewayErrors in the caller's format with their status and headers; 5xx
 * messages never reach the client).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestGateway, definePlugin, GatewayError, mock, openai, type TestGateway } from 'switchyard';
import { openaiUpstream, type MockUpstream } from '../test/fixtures/upstream.ts';

/** Fails on purpose, the way the `model` named in the request says. */
const failing = () =>
  definePlugin({
    name: 'failing',
    async middleware(ctx, next) {
      const model = ctx.state.request.model;
      if (model === 'forbidden') throw new GatewayError('model_not_allowed', 'not for you', { status: 403, param: 'model', headers: { 'x-why': 'policy' } });
      if (model === 'broken') throw new GatewayError('db_down', 'password=hunter2 at db.internal', { status: 500 });
      if (model === 'crash') throw new Error('stack and secrets at db.internal');
      await next();
    },
  });

let gw: TestGateway<{ oa: MockUpstream }>;
beforeAll(async () => {
  gw = await createTestGateway({
    upstreams: { oa: openaiUpstream },
    env: (up) => ({ OA_URL: `${up.oa.url}/v1` }),
    config: ({ env }) => ({
      providers: { echo: mock(), oa: openai({ baseURL: env.OA_URL, apiKey: 'sk-test-upstream' }) },
      models: { demo: 'echo/echo', forbidden: 'echo/echo', broken: 'echo/echo', crash: 'echo/echo', real: 'oa/gpt-4o-mini' },
      pipeline: [failing()],
    }),
  });
});
afterAll(() => gw?.close());

const messages = [{ role: 'user' as const, content: 'hi' }];

it('points a config function at the upstreams it started', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  expect((await client.chat.completions.create({ model: 'real', messages })).choices[0]!.message.content).toBe('echo: hi');
  expect(gw.upstreams.oa.received.at(-1)!.headers.authorization).toBe('Bearer sk-test-upstream');
});

it("renders a thrown GatewayError in the caller's format, with its status and headers", async () => {
  const oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const err = await oa.chat.completions.create({ model: 'forbidden', messages }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
  const e = err as InstanceType<typeof OpenAI.PermissionDeniedError>;
  expect(e.message).toContain('not for you');
  expect(e.code).toBe('model_not_allowed');
  expect(e.headers.get('x-why')).toBe('policy');
  const claude = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
  await expect(claude.messages.create({ model: 'forbidden', max_tokens: 10, messages })).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
});

it('never shows a 5xx message or a crash to the client', async () => {
  for (const model of ['broken', 'crash']) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages }),
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { message: 'internal error' } });
    expect(text).not.toContain('db.internal');
  }
});

it('closes the upstreams with the gateway', async () => {
  const own = await createTestGateway({ upstreams: { oa: openaiUpstream }, config: { providers: { echo: mock() } } });
  const url = own.upstreams.oa.url;
  await own.close();
  await expect(fetch(url)).rejects.toThrow();
});
