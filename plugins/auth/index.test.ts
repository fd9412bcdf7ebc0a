/**
 * The auth plugin over real HTTP: keys in every inbound style, 401/403 in the caller's format,
 * the admin guard, key names on the context, no client key upstream, load-time checks.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestGateway, definePlugin, mock, openai, rateLimit, type TestGateway } from 'switchyard';
import { openaiUpstream, type MockUpstream } from '../../test/fixtures/upstream.ts';

const ALICE = 'sk-alice-0123456789';
const BOB = 'sk-bob-abcdefghijkl';
const ADMIN = 'sk-admin-zyxwvutsrq';
const UPSTREAM_KEY = 'sk-upstream-key-98765';

let gw: TestGateway;
let up: MockUpstream;
let logs = '';

/** Echoes the authenticated key name in a response header. */
const whoami = () =>
  definePlugin({
    name: 'whoami',
    async middleware(ctx, next) {
      await next();
      ctx.set('x-key-name', ctx.state.keyName ?? '');
    },
  });

beforeAll(async () => {
  up = await openaiUpstream();
  gw = await createTestGateway({
    logStream: new Writable({ write: (c, _e, cb) => ((logs += String(c)), cb()) }),
    config: {
      providers: { echo: mock(), oa: openai({ baseURL: `${up.url}/v1`, apiKey: UPSTREAM_KEY }) },
      models: { demo: 'echo/echo', other: 'echo/echo', upstream: 'oa/up-chat' },
      // whoami is listed first, yet auth runs before it: auth is enforce: 'pre'.
      pipeline: [whoami(), auth({ keys: [{ name: 'alice', key: ALICE, models: ['demo', 'upstream'] }, BOB], adminKeys: [ADMIN] })],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const chat = (headers: Record<string, string>, path = '/v1/chat/completions', model = 'demo') =>
  fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });

describe('keys in every inbound style', () => {
  it('OpenAI SDK (Bearer)', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ALICE, maxRetries: 0 });
    const { data, response } = await c.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    expect(data.choices[0]!.message.content).toContain('hello');
    expect(response.headers.get('x-key-name')).toBe('alice');
  });

  it('Anthropic SDK (x-api-key); an unnamed key gets a stable derived name', async () => {
    const c = new Anthropic({ baseURL: gw.url, apiKey: BOB, maxRetries: 0 });
    const { data, response } = await c.messages.create({ model: 'other', max_tokens: 50, messages: [{ role: 'user', content: 'hey' }] }).withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text' });
    expect(response.headers.get('x-key-name')).toMatch(/^key-[0-9a-f]{8}$/);
  });

  it('x-goog-api-key and ?key= (Gemini style)', async () => {
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    const headers = { 'content-type': 'application/json' };
    const viaHeader = await fetch(`${gw.url}/v1beta/models/demo:generateContent`, { method: 'POST', headers: { ...headers, 'x-goog-api-key': ALICE }, body });
    expect(viaHeader.status).toBe(200);
    const viaQuery = await fetch(`${gw.url}/v1beta/models/demo:generateContent?key=${ALICE}`, { method: 'POST', headers, body });
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.headers.get('x-key-name')).toBe('alice');
    expect(logs).not.toContain(ALICE);
  });
});

describe('rejections in the caller format', () => {
  it('OpenAI: missing and wrong keys are 401 invalid_api_key', async () => {
    const missing = await chat({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect((await missing.json()).error).toMatchObject({ code: 'invalid_api_key', message: expect.stringContaining('Missing API key') });
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    const err = await c.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it('Anthropic: 401 authentication_error body', async () => {
    const c = new Anthropic({ baseURL: gw.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const err = await c.messages.create({ model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('a model outside the key allowlist is 403 in either format', async () => {
    const o = await chat({ authorization: `Bearer ${ALICE}` }, '/v1/chat/completions', 'other');
    expect(o.status).toBe(403);
    expect((await o.json()).error).toMatchObject({ code: 'model_not_allowed' });
    const c = new Anthropic({ baseURL: gw.url, apiKey: ALICE, maxRetries: 0 });
    const err = await c.messages.create({ model: 'other', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
  });
});

describe('admin guard and upstream credentials', () => {
  it('/admin/* needs an admin key; client keys are not admin keys', async () => {
    expect((await fetch(`${gw.url}/admin/reload`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${gw.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ALICE}` } })).status).toBe(401);
    const ok = await fetch(`${gw.url}/admin/reload`, { method: 'POST', headers: { 'x-api-key': ADMIN } });
    expect(ok.status).toBe(200);
  });

  it('the upstream gets the provider key, never the client one', async () => {
    const res = await chat({ authorization: `Bearer ${ALICE}`, 'x-api-key': ALICE, 'x-goog-api-key': ALICE }, '/v1/chat/completions', 'upstream');
    expect(res.status).toBe(200);
    const sent = up.received.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(sent.headers)).not.toContain(ALICE);
  });
});

describe('load-time checks', () => {
  const start = (pipeline: Parameters<typeof createTestGateway>[0]['config'] extends infer C ? (C extends { pipeline?: infer P } ? P : never) : never) =>
    createTestGateway({ config: { providers: { echo: mock() }, pipeline } });

  it('rejects empty (unset env) keys, duplicates and limits without a rateLimit', async () => {
    expect(() => auth({ keys: [undefined] })).toThrow(/keys\[0\]: the key is empty/);
    expect(() => auth({ keys: ['a-key-1', 'a-key-1'] })).toThrow(/listed twice/);
    expect(() => auth({ keys: [{ name: 'x', key: 'k1' }, { name: 'x', key: 'k2' }] })).toThrow(/"x" is used twice/);
    expect(() => auth({ keys: [{ key: 'k1', limits: [{ requests: 0, per: '1m' }] }] })).toThrow(/"requests" must be a positive number/);
    expect(() => auth({ keys: ['k1'], adminKeys: [''] })).toThrow(/adminKeys\[0\]/);
    await expect(start([auth({ keys: [{ name: 'lim', key: 'k1', limits: [{ requests: 1, per: '1m' }] }] })])).rejects.toThrow(/no rateLimit\(\) before failover/);
    const ok = await start([auth({ keys: [{ name: 'lim', key: 'k1', limits: [{ requests: 1, per: '1m' }] }] }), rateLimit()]);
    await ok.close();
  });
});
