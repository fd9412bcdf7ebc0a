/**
 * Legacy Chat `functions` clients end to end (WIRE-FORMATS §4 #40): the official `openai` SDK
 * sends `functions` (no `tools`); converted providers (the in-process mock, an Anthropic upstream)
 * answer in the legacy `function_call` shape, the next turn's legacy history round-trips, and a
 * Chat upstream (passthrough) is relayed untouched both ways.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, createTestGateway, mock, openai, type TestGateway } from 'switchyard';
import { formatUpstream } from './fixtures/format-upstream.ts';
import { sse, startUpstream, type MockUpstream } from './fixtures/upstream.ts';

const functions = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
const ask = [{ role: 'user' as const, content: 'Weather in Paris?' }];

// A Chat upstream answering in the legacy shape itself, with a field the gateway does not know.
const CHAT_ANSWER = {
  id: 'chatcmpl-up',
  object: 'chat.completion',
  created: 1750000000,
  model: 'gpt-3.5-turbo-0613',
  choices: [{ index: 0, message: { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, finish_reason: 'function_call' }],
  usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
  system_fingerprint: 'fp_up',
};
const CHAT_CHUNKS = [
  { id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1750000000, model: 'gpt-3.5-turbo-0613', choices: [{ index: 0, delta: { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '' } }, finish_reason: null }] },
  { id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1750000000, model: 'gpt-3.5-turbo-0613', choices: [{ index: 0, delta: { function_call: { arguments: '{"city":"Paris"}' } }, finish_reason: null }] },
  { id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1750000000, model: 'gpt-3.5-turbo-0613', choices: [{ index: 0, delta: {}, finish_reason: 'function_call' }] },
];

let chatUp: MockUpstream;
let anthUp: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  chatUp = await startUpstream((req, res) => {
    if (req.body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of CHAT_CHUNKS) sse(res, c);
      res.end('data: [DONE]\n\n');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(CHAT_ANSWER));
    }
  });
  anthUp = await formatUpstream('anthropic');
  gw = await createTestGateway({
    config: {
      providers: {
        echo: mock(),
        chat: openai({ baseURL: `${chatUp.url}/v1`, apiKey: 'up-key' }),
        anth: anthropic({ baseURL: anthUp.url, apiKey: 'up-key' }),
      },
      models: { demo: 'echo/echo', legacy: 'chat/gpt-3.5-turbo-0613', claude: 'anth/claude-sonnet-4-5' },
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  for (const u of [chatUp, anthUp]) await u?.close();
});

describe('a converted provider answers a legacy functions client in its shape', () => {
  it('non-stream (mock): message.function_call and finish_reason function_call, no tool_calls', async () => {
    const res = await client.chat.completions.create({ model: 'demo', messages: ask, functions });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('function_call');
    expect(choice.message.function_call).toEqual({ name: 'get_weather', arguments: JSON.stringify({ input: 'Weather in Paris?' }) });
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.message.content).toBeNull();
  });

  it('stream (mock): delta.function_call, name first then argument fragments, finish function_call', async () => {
    const stream = await client.chat.completions.create({ model: 'demo', messages: ask, functions, stream: true });
    const deltas: Array<Record<string, unknown>> = [];
    const finishes: unknown[] = [];
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        if (c.delta.function_call) deltas.push(c.delta.function_call as Record<string, unknown>);
        if (c.delta.tool_calls) throw new Error('a legacy client got tool_calls');
        if (c.finish_reason) finishes.push(c.finish_reason);
      }
    }
    expect(deltas[0]).toEqual({ name: 'get_weather', arguments: '' });
    expect(deltas.slice(1).every((d) => d.name === undefined && typeof d.arguments === 'string')).toBe(true);
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((d) => d.arguments).join('')).toBe(JSON.stringify({ input: 'Weather in Paris?' }));
    expect(finishes).toEqual(['function_call']);
  });

  it('stream (mock): the SDK stream helper accumulates message.function_call', async () => {
    const final = await client.chat.completions.stream({ model: 'demo', messages: ask, functions }).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('function_call');
    expect(final.choices[0]!.message.function_call).toEqual({ name: 'get_weather', arguments: JSON.stringify({ input: 'Weather in Paris?' }) });
  });

  it('the next turn sends the legacy call and its function result back; the mock reads the result', async () => {
    const first = await client.chat.completions.create({ model: 'demo', messages: ask, functions });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...ask,
      first.choices[0]!.message,
      { role: 'function', name: 'get_weather', content: '18C' },
    ];
    const res = await client.chat.completions.create({ model: 'demo', messages, functions });
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.choices[0]!.message.content).toBe('tool result: 18C');
  });

  it('an Anthropic upstream is asked for one call at a time; the client gets function_call', async () => {
    const res = await client.chat.completions.create({ model: 'claude', messages: ask, functions });
    expect(res.choices[0]!.finish_reason).toBe('function_call');
    expect(res.choices[0]!.message.function_call).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(anthUp.received.at(-1)!.body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('a client that sent tools (not functions) still gets tool_calls', async () => {
    const tools = functions.map((f) => ({ type: 'function' as const, function: f }));
    const res = await client.chat.completions.create({ model: 'demo', messages: ask, tools });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls).toMatchObject([{ type: 'function', function: { name: 'get_weather' } }]);
    expect(res.choices[0]!.message.function_call).toBeUndefined();
  });
});

describe('a Chat upstream (passthrough) is left untouched', () => {
  const post = (body: Record<string, unknown>) =>
    fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('non-stream: the request goes up as sent (model aside) and the answer comes back as is', async () => {
    const body = { model: 'legacy', messages: ask, functions, function_call: 'auto' };
    const res = await post(body);
    expect(await res.text()).toBe(JSON.stringify(CHAT_ANSWER));
    expect(chatUp.received.at(-1)!.body).toEqual({ ...body, model: 'gpt-3.5-turbo-0613' });
  });

  it('stream: every chunk is relayed byte for byte', async () => {
    const body = { model: 'legacy', messages: ask, functions, stream: true };
    const res = await post(body);
    const lines = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
    expect(lines).toEqual([...CHAT_CHUNKS.map((c) => JSON.stringify(c)), '[DONE]']);
    // The gateway always asks a streaming Chat upstream for usage (its own accounting); nothing else changes.
    expect(chatUp.received.at(-1)!.body).toEqual({ ...body, model: 'gpt-3.5-turbo-0613', stream_options: { include_usage: true } });
  });
});
