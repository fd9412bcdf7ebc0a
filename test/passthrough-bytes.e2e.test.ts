/**
 * Same-format JSON answers relay the upstream's bytes unchanged (issue 3: "relay upstream bytes
 * unchanged"): big integers keep every digit, numbers keep their spelling, whitespace stays. A
 * plugin that edits the answer still gets its edit through (the body is then serialized).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { createTestGateway, definePlugin, failover, gemini, openai, type TestGateway } from 'switchyard';
import { formatUpstream } from './fixtures/format-upstream.ts';
import { startUpstream, type MockUpstream } from './fixtures/upstream.ts';

// What a JSON.parse → JSON.stringify round trip would change: the 20-digit seed (beyond 2^53),
// "1.50", "1e-7" and the spacing.
const CHAT = `{"id":"chatcmpl-bytes","object":"chat.completion","created":1700000000,"model":"up-chat",
  "system_fingerprint": "fp_1", "seed": 12345678901234567890, "temperature": 1.50,
  "choices":[{"index":0,"message":{"role":"assistant","content":"exact bytes","refusal":null},"logprobs":null,"finish_reason":"stop","score":1e-7}],
  "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`;
const EMBEDDINGS = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.10,-2.5e-3,12345678901234567890]}],"model":"up-embed","usage":{"prompt_tokens":1,"total_tokens":1}}`;

// 2xx answers that are not what they should be, and one whose usage is not its last member.
const ODD: Record<string, string> = {
  html: '<html><body>502 Bad Gateway</body></html>',
  truncated: CHAT.slice(0, -1),
  empty: '',
  'usage-first': `{"usage":{"prompt_tokens":7,"completion_tokens":4,"total_tokens":11},"id":"chatcmpl-u","object":"chat.completion","created":1,"model":"usage-first","choices":[{"index":0,"message":{"role":"assistant","content":"usage first"},"finish_reason":"stop"}]}`,
};

let up: MockUpstream;
let gw: TestGateway;

const edit = definePlugin({
  name: 'edit',
  async middleware(ctx, next) {
    await next();
    const r = ctx.state.result;
    if (ctx.get('x-edit') === '1' && r?.type === 'json') {
      const choices = r.body.choices as Array<{ message: { content: string } }>;
      choices[0]!.message.content += ' [edited]';
    }
  },
});

beforeAll(async () => {
  up = await startUpstream((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.path.endsWith('/embeddings')) return void res.end(EMBEDDINGS);
    res.end(ODD[req.body.model as string] ?? CHAT);
  });
  gw = await createTestGateway({
    config: {
      providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-test-bytes-123456' }) },
      models: {
        chat: { provider: 'oa', model: 'up-chat' },
        embed: { provider: 'oa', model: 'up-embed' },
        ...Object.fromEntries(Object.keys(ODD).map((m) => [m, { provider: 'oa', model: m }])),
        // the first target answers an HTML page with status 200: failover goes on to the second
        fallback: [{ provider: 'oa', model: 'html', priority: 0 }, { provider: 'oa', model: 'up-chat', priority: 1 }],
      },
      pipeline: [edit, failover({ retries: 0 })],
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** Input + output tokens counted so far for a model (the metrics read usage from the answer). */
async function tokens(model: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^switchyard_tokens_total\{([^}]*)\} (\d+)$/gm)) if (m[1]!.includes(`model="${model}"`)) sum += Number(m[2]);
  return sum;
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('same-format JSON passthrough', () => {
  it('relays the upstream bytes of a chat completion unchanged', async () => {
    const res = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe(CHAT);
    expect(up.received.at(-1)!.body.model).toBe('up-chat'); // only the model was changed upstream
  });

  it('relays embeddings bytes unchanged', async () => {
    const res = await post('/v1/embeddings', { model: 'embed', input: 'x' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EMBEDDINGS);
  });

  it('still reads usage from the relayed answer (metrics and access line)', async () => {
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_tokens_total\{[^}]*type="input"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/switchyard_tokens_total\{[^}]*type="output"[^}]*\} [1-9]/);
  });

  it.each(['html', 'truncated', 'empty'])('answers 502 in the caller\'s shape when a 200 is not JSON (%s)', async (model) => {
    const res = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_bad_response');
    expect(body.error.message).not.toContain('<html>');
  });

  it('fails over when a target answers a 200 that is not JSON', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const c = await client.chat.completions.create({ model: 'fallback', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0]!.message.content).toBe('exact bytes');
    expect(up.received.slice(-2).map((r) => r.body.model)).toEqual(['html', 'up-chat']);
  });

  it('reads usage wherever the answer has it (here first), and relays the bytes unchanged', async () => {
    const before = await tokens('usage-first');
    const res = await post('/v1/chat/completions', { model: 'usage-first', messages: [{ role: 'user', content: 'hi' }] });
    expect(await res.text()).toBe(ODD['usage-first']);
    expect((await tokens('usage-first')) - before).toBe(11);
  });

  it('sends a plugin-edited body instead of the upstream bytes', async () => {
    const res = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { 'x-edit': '1' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toBe('exact bytes [edited]');
  });

  it('is an ordinary answer to the openai SDK', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' });
    const c = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0]!.message.content).toBe('exact bytes');
    expect(c.usage?.total_tokens).toBe(5);
  });
});

describe('integers past 2^53 in a request', () => {
  const body = (model: string) =>
    `{"model":"${model}","seed":12345678901234567890,"messages":[{"role":"user","content":"id 98765432109876543210 in text"}],"metadata":{"n":"x","big":-9007199254740993}}`;

  it('reach a same-format upstream with every digit the client sent', async () => {
    const raw: string[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        raw.push(text);
        res.setHeader('content-type', 'application/json');
        res.end(CHAT);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const g = await createTestGateway({
      config: { providers: { oa: openai({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-test-bytes-123456' }) }, models: { chat: { provider: 'oa', model: 'up-chat' } } },
    });
    try {
      const res = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('chat') });
      expect(res.status).toBe(200);
      expect(raw[0]).toContain('"seed":12345678901234567890');
      expect(raw[0]).toContain('"big":-9007199254740993');
      expect(raw[0]).toContain('"content":"id 98765432109876543210 in text"');
      expect(JSON.parse(raw[0]!).model).toBe('up-chat');
    } finally {
      await g.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('read as numbers when converted to another format (no 400)', async () => {
    const gup = await formatUpstream('gemini');
    const g = await createTestGateway({
      config: { providers: { g: gemini({ baseURL: gup.url, apiKey: 'AIza-test-bytes-123456' }) }, models: { gem: { provider: 'g', model: 'gemini-test' } } },
    });
    try {
      const res = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('gem') });
      expect(res.status).toBe(200);
      const sent = gup.received.at(-1)!.body as { generationConfig?: { seed?: number } };
      expect(sent.generationConfig?.seed).toBe(12345678901234567890);
    } finally {
      await g.close();
      await gup.close();
    }
  });
});
