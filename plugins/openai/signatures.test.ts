import { describe, expect, it } from 'vitest';
import { memoryStore, type GatewayContext, type Store } from 'switchyard';
import type { IRMessage, IRPart, IRReasoning, IRStreamEvent, IRToolCall } from '../../core/ir.ts';
import { createRequest } from '../../core/request.ts';
import { openaiCodec } from './codec.ts';
import { collectStash, restoreStash, signaturesMiddleware, stashTarget, streamParts, usableBy, type StashDeps } from './signatures.ts';

const thinking: IRReasoning = { type: 'reasoning', text: 'hm', origin: 'anthropic', signature: 'S1' };
const redacted: IRReasoning = { type: 'reasoning', text: '', origin: 'anthropic', redacted: 'R1' };
const call = (id: string, extra: Partial<IRToolCall> = {}): IRToolCall => ({ type: 'tool_call', id, name: 'get', arguments: '{}', ...extra });

describe('collectStash', () => {
  it('gives each call the signed reasoning since the previous call, and its Gemini signature', () => {
    const content: IRPart[] = [thinking, redacted, { type: 'text', text: 'ok' }, call('a'), call('b', { thoughtSignature: 'G' })];
    expect(collectStash(content)).toEqual([
      ['a', { reasoning: [thinking, redacted] }],
      ['b', { thoughtSignature: 'G' }],
    ]);
  });

  it('keeps nothing for unsigned reasoning or plain calls', () => {
    expect(collectStash([{ type: 'reasoning', text: 'visible only' }, call('a')])).toEqual([]);
  });
});

describe('streamParts', () => {
  it('folds reasoning deltas and ends into parts and records call ids', () => {
    const parts = streamParts();
    const events: IRStreamEvent[] = [
      { type: 'start', id: 'r', model: 'm' },
      { type: 'reasoning_delta', text: 'h' },
      { type: 'reasoning_delta', text: 'm' },
      { type: 'reasoning_end', origin: 'anthropic', signature: 'S1' },
      { type: 'reasoning_redacted', origin: 'anthropic', data: 'R1' },
      { type: 'text_delta', text: 'ok' },
      { type: 'tool_call_start', index: 0, id: 'a', name: 'get' },
      { type: 'tool_call_delta', index: 0, arguments: '{}' },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'get', thoughtSignature: 'G' },
    ];
    for (const ev of events) parts.push(ev);
    expect(collectStash(parts.content)).toEqual([
      ['a', { reasoning: [thinking, redacted] }],
      ['b', { thoughtSignature: 'G' }],
    ]);
  });
});

describe('stashTarget', () => {
  const result: IRMessage = { role: 'user', content: [{ type: 'tool_result', callId: 'b', content: '18C' }] };
  it('picks the last assistant turn with tool calls', () => {
    const messages: IRMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'assistant', content: [call('a')] },
      result,
      { role: 'assistant', content: [{ type: 'text', text: 'x' }, call('b'), call('c')] },
      result,
    ];
    expect(stashTarget(messages)).toEqual({ index: 3, ids: ['b', 'c'] });
  });

  it('skips a turn that already carries tokens', () => {
    expect(stashTarget([{ role: 'assistant', content: [thinking, call('a')] }, result])).toBeUndefined();
    expect(stashTarget([{ role: 'assistant', content: [call('a', { thoughtSignature: 'G' })] }, result])).toBeUndefined();
    expect(stashTarget([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }])).toBeUndefined();
  });
});

describe('restoreStash', () => {
  it('puts the first call’s reasoning at the start and signatures on the calls', () => {
    const text: IRPart = { type: 'text', text: 'Checking.' };
    const found = new Map([
      ['a', { reasoning: [thinking] }],
      ['b', { reasoning: [redacted], thoughtSignature: 'G' }],
    ]);
    expect(restoreStash([text, call('a'), call('b')], found)).toEqual([thinking, text, call('a'), redacted, call('b', { thoughtSignature: 'G' })]);
  });

  it('replaces echoed unsigned reasoning, and changes nothing when nothing was found', () => {
    const echoed: IRPart = { type: 'reasoning', text: 'hm' };
    expect(restoreStash([echoed, call('a')], new Map([['a', { reasoning: [thinking] }]]))).toEqual([thinking, call('a')]);
    expect(restoreStash([call('a')], new Map([['z', { reasoning: [thinking] }]]))).toBeUndefined();
  });
});

describe('usableBy', () => {
  it('keeps only what the target format can verify', () => {
    const e = { reasoning: [thinking], thoughtSignature: 'G' };
    expect(usableBy(e, 'anthropic')).toEqual({ reasoning: [thinking] });
    expect(usableBy(e, 'gemini')).toEqual({ thoughtSignature: 'G' });
    expect(usableBy({ reasoning: [thinking] }, 'responses')).toBeUndefined();
    expect(usableBy(e, 'ir')).toEqual(e);
  });
});

describe('signaturesMiddleware', () => {
  const untouchable = new Proxy({} as Store, {
    get: () => {
      throw new Error('the store must not be touched');
    },
  });
  const ctxFor = (body: Record<string, unknown>, provider: string, operation: 'chat' | 'embeddings' = 'chat') =>
    ({
      state: {
        request: createRequest({ format: 'openai', operation, model: 'm', stream: false, body, headers: {}, query: {} }, openaiCodec),
        target: { provider, model: 'x' },
        candidates: [],
        codecs: new Map(),
        logger: { warn() {} },
      },
    }) as unknown as GatewayContext;
  const body = {
    model: 'm',
    tools: [{ type: 'function', function: { name: 'get', parameters: { type: 'object' } } }],
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'get', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'a', content: '18C' },
    ],
  };

  it('passes OpenAI providers and other operations straight through (same promise, no store)', () => {
    const deps: StashDeps = { store: untouchable, formatOf: (p) => (p === 'oa' ? 'openai' : 'anthropic') };
    const mw = signaturesMiddleware(() => deps, 1000);
    const done = Promise.resolve();
    const ctx = ctxFor(body, 'oa');
    expect(mw(ctx, () => done)).toBe(done);
    expect(ctx.state.request.rewritten).toBe(false);
    expect(mw(ctxFor({ model: 'm', input: 'x' }, 'claude', 'embeddings'), () => done)).toBe(done);
  });

  it('stashes an answer’s signatures and restores them on the next turn', async () => {
    const deps: StashDeps = { store: memoryStore(), formatOf: () => 'anthropic' };
    const mw = signaturesMiddleware(() => deps, 60_000);
    const first = ctxFor({ ...body, messages: body.messages.slice(0, 1) }, 'claude');
    await mw(first, async () => {
      first.state.result = { type: 'ir', response: { id: 'r', model: 'x', created: 0, content: [thinking, call('a')], finishReason: 'tool_calls' } };
    });
    expect(await deps.store.get('sig:a')).toEqual({ reasoning: [thinking] });
    const second = ctxFor(body, 'claude');
    await mw(second, async () => {});
    expect(second.state.request.ir.messages[1]!.content).toEqual([thinking, call('a')]);
  });
});
