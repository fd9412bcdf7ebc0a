/**
 * Conversion fidelity end to end: byte-exact passthrough (signatures, unknown fields), recorded
 * upstream streams converted for other clients, upstream errors in every client's shape, honest
 * in-stream errors, `previous_response_id` over a non-Responses provider, and the shapes real
 * coding agents send (WIRE-FORMATS §6).
 */
import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, createTestGateway, gemini, openai, type TestGateway } from 'switchyard';
import { formatUpstream } from './fixtures/format-upstream.ts';
import { startUpstream, sse, type MockUpstream } from './fixtures/upstream.ts';

// WIRE-FORMATS §2.3, with an unknown future field added to check it survives passthrough.
const ANTHROPIC_STREAM: Array<[string, unknown]> = [
  ['message_start', { type: 'message_start', message: { id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 465, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } } }],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }],
  ['ping', { type: 'ping' }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'ErUBCkYIsig==' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: "I'll search." }, future_field: { x: 1 } }],
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  ['content_block_start', { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_01Ryo', name: 'search', input: {} } }],
  ['content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"query": "Detroit' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: ' Tigers"}' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 2 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 88 } }],
  ['message_stop', { type: 'message_stop' }],
];

let recorded: MockUpstream;
let claudeUp: MockUpstream;
let chatUp: MockUpstream;
let gemUp: MockUpstream;
let gw: TestGateway;

beforeAll(async () => {
  recorded = await startUpstream(async (req, res) => {
    if (req.body.model === 'overloaded') {
      res.writeHead(529, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const [event, data] of ANTHROPIC_STREAM) sse(res, data, event);
    res.end();
  });
  claudeUp = await formatUpstream('anthropic');
  chatUp = await formatUpstream('openai');
  gemUp = await formatUpstream('gemini');
  gw = await createTestGateway({
    config: {
      providers: {
        rec: anthropic({ baseURL: recorded.url, apiKey: 'up-key' }),
        claude: anthropic({ baseURL: claudeUp.url, apiKey: 'up-key' }),
        chat: openai({ baseURL: `${chatUp.url}/v1`, apiKey: 'up-key' }),
        gem: gemini({ baseURL: gemUp.url, apiKey: 'up-key' }),
      },
      models: {
        recorded: 'rec/claude-x',
        overloaded: 'rec/overloaded',
        claude: 'claude/claude-sonnet-4-5',
        'claude-midfail': 'claude/error-mid-stream',
        'claude-reset': 'claude/reset-mid-stream',
        'claude-429': 'claude/fail-429',
        'gem-400': 'gem/fail-400',
        chat: 'chat/gpt-x',
      },
    },
  });
});

afterAll(async () => {
  await gw?.close();
  for (const u of [recorded, claudeUp, chatUp, gemUp]) await u?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const dataLines = (text: string) => text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));

describe('passthrough', () => {
  it('relays an Anthropic stream to an Anthropic client byte for byte (signatures, unknown fields)', async () => {
    const res = await post('/v1/messages?beta=true', { model: 'recorded', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'go' }] }, { 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'x-api-key': 'client-key' });
    const text = await res.text();
    expect(dataLines(text)).toEqual(ANTHROPIC_STREAM.map(([, d]) => JSON.stringify(d)));
    const sent = recorded.received.at(-1)!;
    expect(sent.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    expect(sent.headers['x-api-key']).toBe('up-key'); // the client's key is never forwarded
    expect(sent.body.model).toBe('claude-x');
  });

  it('keeps thinking signatures for the Anthropic SDK', async () => {
    const c = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const msg = await c.messages.stream({ model: 'recorded', max_tokens: 1024, messages: [{ role: 'user', content: 'go' }] }).finalMessage();
    expect(msg.content[0]).toMatchObject({ type: 'thinking', thinking: 'Let me think', signature: 'ErUBCkYIsig==' });
    expect(msg.content[2]).toMatchObject({ type: 'tool_use', id: 'toolu_01Ryo', input: { query: 'Detroit Tigers' } });
  });
});

describe('recorded Anthropic stream converted', () => {
  it('to an OpenAI Chat client: streamed tool arguments, reasoning, finish and usage', async () => {
    const res = await post('/v1/chat/completions', { model: 'recorded', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] });
    const chunks = dataLines(await res.text());
    expect(chunks.at(-1)).toBe('[DONE]');
    const parsed = chunks.slice(0, -1).map((c) => JSON.parse(c));
    const args = parsed.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((t: { function?: { arguments?: string } }) => t.function?.arguments ?? '').join('');
    expect(args).toBe('{"query": "Detroit Tigers"}');
    expect(parsed.some((c) => c.choices[0]?.delta?.reasoning_content === 'Let me think')).toBe(true);
    expect(parsed.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls');
    expect(parsed.at(-1).usage).toMatchObject({ prompt_tokens: 465, completion_tokens: 88 });
    const ids = new Set(parsed.map((c) => c.id));
    expect(ids.size).toBe(1);
  });

  it('to a Gemini client: one complete functionCall, STOP, usage', async () => {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const calls = [];
    let last;
    for await (const chunk of await ai.models.generateContentStream({ model: 'recorded', contents: 'go' })) {
      calls.push(...(chunk.functionCalls ?? []));
      last = chunk;
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ name: 'search', args: { query: 'Detroit Tigers' } });
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata?.promptTokenCount).toBe(465);
  });

  it('to a Responses client: the full event sequence with sequence numbers and usage', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const seq: number[] = [];
    const stream = c.responses.stream({ model: 'recorded', input: 'go' });
    stream.on('event', (e) => seq.push(e.sequence_number));
    const final = await stream.finalResponse();
    expect(seq).toEqual(seq.map((_, i) => i));
    expect(final.output.find((o) => o.type === 'function_call')).toMatchObject({ name: 'search', arguments: '{"query": "Detroit Tigers"}' });
    expect(final.usage).toMatchObject({ input_tokens: 465, output_tokens: 88 });
  });
});

describe('upstream errors in the client format', () => {
  it('Anthropic 529 → OpenAI 503, Gemini 503 UNAVAILABLE, Anthropic 529 overloaded_error', async () => {
    const chat = await post('/v1/chat/completions', { model: 'overloaded', messages: [{ role: 'user', content: 'x' }] });
    expect(chat.status).toBe(503);
    expect(((await chat.json()) as { error: { type: string } }).error.type).toBe('server_error');
    const gem = await post('/v1beta/models/overloaded:generateContent', { contents: [{ role: 'user', parts: [{ text: 'x' }] }] });
    expect(gem.status).toBe(503);
    expect(((await gem.json()) as { error: { status: string } }).error.status).toBe('UNAVAILABLE');
    const claude = await post('/v1/messages', { model: 'overloaded', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    expect(claude.status).toBe(529);
    expect(await claude.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('Anthropic 429 → OpenAI RateLimitError with retry-after', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const err = await c.chat.completions.create({ model: 'claude-429', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.headers.get('retry-after')).toBe('1');
  });

  it('Gemini 400 → Anthropic invalid_request_error', async () => {
    const c = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const err = await c.messages.create({ model: 'gem-400', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('failures after the first byte', () => {
  const body = (model: string) => ({ model, stream: true, messages: [{ role: 'user', content: 'one two three' }] });

  it('an upstream in-stream error → the Chat client gets an error event and no [DONE]', async () => {
    const text = await (await post('/v1/chat/completions', body('claude-midfail'))).text();
    const last = JSON.parse(dataLines(text).at(-1)!);
    expect(last.error.message).toBe('Overloaded');
    expect(text).not.toContain('[DONE]');
  });

  it('a reset → the Responses client gets error + response.failed, never response.completed', async () => {
    const text = await (await post('/v1/responses', { model: 'claude-reset', stream: true, input: 'one two three' })).text();
    expect(text).toContain('event: error');
    expect(text).toContain('event: response.failed');
    expect(text).not.toContain('response.completed');
  });

  it('a reset → the Anthropic client gets an error event, never message_stop', async () => {
    const text = await (await post('/v1/messages', { ...body('claude-reset'), max_tokens: 50 })).text();
    expect(text).toContain('event: error');
    expect(text).not.toContain('message_stop');
  });

  it('a reset → the Gemini SDK throws instead of finishing quietly', async () => {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const run = async () => {
      for await (const _ of await ai.models.generateContentStream({ model: 'claude-reset', contents: 'one two three' })) void _;
    };
    await expect(run()).rejects.toThrow();
  });
});

describe('previous_response_id over an Anthropic provider', () => {
  it('expands the stored conversation; an unknown id is a clear 400', async () => {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const first = await c.responses.create({ model: 'claude', input: 'my name is Ada' });
    expect(first.output_text).toBe('echo: my name is Ada');
    const second = await c.responses.create({ model: 'claude', input: 'what is my name?', previous_response_id: first.id });
    expect(second.output_text).toBe('echo: what is my name?');
    const sent = claudeUp.received.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent.messages[1])).toContain('echo: my name is Ada');
    const streamed = await c.responses.stream({ model: 'claude', input: 'third', previous_response_id: second.id }).finalResponse();
    const third = await c.responses.create({ model: 'claude', input: 'fourth', previous_response_id: streamed.id });
    expect(third.output_text).toBe('echo: fourth');
    expect((claudeUp.received.at(-1)!.body as { messages: unknown[] }).messages).toHaveLength(7);
    const err = await c.responses.create({ model: 'claude', input: 'x', previous_response_id: 'resp_unknown' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain('resp_unknown');
  });
});

describe('what real coding agents send (§6)', () => {
  it('Claude Code: ?beta=true, system entries inside messages, adaptive thinking, tools with defer_loading → an OpenAI upstream', async () => {
    const res = await post('/v1/messages?beta=true', {
      model: 'chat',
      max_tokens: 128000,
      stream: true,
      system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
      thinking: { type: 'adaptive', display: 'omitted' },
      context_management: { edits: [] },
      output_config: { effort: 'high' },
      tools: [{ name: 'Bash', description: 'run', input_schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { command: { type: 'string' } } }, defer_loading: true }],
      metadata: { user_id: 'user_abc_account_def_session_123' },
      messages: [
        { role: 'system', content: 'Mid-conversation reminder.' },
        { role: 'user', content: [{ type: 'text', text: 'list files', cache_control: { type: 'ephemeral' } }] },
      ],
    }, { 'anthropic-version': '2023-06-01', 'x-app': 'cli' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('event: message_stop');
    const sent = chatUp.received.at(-1)!.body as { messages: Array<{ role: string; content: unknown }>; tools: unknown[]; stream_options: unknown; safety_identifier: string };
    // the end-user id crosses formats only as a stable SHA-256 digest (§4 #23), never raw
    expect(sent.safety_identifier).toBe(createHash('sha256').update('user_abc_account_def_session_123').digest('hex'));
    expect(JSON.stringify(sent)).not.toContain('user_abc_account');
    expect(sent.messages[0]).toMatchObject({ role: 'system' });
    expect(JSON.stringify(sent.messages[0])).toContain('Mid-conversation reminder.');
    expect(sent.tools).toHaveLength(1);
    expect(sent.stream_options).toEqual({ include_usage: true });
  });

  it('Codex CLI: store:false, encrypted reasoning include, developer role, namespace tools → an Anthropic upstream', async () => {
    const res = await post('/v1/responses', {
      model: 'claude',
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'medium', summary: 'auto' },
      prompt_cache_key: 'abc',
      instructions: 'You are Codex.',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'sandbox: read-only' }] },
        { type: 'message', id: 'msg_1', role: 'user', content: [{ type: 'input_text', text: 'fix the bug' }] },
      ],
      tools: [
        { type: 'function', name: 'shell', parameters: { type: 'object', properties: { cmd: { type: 'string' } } }, strict: false },
        { type: 'web_search' },
      ],
    }, { originator: 'codex_cli_rs', 'session-id': 's1' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('event: response.completed');
    const sent = claudeUp.received.at(-1)!.body as { system: unknown; tools: Array<{ name: string }> };
    expect(JSON.stringify(sent.system)).toContain('sandbox: read-only');
    expect(sent.tools.map((t) => t.name)).toContain('shell');
  });

  it('Codex CLI freeform apply_patch (custom tool) → an Anthropic upstream calls a function with a string `input`; the client gets custom_tool_call with the raw patch', async () => {
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+Hello "world"\n*** End Patch';
    const applyPatch = {
      type: 'custom' as const,
      name: 'apply_patch',
      description: 'Use the `apply_patch` tool to edit files.',
      format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: begin_patch hunk+ end_patch' },
    };
    // the mock upstream answers a tool taking a string `input` with the last user text as that input
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const res = await c.responses.create({ model: 'claude', input: patch, tools: [applyPatch], tool_choice: { type: 'custom', name: 'apply_patch' } });
    const sent = claudeUp.received.at(-1)!.body as { tools: Array<{ name: string; input_schema: Record<string, unknown> }>; tool_choice: unknown };
    expect(sent.tools).toHaveLength(1);
    expect(sent.tools[0]!.name).toBe('apply_patch');
    expect(sent.tools[0]!.input_schema).toMatchObject({ type: 'object', properties: { input: { type: 'string' } }, required: ['input'] });
    expect(JSON.stringify(sent.tools[0]!.input_schema)).toContain('begin_patch hunk+'); // the grammar, for a model without one
    expect(sent.tool_choice).toMatchObject({ type: 'tool', name: 'apply_patch' });
    expect(res.output).toEqual([expect.objectContaining({ type: 'custom_tool_call', call_id: 'call_up1', name: 'apply_patch', input: patch, status: 'completed' })]);

    const text = await (await post('/v1/responses', { model: 'claude', stream: true, store: false, input: patch, tools: [applyPatch] })).text();
    const events = dataLines(text).map((d) => JSON.parse(d) as { type: string; sequence_number: number; [k: string]: unknown });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type.startsWith('response.function_call'))).toEqual([]);
    expect(events.filter((e) => e.type === 'response.custom_tool_call_input.delta')).toHaveLength(1);
    expect(events.find((e) => e.type === 'response.custom_tool_call_input.done')).toMatchObject({ input: patch });
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { output: [{ type: 'custom_tool_call', name: 'apply_patch', input: patch }] } });

    // the next turn sends the call and its output back: the upstream sees tool_use / tool_result
    await post('/v1/responses', {
      model: 'claude',
      store: false,
      tools: [applyPatch],
      input: [
        { type: 'message', role: 'user', content: 'add hello.txt' },
        { type: 'custom_tool_call', call_id: 'call_up1', name: 'apply_patch', input: patch },
        { type: 'custom_tool_call_output', call_id: 'call_up1', output: 'Success.' },
      ],
    });
    const history = JSON.stringify((claudeUp.received.at(-1)!.body as { messages: unknown[] }).messages);
    expect(history).toContain(JSON.stringify({ type: 'tool_use', id: 'call_up1', name: 'apply_patch', input: { input: patch } }));
    expect(history).toMatch(/"type":"tool_result","tool_use_id":"call_up1"/);
  });

  it('Gemini CLI: JSON-schema routing request (non-streaming) → an OpenAI upstream gets response_format', async () => {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const res = await ai.models.generateContent({
      model: 'chat',
      contents: [{ role: 'user', parts: [{ text: 'pick a model' }] }],
      config: { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { model: { type: 'string' } } } },
    });
    expect(res.text).toBe('echo: {"echo":"pick a model"}');
    const sent = chatUp.received.at(-1)!.body as { response_format: { type: string } };
    expect(sent.response_format.type).toBe('json_schema');
  });
});
