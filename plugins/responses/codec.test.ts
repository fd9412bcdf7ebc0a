import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SSEMessage } from '../../core/codec.ts';
import type { IRResponse, IRStreamEvent } from '../../core/ir.ts';
import { runCodecFixtures } from '../../test/codec-fixtures.ts';
import { responsesCodec as codec } from './codec.ts';

const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));
runCodecFixtures(codec, fixtures);

const fixture = (name: string): { input: Record<string, unknown> } =>
  JSON.parse(readFileSync(`${fixtures}/${name}.json`, 'utf8')) as { input: Record<string, unknown> };

function encodeAll(events: IRStreamEvent[], model = 'client-model'): SSEMessage[] {
  const enc = codec.createStreamEncoder({ model });
  return [...events.flatMap((e) => enc.push(e)), ...enc.end()];
}

function decodeAll(messages: SSEMessage[]): IRStreamEvent[] {
  const dec = codec.createStreamDecoder();
  return [...messages.flatMap((m) => dec.push(m)), ...dec.end()];
}

const turn: IRStreamEvent[] = [
  { type: 'start', id: 'resp_rt', model: 'up', created: 1750000000 },
  { type: 'reasoning_delta', text: 'Thinking ' },
  { type: 'reasoning_delta', text: 'hard.' },
  { type: 'reasoning_end', origin: 'responses', id: 'rs_up', encrypted: 'gAAAenc' },
  { type: 'text_delta', text: 'Calling tools.' },
  { type: 'tool_call_start', index: 0, id: 'call_a', name: 'read' },
  { type: 'tool_call_delta', index: 0, arguments: '{"path":' },
  { type: 'tool_call_delta', index: 0, arguments: '"a"}' },
  { type: 'tool_call_end', index: 0 },
  { type: 'tool_call_start', index: 1, id: 'call_b', name: 'ls' },
  { type: 'tool_call_delta', index: 1, arguments: '{}' },
  { type: 'tool_call_end', index: 1 },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', usage: { inputTokens: 10, outputTokens: 20, cachedTokens: 2, reasoningTokens: 5 } },
];

describe('responses stream encoder invariants', () => {
  it('numbers every event from 0 without gaps and names each SSE event after its type', () => {
    const out = encodeAll(turn);
    out.forEach((m, i) => {
      const data = JSON.parse(m.data) as { type: string; sequence_number: number };
      expect(data.sequence_number).toBe(i);
      expect(m.event).toBe(data.type);
    });
    expect(out[0]!.event).toBe('response.created');
    expect(out[out.length - 1]!.event).toBe('response.completed');
  });

  it('mints resp_/msg_ ids when the upstream gives none and keeps them stable', () => {
    const out = encodeAll([{ type: 'start', id: '', model: 'x' }, { type: 'text_delta', text: 'hi' }, { type: 'finish', reason: 'stop' }]);
    const data = out.map((m) => JSON.parse(m.data) as Record<string, unknown>);
    const respIds = new Set(data.filter((d) => d.response).map((d) => (d.response as { id: string }).id));
    expect(respIds.size).toBe(1);
    expect([...respIds][0]).toMatch(/^resp_/);
    const itemIds = new Set(data.filter((d) => typeof d.item_id === 'string').map((d) => d.item_id));
    expect(itemIds.size).toBe(1);
    expect([...itemIds][0]).toMatch(/^msg_/);
  });

  it('never emits a success terminator after an error, even when finish follows', () => {
    const out = encodeAll([{ type: 'start', id: 'x', model: 'm' }, { type: 'error', error: { status: 500, message: 'boom' } }, { type: 'finish', reason: 'stop' }]);
    expect(out.map((m) => m.event)).toEqual(['response.created', 'response.in_progress', 'error', 'response.failed']);
  });

  it('puts the same output in response.completed as the non-streamed encoder', () => {
    const out = encodeAll(turn);
    const completed = (JSON.parse(out[out.length - 1]!.data) as { response: Record<string, unknown> }).response;
    const res: IRResponse = {
      id: 'resp_rt',
      model: 'up',
      created: 1750000000,
      finishReason: 'tool_calls',
      content: [
        { type: 'reasoning', text: 'Thinking hard.', origin: 'responses', encrypted: 'gAAAenc' },
        { type: 'text', text: 'Calling tools.' },
        { type: 'tool_call', id: 'call_a', name: 'read', arguments: '{"path":"a"}' },
        { type: 'tool_call', id: 'call_b', name: 'ls', arguments: '{}' },
      ],
      usage: { inputTokens: 10, outputTokens: 20, cachedTokens: 2, reasoningTokens: 5 },
    };
    expect(completed).toEqual(codec.encodeResponse(res, { model: 'client-model' }));
  });
});

describe('responses freeform (custom) tool calls', () => {
  const tools = [
    { name: 'apply_patch', parameters: { type: 'object', properties: { input: { type: 'string' } } }, custom: { format: { type: 'text' } } },
  ];
  const input = '*** Begin Patch\n+é "q" \\ \u{1F600}\n*** End Patch';
  const args = JSON.stringify({ input });
  const events: IRStreamEvent[] = [
    { type: 'start', id: 'resp_c', model: 'up', created: 1 },
    { type: 'tool_call_start', index: 0, id: 'call_c', name: 'apply_patch' },
    { type: 'tool_call_delta', index: 0, arguments: args.slice(0, 7) },
    { type: 'tool_call_delta', index: 0, arguments: args.slice(7) },
    { type: 'tool_call_end', index: 0 },
    { type: 'finish', reason: 'tool_calls' },
  ];

  it('streamed and non-streamed answers carry the same custom_tool_call', () => {
    const out = codec.createStreamEncoder({ model: 'm', tools });
    const sse = [...events.flatMap((e) => out.push(e)), ...out.end()];
    const completed = (JSON.parse(sse.at(-1)!.data) as { response: Record<string, unknown> }).response;
    const res: IRResponse = { id: 'resp_c', model: 'up', created: 1, finishReason: 'tool_calls', content: [{ type: 'tool_call', id: 'call_c', name: 'apply_patch', arguments: args }] };
    expect(completed).toEqual(codec.encodeResponse(res, { model: 'm', tools }));
    expect((completed.output as Array<{ input: string }>)[0]!.input).toBe(input);
  });

  it('client SSE → upstream decoder gives the call back with {"input"} arguments', () => {
    const enc = codec.createStreamEncoder({ model: 'up', tools });
    const back = decodeAll([...events.flatMap((e) => enc.push(e)), ...enc.end()]);
    const text = back.flatMap((e) => (e.type === 'tool_call_delta' ? [e.arguments] : [])).join('');
    expect(JSON.parse(text)).toEqual({ input });
    expect(back.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });
});

describe('responses round trips', () => {
  it('stream: IR → client SSE → upstream decoder gives the same events back', () => {
    const back = decodeAll(encodeAll(turn, 'up'));
    const expected = turn.map((e) => (e.type === 'reasoning_end' ? { ...e, id: 'rs_rt_0' } : e));
    // the decoder reports usage just before finish (both come from the terminal event)
    const usage = expected.pop()!;
    expected.splice(expected.length - 1, 0, usage);
    expect(back).toEqual(expected);
  });

  it('body: encodeResponse → decodeResponse keeps content, finish and usage', () => {
    const res: IRResponse = {
      id: 'resp_x',
      model: 'up',
      created: 1,
      finishReason: 'length',
      content: [{ type: 'text', text: 'cut' }, { type: 'refusal', text: 'no' }],
      usage: { inputTokens: 1, outputTokens: 2, cachedTokens: 0, reasoningTokens: 0 },
    };
    expect(codec.decodeResponse(codec.encodeResponse(res, { model: 'up' }))).toEqual(res);
  });

  it('Codex request → IR → Responses upstream keeps what the upstream can use', () => {
    const ir = codec.decodeRequest(fixture('decode-request-codex-cli').input);
    const body = codec.encodeRequest(ir, { model: 'gpt-5' });
    expect(body.instructions).toMatch(/^You are Codex[\s\S]*\n\n<permissions instructions>/);
    expect(body.store).toBe(false);
    expect(body.include).toEqual(['reasoning.encrypted_content']);
    expect(body.reasoning).toEqual({ effort: 'medium', summary: 'auto' });
    expect((body.tools as Array<{ name: string }>).map((t) => t.name)).toEqual([
      'shell',
      'mcp__calendar__create_event',
      'mcp__calendar__list_events',
      'apply_patch',
    ]);
    expect((body.tools as Array<{ type: string }>).at(-1)).toEqual({
      type: 'custom',
      name: 'apply_patch',
      description: 'Apply a patch',
      format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' },
    });
    const types = (body.input as Array<{ type: string }>).map((i) => i.type);
    expect(types).toEqual([
      'message',
      'reasoning',
      'function_call',
      'function_call_output',
      'function_call',
      'function_call_output',
      'message',
      'message',
    ]);
    expect(JSON.stringify(body)).not.toMatch(/"id":"(msg|fc|rs)_/);
  });

  it('client request → IR → client request is stable for a plain tool turn', () => {
    const first = codec.encodeRequest(codec.decodeRequest(fixture('decode-request-parallel-calls-and-part-outputs').input), { model: 'm' });
    const second = codec.encodeRequest(codec.decodeRequest(first), { model: 'm' });
    expect(second).toEqual(first);
  });
});
