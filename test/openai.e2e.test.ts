/**
 * End to end, OpenAI format: the official `openai` SDK → the gateway on a real port → a mock
 * OpenAI upstream (a real HTTP server). Covers chat, streams, tools, embeddings, models and
 * every error path of the foundation.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, mock, openai, type TestGateway } from 'switchyard';
import { openaiUpstream, sleep, type MockUpstream } from './fixtures/upstream.ts';

const UPSTREAM_KEY = 'sk-test-secret-key-123456';
let up: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  up = await openaiUpstream();
  gw = await createTestGateway({
    config: {
      server: { bodyLimit: 64 * 1024 },
      providers: {
        oa: openai({ baseURL: `${up.url}/v1`, apiKey: UPSTREAM_KEY }),
        slow: openai({ baseURL: `${up.url}/v1`, apiKey: UPSTREAM_KEY, timeoutMs: 300 }),
        dead: openai({ baseURL: 'http://127.0.0.1:9/v1', apiKey: UPSTREAM_KEY }),
        echo: mock(),
      },
      models: {
        chat: { provider: 'oa', model: 'up-chat' },
        gated: { provider: 'oa', model: 'gated' },
        hang: { provider: 'oa', model: 'hang' },
        timeout: { provider: 'slow', model: 'hang' },
        unreachable: { provider: 'dead', model: 'x' },
        'bad-param': { provider: 'oa', model: 'fail-400' },
        'bad-key': { provider: 'oa', model: 'fail-401' },
        limited: { provider: 'oa', model: 'fail-429' },
        broken: { provider: 'oa', model: 'fail-500' },
        'reset-mid': { provider: 'oa', model: 'reset-mid-stream' },
        'error-mid': { provider: 'oa', model: 'error-mid-stream' },
        reset: { provider: 'oa', model: 'reset' },
        demo: { provider: 'echo', model: 'echo' },
      },
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('chat completions', () => {
  it('answers a non-streaming request with only the model changed upstream', async () => {
    const res = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }], temperature: 0.3 });
    expect(res.choices[0]!.message.content).toBe('echo: hello');
    expect(res.usage?.total_tokens).toBe(15);
    const sent = up.received.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).toEqual({ model: 'up-chat', messages: [{ role: 'user', content: 'hello' }], temperature: 0.3 });
    expect(sent.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(sent.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('streams deltas as they arrive, before the upstream has finished', async () => {
    const stream = await client.chat.completions.create({ model: 'gated', stream: true, messages: [{ role: 'user', content: 'a b c' }] });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next(); // role chunk
    const second = await it.next(); // first content chunk, while the upstream is still gated
    expect(first.value.choices[0].delta.role).toBe('assistant');
    expect(second.value.choices[0].delta.content).toBe('echo: ');
    up.release();
    let text = 'echo: ';
    for (let r = await it.next(); !r.done; r = await it.next()) text += r.value.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: a b c');
  });

  it('relays the usage chunk when stream_options.include_usage is set', async () => {
    const stream = await client.chat.completions.create({
      model: 'chat',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'count me' }],
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5 });
  });

  it('works with the SDK stream helper', async () => {
    const runner = client.chat.completions.stream({ model: 'chat', messages: [{ role: 'user', content: 'helper' }] });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('echo: helper');
  });

  it('returns tool calls, streamed and not', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const res = await client.chat.completions.create({ model: 'chat', tools, messages: [{ role: 'user', content: 'weather?' }] });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls?.[0]).toMatchObject({ id: 'call_up1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    const runner = client.chat.completions.stream({ model: 'chat', tools, messages: [{ role: 'user', content: 'weather?' }] });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { arguments: '{"city":"Paris"}' } });
  });

  it('serves the built-in mock provider with a tool call when tools are given', async () => {
    const res = await client.chat.completions.create({
      model: 'demo',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
      messages: [{ role: 'user', content: 'find it' }],
    });
    expect(res.choices[0]!.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'lookup' } });
  });

  it('accepts provider/model names directly', async () => {
    const res = await client.chat.completions.create({ model: 'oa/direct-model', messages: [{ role: 'user', content: 'direct' }] });
    expect(res.choices[0]!.message.content).toBe('echo: direct');
    expect(up.received.at(-1)!.body.model).toBe('direct-model');
  });
});

describe('other endpoints', () => {
  it('embeddings', async () => {
    const res = await client.embeddings.create({ model: 'chat', input: 'vector me' });
    expect(res.data[0]!.embedding).toEqual([0.1, 0.2, 0.3]);
    expect(up.received.at(-1)!.path).toBe('/v1/embeddings');
  });

  it('legacy completions', async () => {
    const res = await client.completions.create({ model: 'chat', prompt: 'finish this' });
    expect(res.choices[0]!.text).toBe('completed: finish this');
  });

  it('lists logical names and provider/model entries', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['chat', 'demo', 'oa/up-chat', 'echo/echo']));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('health', async () => {
    const res = await fetch(`${gw.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('errors', () => {
  const expectOpenAIError = async (res: Response, status: number, code?: string) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { message: string; type: string; code: string | null } };
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.type).toBe('string');
    if (code) expect(body.error.code).toBe(code);
    return body;
  };

  it('malformed JSON → 400', async () => {
    await expectOpenAIError(await post('/v1/chat/completions', '{"model":'), 400);
  });

  it('missing or invalid model/messages → 400', async () => {
    await expectOpenAIError(await post('/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }] })), 400);
    await expectOpenAIError(await post('/v1/chat/completions', JSON.stringify({ model: 42, messages: [] })), 400);
    await expectOpenAIError(await post('/v1/chat/completions', JSON.stringify({ model: 'chat' })), 400);
    await expectOpenAIError(await post('/v1/chat/completions', JSON.stringify({ model: 'chat', messages: 'hi' })), 400);
  });

  it('unknown model → 404 model_not_found (SDK NotFoundError)', async () => {
    const err = await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe('model_not_found');
    expect(err.param).toBe('model');
  });

  it('body over the limit → 413', async () => {
    const big = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
    await expectOpenAIError(await post('/v1/chat/completions', big), 413);
  });

  it('upstream 4xx relayed with its status, in the OpenAI shape', async () => {
    const err = await client.chat.completions.create({ model: 'bad-param', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain('upstream says 400');
  });

  it('upstream 401 does not leak the upstream key', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'bad-key', messages: [{ role: 'user', content: 'x' }] }));
    const text = await res.text();
    expect(res.status).toBe(401);
    expect(text).not.toContain(UPSTREAM_KEY);
    expect(text).not.toContain('sk-test');
  });

  it('upstream 429 keeps retry-after', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'limited', messages: [{ role: 'user', content: 'x' }] }));
    await expectOpenAIError(res, 429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('upstream 5xx → same status, generic message', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'broken', messages: [{ role: 'user', content: 'x' }] }));
    const body = await expectOpenAIError(res, 500);
    expect(body.error.message).not.toContain('upstream says');
  });

  it('upstream unreachable → 502', async () => {
    await expectOpenAIError(await post('/v1/chat/completions', JSON.stringify({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] })), 502);
    await expectOpenAIError(await post('/v1/chat/completions', JSON.stringify({ model: 'reset', messages: [{ role: 'user', content: 'x' }] })), 502);
  });

  it('upstream timeout → 504', async () => {
    await expectOpenAIError(await post('/v1/chat/completions', JSON.stringify({ model: 'timeout', messages: [{ role: 'user', content: 'x' }] })), 504);
  });

  it('a connection reset after the first streamed byte ends with an in-stream error, never [DONE]', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'reset-mid', stream: true, messages: [{ role: 'user', content: 'a b c d' }] }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('echo: ');
    expect(text).toContain('"error"');
    expect(text).not.toContain('[DONE]');
    const sdkErr = await (async () => {
      const s = await client.chat.completions.create({ model: 'reset-mid', stream: true, messages: [{ role: 'user', content: 'a b c d' }] });
      for await (const _ of s) void _;
    })().catch((e) => e);
    expect(sdkErr).toBeInstanceOf(Error);
  });

  it('an upstream in-stream error is relayed as an error event, not [DONE]', async () => {
    const text = await (await post('/v1/chat/completions', JSON.stringify({ model: 'error-mid', stream: true, messages: [{ role: 'user', content: 'a b' }] }))).text();
    expect(text).toContain('upstream overloaded mid-stream');
    expect(text).not.toContain('[DONE]');
  });

  it('unknown routes → 404 in the OpenAI shape', async () => {
    await expectOpenAIError(await fetch(`${gw.url}/v1/nothing`), 404);
  });
});

describe('client abort', () => {
  it('aborts the upstream request when the client disconnects', async () => {
    const before = up.aborted.length;
    const ac = new AbortController();
    const pending = client.chat.completions.create({ model: 'hang', messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal }).catch((e) => e);
    for (let i = 0; i < 50 && up.received.at(-1)?.body.model !== 'hang'; i++) await sleep(20);
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    for (let i = 0; i < 50 && up.aborted.length === before; i++) await sleep(20);
    expect(up.aborted.length).toBe(before + 1);
  });

  it('aborts an upstream stream when the client stops reading', async () => {
    const before = up.aborted.length;
    const ac = new AbortController();
    const stream = await client.chat.completions.create({ model: 'gated', stream: true, messages: [{ role: 'user', content: 'x y' }] }, { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    ac.abort();
    for (let i = 0; i < 50 && up.aborted.length === before; i++) await sleep(20);
    expect(up.aborted.length).toBe(before + 1);
    up.release();
  });
});
