/**
 * Gateway keys across the four wire formats, over real HTTP with each format's official SDK:
 * every inbound key style is accepted on every route (chat, Responses, Messages, Gemini
 * generate and stream), a missing or wrong key is a 401 in the caller's own error shape, the
 * admin key guards `/admin/*`, `/metrics` and `/context`, and no client key reaches any upstream
 * (each provider sends its own credentials, in headers and in the URL alike).
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, auth, createTestGateway, gemini, openai, openaiResponses, sticky, type TestGateway } from 'switchyard';
import { formatUpstream } from '../../test/fixtures/format-upstream.ts';
import type { MockUpstream } from '../../test/fixtures/upstream.ts';

const ALICE = 'sk-formats-alice-0123456789';
const ADMIN = 'sk-formats-admin-0123456789';
const UP = { oa: 'sk-up-openai-111', an: 'sk-up-anthropic-222', gm: 'sk-up-gemini-333', rs: 'sk-up-responses-444' };

let gw: TestGateway;
const ups = {} as Record<keyof typeof UP, MockUpstream>;
beforeAll(async () => {
  [ups.oa, ups.an, ups.gm, ups.rs] = await Promise.all([formatUpstream('openai'), formatUpstream('anthropic'), formatUpstream('gemini'), formatUpstream('responses')]);
  gw = await createTestGateway({
    config: {
      providers: {
        oa: openai({ baseURL: `${ups.oa.url}/v1`, apiKey: UP.oa }),
        an: anthropic({ baseURL: ups.an.url, apiKey: UP.an }),
        gm: gemini({ baseURL: ups.gm.url, apiKey: UP.gm }),
        rs: openaiResponses({ baseURL: `${ups.rs.url}/v1`, apiKey: UP.rs }),
      },
      models: { 'to-oa': 'oa/m', 'to-an': 'an/m', 'to-gm': 'gm/m', 'to-rs': 'rs/m' },
      pipeline: [auth({ keys: [{ name: 'alice', key: ALICE }], adminKeys: [ADMIN] }), sticky()],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  for (const u of Object.values(ups)) await u?.close();
});

const genai = (apiKey: string) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gw.url, retryOptions: { attempts: 1 } } });
const geminiBody = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });

describe('every key style on every route; no client key upstream', () => {
  it('OpenAI Chat and Responses (Bearer, the OpenAI SDK)', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ALICE, maxRetries: 0 });
    expect((await c.chat.completions.create({ model: 'to-oa', messages: [{ role: 'user', content: 'chat' }] })).choices[0]!.message.content).toContain('chat');
    expect((await c.responses.create({ model: 'to-rs', input: 'resp' })).output_text).toContain('resp');
    let text = '';
    for await (const ev of await c.responses.create({ model: 'to-rs', input: 'streamed', stream: true })) if (ev.type === 'response.output_text.delta') text += ev.delta;
    expect(text).toContain('streamed');
  });

  it('Anthropic Messages (x-api-key, and Bearer via authToken)', async () => {
    const viaKey = new Anthropic({ baseURL: gw.url, apiKey: ALICE, maxRetries: 0 });
    expect((await viaKey.messages.create({ model: 'to-an', max_tokens: 20, messages: [{ role: 'user', content: 'key' }] })).content[0]).toMatchObject({ type: 'text' });
    const viaBearer = new Anthropic({ baseURL: gw.url, apiKey: null, authToken: ALICE, maxRetries: 0 });
    const m = await viaBearer.messages.stream({ model: 'to-an', max_tokens: 20, messages: [{ role: 'user', content: 'bearer' }] }).finalMessage();
    expect(m.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('bearer') });
  });

  it('Gemini generate and stream (x-goog-api-key, the Google SDK; ?key= on both routes)', async () => {
    expect((await genai(ALICE).models.generateContent({ model: 'to-gm', contents: 'gen' })).text).toContain('gen');
    let text = '';
    for await (const c of await genai(ALICE).models.generateContentStream({ model: 'to-gm', contents: 'gstream' })) text += c.text ?? '';
    expect(text).toContain('gstream');
    const post = (path: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: geminiBody });
    const plain = await post(`/v1beta/models/to-gm:generateContent?key=${ALICE}`);
    expect(plain.status).toBe(200);
    const streamed = await post(`/v1beta/models/to-gm:streamGenerateContent?alt=sse&key=${ALICE}`);
    expect([streamed.status, streamed.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/event-stream')]);
    expect(await streamed.text()).toContain('data:');
  });

  it('each upstream got its own provider key and never the client one (headers or URL)', () => {
    const seen = { oa: 'authorization', an: 'x-api-key', gm: 'x-goog-api-key', rs: 'authorization' } as const;
    for (const [name, header] of Object.entries(seen) as Array<[keyof typeof UP, string]>) {
      const received = ups[name].received;
      expect(received.length).toBeGreaterThan(0);
      for (const r of received) {
        expect(String(r.headers[header])).toContain(UP[name]);
        expect(JSON.stringify(r.headers) + r.path).not.toContain(ALICE);
      }
    }
  });
});

describe('401 in the caller format', () => {
  it('OpenAI Responses: AuthenticationError with code invalid_api_key', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-wrong-key', maxRetries: 0 });
    const err = await c.responses.create({ model: 'to-rs', input: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it('Anthropic, missing key: authentication_error', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'to-an', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.stringContaining('Missing API key') } });
  });

  it('Gemini, wrong and missing key: {error:{code:401,status:"UNAUTHENTICATED"}}', async () => {
    const err = (await genai('wrong-key-123').models.generateContent({ model: 'to-gm', contents: 'x' }).catch((e: unknown) => e)) as { status?: number; message?: string };
    expect(err.status).toBe(401);
    expect(err.message).toContain('UNAUTHENTICATED');
    for (const path of ['/v1beta/models/to-gm:generateContent', '/v1beta/models/to-gm:streamGenerateContent?alt=sse']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: geminiBody });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 401, message: expect.stringContaining('Missing API key'), status: 'UNAUTHENTICATED' } });
    }
  });
});

describe('the admin key', () => {
  it('guards /admin/*, /metrics and /context; a client key is not an admin key', async () => {
    for (const [method, path] of [['GET', '/admin/models'], ['POST', '/admin/reload'], ['GET', '/metrics'], ['GET', '/context/s1'], ['DELETE', '/context/s1']]) {
      const as = (key?: string) => fetch(`${gw.url}${path}`, { method, headers: key ? { authorization: `Bearer ${key}` } : {} }).then((r) => r.status);
      expect([path, await as()]).toEqual([path, 401]);
      expect([path, await as(ALICE)]).toEqual([path, 401]);
      expect([path, await as(ADMIN)]).toEqual([path, 200]);
    }
  });
});
