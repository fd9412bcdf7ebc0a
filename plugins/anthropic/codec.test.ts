import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { SSEMessage } from '../../core/codec.ts';
import type { IRRequest, IRStreamEvent } from '../../core/ir.ts';
import { formatSSE } from '../../core/sse.ts';
import { parseSse, runCodecFixtures } from '../../test/codec-fixtures.ts';
import { openaiCodec } from '../openai/codec.ts';
import { opaqueUserId } from '../shared/codec-util.ts';
import { sanitizeToolId } from './blocks.ts';
import { anthropicCodec as codec, countTokensEstimate } from './codec.ts';

runCodecFixtures(codec, fileURLToPath(new URL('./fixtures', import.meta.url)));

const claudeCodeBody = {
  model: 'claude-sonnet-4-5',
  max_tokens: 32000,
  system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Run ls' }] },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I should run ls.', signature: 'EqQBCkYI' },
        { type: 'redacted_thinking', data: 'EmwKAhgB' },
        { type: 'text', text: 'Running it.' },
        { type: 'tool_use', id: 'toolu_01A', name: 'Bash', input: { command: 'ls' } },
      ],
    },
    {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: 'a.ts', cache_control: { type: 'ephemeral' } }],
    },
  ],
  tools: [{ name: 'Bash', description: 'Run', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  thinking: { type: 'enabled', budget_tokens: 10000 },
  stop_sequences: ['STOP'],
  metadata: { user_id: 'u1' },
  stream: true,
};

describe('anthropic codec round trips', () => {
  it('decode → encode reproduces an Anthropic request (thinking blocks exact, in order; the user id hashed)', () => {
    const ir = codec.decodeRequest(claudeCodeBody);
    // Encoding from the IR never forwards the raw end-user id (WIRE-FORMATS §4 #23).
    expect(codec.encodeRequest(ir, { model: 'claude-sonnet-4-5' })).toEqual({ ...claudeCodeBody, metadata: { user_id: opaqueUserId('u1') } });
  });

  it('decode → encode reproduces a response', () => {
    const body = {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'client-model',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'text', text: 'Hi' },
        { type: 'tool_use', id: 'toolu_1', name: 'x', input: { a: 1 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 10, cache_creation_input_tokens: 3, cache_read_input_tokens: 7, output_tokens: 5 },
    };
    expect(codec.encodeResponse(codec.decodeResponse(body), { model: 'client-model' })).toEqual(body);
  });

  it('stream decode → encode reproduces the upstream event sequence', () => {
    const sse = (type: string, data: Record<string, unknown>): SSEMessage => ({ event: type, data: JSON.stringify({ type, ...data }) });
    const upstream: SSEMessage[] = [
      sse('message_start', {
        message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'client-model', content: [], stop_reason: null, stop_sequence: null,
          usage: { input_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } },
      }),
      sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
      sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
      sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
      sse('content_block_stop', { index: 0 }),
      sse('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'x', input: {} } }),
      sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":1}' } }),
      sse('content_block_stop', { index: 1 }),
      sse('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { input_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 9 } }),
      sse('message_stop', {}),
    ];
    const dec = codec.createStreamDecoder();
    const events: IRStreamEvent[] = [];
    for (const m of upstream) events.push(...dec.push(m));
    events.push(...dec.end());
    const enc = codec.createStreamEncoder({ model: 'client-model' });
    const out: SSEMessage[] = [];
    for (const e of events) out.push(...enc.push(e));
    out.push(...enc.end());
    expect(out.map((m) => [m.event, JSON.parse(m.data)])).toEqual(upstream.map((m) => [m.event, JSON.parse(m.data)]));
  });
});

describe('anthropic codec details', () => {
  it('sanitises tool ids deterministically, idempotently, and keeps distinct ids distinct', () => {
    const a = sanitizeToolId('call:1');
    expect(a).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(sanitizeToolId('call:1')).toBe(a);
    expect(sanitizeToolId(a)).toBe(a);
    expect(sanitizeToolId('call.1')).not.toBe(a);
    expect(sanitizeToolId('')).toMatch(/^toolu_[0-9a-f]+$/);
  });

  it('mints toolu_/msg_ ids when the upstream gave none', () => {
    const enc = codec.createStreamEncoder({ model: 'm' });
    const out = [
      ...enc.push({ type: 'start', id: '', model: 'x' }),
      ...enc.push({ type: 'tool_call_start', index: 0, id: '', name: 'noop' }),
    ].map((m) => JSON.parse(m.data) as Record<string, Record<string, string>>);
    expect(out[0]!.message!.id).toMatch(/^msg_/);
    expect(out[1]!.content_block!.id).toMatch(/^toolu_/);
  });

  it('ignores events after an error and after end', () => {
    const enc = codec.createStreamEncoder({ model: 'm' });
    enc.push({ type: 'start', id: 'a', model: 'x' });
    expect(enc.push({ type: 'error', error: { status: 429, message: 'slow down' } })[0]!.event).toBe('error');
    expect(enc.push({ type: 'text_delta', text: 'x' })).toEqual([]);
    expect(enc.end()).toEqual([]);
  });

  it('estimates tokens as chars/4 over text, tool schemas and arguments', () => {
    const ir: IRRequest = {
      model: 'm',
      stream: false,
      system: [{ type: 'text', text: 'x'.repeat(40) }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'y'.repeat(40) }] },
        { role: 'assistant', content: [{ type: 'tool_call', id: 't', name: 'ab', arguments: '{"q":"zz"}' }] },
        { role: 'user', content: [{ type: 'tool_result', callId: 't', content: 'r'.repeat(8) }] },
      ],
      tools: [{ name: 'ab', description: 'dd', parameters: { type: 'object' } }],
    };
    // 40 + 40 + (2 + 10) + 8 + (2 + 2 + 17) = 121 chars → 31 tokens
    expect(countTokensEstimate(ir)).toBe(31);
    const withImage: IRRequest = { ...ir, messages: [{ role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'https://x/y.png' } }] }] };
    expect(countTokensEstimate(withImage)).toBeGreaterThan(1000);
  });
});

describe('a Chat upstream with interleaved parallel tool calls, for the Anthropic SDK', () => {
  it('arrives as sequential tool_use blocks whose inputs the SDK assembles (§2.5, §4 #3)', async () => {
    const fixture = new URL('../openai/fixtures/decode-stream-interleaved-tools.json', import.meta.url);
    const { inputSse } = JSON.parse(readFileSync(fixture, 'utf8')) as { inputSse: string };
    const dec = openaiCodec.createStreamDecoder();
    const enc = codec.createStreamEncoder({ model: 'client-model' });
    const events = [...(await parseSse(inputSse)).flatMap((m) => dec.push(m)), ...dec.end()];
    const body = [...events.flatMap((e) => enc.push(e)), ...enc.end()].map(formatSSE).join('');
    const client = new Anthropic({
      apiKey: 'test',
      baseURL: 'http://gateway.invalid',
      maxRetries: 0,
      fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    });
    const msg = await client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'go' }] }).finalMessage();
    expect(msg.content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'f', input: { x: 1 } },
      { type: 'tool_use', id: 'call_b', name: 'g', input: { y: 2 } },
    ]);
    expect(msg.stop_reason).toBe('tool_use');
  });
});
