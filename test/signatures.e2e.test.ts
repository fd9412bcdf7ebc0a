/**
 * Thinking signatures for OpenAI Chat clients (WIRE-FORMATS §4 #17), end to end: the official
 * `openai` SDK runs a tool loop through the gateway against mock Anthropic and Gemini upstreams
 * that answer with signed reasoning; the client drops reasoning from its history, as real Chat
 * clients do, and the upstream still gets the signed blocks back on the second turn. An OpenAI
 * upstream sees the client's body untouched.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, createTestGateway, gemini, openai, type TestGateway } from 'switchyard';
import { formatUpstream } from './fixtures/format-upstream.ts';
import type { MockUpstream } from './fixtures/upstream.ts';

let claudeUp: MockUpstream;
let chatUp: MockUpstream;
let gemUp: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  claudeUp = await formatUpstream('anthropic');
  chatUp = await formatUpstream('openai');
  gemUp = await formatUpstream('gemini');
  gw = await createTestGateway({
    config: {
      providers: {
        claude: anthropic({ baseURL: claudeUp.url, apiKey: 'up-key' }),
        chat: openai({ baseURL: `${chatUp.url}/v1`, apiKey: 'up-key' }),
        gem: gemini({ baseURL: gemUp.url, apiKey: 'up-key' }),
      },
      models: {
        think: 'claude/think-claude',
        'think-gem': 'gem/think-gemini',
        chat: 'chat/gpt-x',
        // The Claude attempt fails after the gateway restored the thinking; failover goes to OpenAI.
        'claude-then-chat': [{ provider: 'claude', model: 'fail-500', retries: 0 }, { provider: 'chat', model: 'gpt-x', priority: 1 }],
      },
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  for (const u of [claudeUp, chatUp, gemUp]) await u?.close();
});

const tools: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
];
const ask: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' };

/** Turn 1, non-stream: the assistant's tool call as a Chat client keeps it (no reasoning). */
async function firstTurn(model: string): Promise<OpenAI.ChatCompletionMessageFunctionToolCall> {
  const res = await client.chat.completions.create({ model, messages: [ask], tools });
  const msg = res.choices[0]!.message;
  expect(msg.tool_calls).toHaveLength(1);
  return msg.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
}

/** Turn 1, streamed: the call rebuilt from the deltas, as the SDK's users do. */
async function firstTurnStreamed(model: string): Promise<OpenAI.ChatCompletionMessageFunctionToolCall> {
  const stream = await client.chat.completions.create({ model, messages: [ask], tools, stream: true });
  let id = '';
  let name = '';
  let args = '';
  for await (const chunk of stream) {
    for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) {
      id ||= tc.id ?? '';
      name ||= tc.function?.name ?? '';
      args += tc.function?.arguments ?? '';
    }
  }
  return { id, type: 'function', function: { name, arguments: args } };
}

/** Turn 2's messages: the tool call sent back with its result; the reasoning is gone. */
const secondTurn = (call: OpenAI.ChatCompletionMessageFunctionToolCall): OpenAI.ChatCompletionMessageParam[] => [
  ask,
  { role: 'assistant', content: null, tool_calls: [call] },
  { role: 'tool', tool_call_id: call.id, content: '18C' },
];

const stashed = (id: string) => gw.gateway.store.namespace('format-openai').get(`sig:${id}`);
const n = (id: string) => id.replace('call_think', '');

describe('Chat client → Anthropic with thinking', () => {
  for (const streamed of [false, true]) {
    it(`sends the thinking block back with its signature before the tool_use (turn 1 ${streamed ? 'streamed' : 'non-stream'})`, async () => {
      const call = await (streamed ? firstTurnStreamed('think') : firstTurn('think'));
      expect(call.id).toMatch(/^call_think\d+$/);
      const res = await client.chat.completions.create({ model: 'think', messages: secondTurn(call), tools });
      expect(res.choices[0]!.message.content).toBe('echo: tool result: 18C');
      const sent = claudeUp.received.at(-1)!.body as { messages: unknown[] };
      expect(sent.messages[1]).toEqual({
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Let me think', signature: `sig_${n(call.id)}` },
          { type: 'tool_use', id: call.id, name: 'get_weather', input: { city: 'Paris' } },
        ],
      });
    });
  }

  it('restores for a Claude attempt, and a failover to OpenAI still gets a valid Chat body', async () => {
    const call = await firstTurn('think');
    const messages = secondTurn(call);
    const res = await client.chat.completions.create({ model: 'claude-then-chat', messages, tools });
    expect(res.choices[0]!.message.content).toBe('echo: tool result: 18C');
    const claudeSent = claudeUp.received.at(-1)!.body as { model: string; messages: Array<{ content: Array<{ type: string }> }> };
    expect(claudeSent.model).toBe('fail-500');
    expect(claudeSent.messages[1]!.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    // Encoded from the IR (the request was rewritten); the Chat encoder drops reasoning from history.
    const chatSent = chatUp.received.at(-1)!.body as { messages: unknown[] };
    expect(chatSent.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '18C' },
    ]);
  });
});

describe('Chat client → Gemini', () => {
  it('puts the thought signatures back on the thought part and the functionCall', async () => {
    const call = await firstTurn('think-gem');
    await client.chat.completions.create({ model: 'think-gem', messages: secondTurn(call), tools });
    const sent = gemUp.received.at(-1)!.body as { contents: Array<{ role: string; parts: unknown[] }> };
    expect(sent.contents[1]).toEqual({
      role: 'model',
      parts: [
        { text: 'Let me think', thought: true, thoughtSignature: `sig_${n(call.id)}` },
        { functionCall: { id: call.id, name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: `gsig_${n(call.id)}` },
      ],
    });
  });
});

describe('Chat client → OpenAI', () => {
  it('stores nothing and forwards the body unchanged but for the model, even for a stashed call', async () => {
    const own = await firstTurn('chat');
    expect(await stashed(own.id)).toBeUndefined();
    const claudeCall = await firstTurn('think');
    expect(await stashed(claudeCall.id)).toBeDefined(); // the conversation moves to OpenAI with a stash
    const body = { model: 'chat', messages: secondTurn(claudeCall), tools };
    await client.chat.completions.create(body);
    expect(JSON.stringify(chatUp.received.at(-1)!.body)).toBe(JSON.stringify({ ...body, model: 'gpt-x' }));
  });
});
