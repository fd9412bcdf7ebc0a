import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { SSEMessage } from '../../core/codec.ts';
import type { IRStreamEvent, IRToolCall, IRToolResult } from '../../core/ir.ts';
import { parseSse, runCodecFixtures } from '../../test/codec-fixtures.ts';
import { openaiCodec } from './codec.ts';

runCodecFixtures(openaiCodec, fileURLToPath(new URL('./fixtures', import.meta.url)));

const toSse = (messages: SSEMessage[]) => messages.map((m) => `data: ${m.data}\n\n`).join('');

function encodeAll(events: IRStreamEvent[], includeUsage = false): SSEMessage[] {
  const enc = openaiCodec.createStreamEncoder({ model: 'client-model', includeUsage });
  return [...events.flatMap((e) => enc.push(e)), ...enc.end()];
}

/** An official SDK client whose HTTP layer answers every call with `body`. */
function sdkAnswering(body: string, contentType = 'text/event-stream'): OpenAI {
  return new OpenAI({
    apiKey: 'test',
    baseURL: 'http://gateway.invalid/v1',
    maxRetries: 0,
    fetch: async () => new Response(body, { status: 200, headers: { 'content-type': contentType } }),
  });
}

const toolStream: IRStreamEvent[] = [
  { type: 'text_delta', text: 'Checking.' },
  { type: 'tool_call_start', index: 0, id: 'toolu_1', name: 'search' },
  { type: 'tool_call_delta', index: 0, arguments: '{"q":' },
  { type: 'tool_call_start', index: 1, id: 'toolu_2', name: 'weather' },
  { type: 'tool_call_delta', index: 1, arguments: '{"city":"Paris"}' },
  { type: 'tool_call_delta', index: 0, arguments: '"x"}' },
  { type: 'tool_call_end', index: 0 },
  { type: 'tool_call_end', index: 1 },
  { type: 'finish', reason: 'stop' },
  { type: 'usage', usage: { inputTokens: 12, outputTokens: 7, cachedTokens: 2 } },
];

describe('openai stream encoder', () => {
  it('mints one chatcmpl- id and one created for every chunk', () => {
    const chunks = encodeAll(toolStream, true).filter((m) => m.data !== '[DONE]');
    const parsed = chunks.map((m) => JSON.parse(m.data) as { id: string; created: number });
    expect(parsed[0]!.id).toMatch(/^chatcmpl-/);
    expect(new Set(parsed.map((c) => c.id)).size).toBe(1);
    expect(new Set(parsed.map((c) => c.created)).size).toBe(1);
  });

  it('is accepted by the official openai SDK stream accumulator', async () => {
    const client = sdkAnswering(toSse(encodeAll(toolStream, true)));
    const stream = client.chat.completions.stream({ model: 'client-model', messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalChatCompletion();
    expect(final.model).toBe('client-model');
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.content).toBe('Checking.');
    expect(final.choices[0]!.message.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } },
      { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
    ]);
    expect(final.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });
  });

  it('makes the official SDK throw on an in-stream error instead of finishing', async () => {
    const events: IRStreamEvent[] = [
      { type: 'text_delta', text: 'Hi' },
      { type: 'error', error: { status: 529, message: 'Overloaded', code: 'overloaded_error' } },
    ];
    const client = sdkAnswering(toSse(encodeAll(events)));
    const stream = client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    await expect(stream.finalChatCompletion()).rejects.toThrow(/Overloaded/);
  });
});

describe('openai round trips', () => {
  it('decodeStream → encodeStream reproduces an OpenAI upstream stream for an OpenAI client', async () => {
    const upstream = [
      '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1750097781,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}',
      '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1750097781,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}',
      '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1750097781,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
      '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1750097781,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
      '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1750097781,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}',
      '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1750097781,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}',
      '[DONE]',
    ];
    const dec = openaiCodec.createStreamDecoder();
    const events = [...(await parseSse(upstream.map((d) => `data: ${d}\n\n`).join(''))).flatMap((m) => dec.push(m)), ...dec.end()];
    const out = encodeAll(events, true).map((m) => m.data);
    expect(out).toEqual(upstream.map((d) => d.replace('"model":"gpt-4o"', '"model":"client-model"')));
  });

  it('decodeRequest → encodeRequest keeps a Chat request equivalent', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: '{"c":"P"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      ],
      tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object', properties: { c: { type: 'string' } } }, strict: false } }],
      tool_choice: 'auto',
      max_completion_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    };
    expect(openaiCodec.encodeRequest(openaiCodec.decodeRequest(body), { model: 'gpt-4o' })).toEqual(body);
  });

  it('decodeResponse → encodeResponse keeps a completion equivalent and the SDK parses it', async () => {
    const body = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1750000000,
      model: 'client-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    };
    const encoded = openaiCodec.encodeResponse(openaiCodec.decodeResponse(body), { model: 'client-model' });
    expect(encoded).toEqual(body);
    const res = await sdkAnswering(JSON.stringify(encoded), 'application/json').chat.completions.create({ model: 'm', messages: [] });
    expect(res.choices[0]!.message.content).toBe('Hi');
  });

  it('renders errors the official SDK maps to the right class', async () => {
    const { status, body } = openaiCodec.renderError({ status: 529, message: 'Overloaded', code: 'overloaded_error' });
    const client = new OpenAI({
      apiKey: 'test',
      baseURL: 'http://gateway.invalid/v1',
      maxRetries: 0,
      fetch: async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }),
    });
    const err = await client.chat.completions.create({ model: 'm', messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('Overloaded');
  });
});

describe('legacy functions clients (§4 #40)', () => {
  const legacyBody = {
    model: 'gpt-3.5-turbo',
    messages: [{ role: 'user', content: 'Weather in Paris?' }] as Array<Record<string, unknown>>,
    functions: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
  };
  const optsOf = (ir: ReturnType<typeof openaiCodec.decodeRequest>) => ({ model: 'gpt-3.5-turbo', tools: ir.tools, legacyFunctions: ir.legacyFunctions });

  it('the official SDK stream accumulator reads the legacy stream as message.function_call', async () => {
    const enc = openaiCodec.createStreamEncoder({ model: 'client-model', legacyFunctions: true });
    const client = sdkAnswering(toSse([...toolStream.flatMap((e) => enc.push(e)), ...enc.end()]));
    const stream = client.chat.completions.stream({ model: 'client-model', messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('function_call');
    expect(final.choices[0]!.message.function_call).toEqual({ name: 'search', arguments: '{"q":"x"}' });
    expect(final.choices[0]!.message.tool_calls ?? []).toEqual([]);
  });

  it('the legacy answer, sent back as history with its function result, pairs call and result again', () => {
    const ir = openaiCodec.decodeRequest(legacyBody);
    expect(ir).toMatchObject({ legacyFunctions: true, parallelToolCalls: false });
    const answer = openaiCodec.encodeResponse(
      { id: 'msg_1', model: 'up', created: 1, finishReason: 'tool_calls', content: [{ type: 'tool_call', id: 'toolu_9', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      optsOf(ir),
    ) as { choices: Array<{ message: Record<string, unknown>; finish_reason: string }> };
    const { message, finish_reason } = answer.choices[0]!;
    expect(finish_reason).toBe('function_call');
    expect(message.function_call).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });

    const next = openaiCodec.decodeRequest({
      ...legacyBody,
      messages: [...legacyBody.messages, message, { role: 'function', name: 'get_weather', content: '18C' }],
    });
    const call = next.messages[1]!.content[0] as IRToolCall;
    const result = next.messages[2]!.content[0] as IRToolResult;
    expect(call).toMatchObject({ type: 'tool_call', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(result).toMatchObject({ type: 'tool_result', callId: call.id, name: 'get_weather', content: '18C' });
    // A converted upstream sees a well-formed modern tool loop.
    const upstream = openaiCodec.encodeRequest(next, { model: 'gpt-4o' }) as { messages: Array<Record<string, unknown>> };
    expect(upstream.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: call.id, content: '18C' },
    ]);
  });
});
