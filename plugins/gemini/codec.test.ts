import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SSEMessage } from '../../core/codec.ts';
import type { IRRequest, IRStreamEvent } from '../../core/ir.ts';
import { runCodecFixtures } from '../../test/codec-fixtures.ts';
import { countTokensEstimate, decodeCountTokensRequest, encodeCountTokensResponse, geminiCodec } from './codec.ts';

const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));
runCodecFixtures(geminiCodec, fixtures);

function fixtureInput(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${fixtures}/${name}.json`, 'utf8')).input;
}

describe('gemini codec round trips', () => {
  it('a Gemini CLI request survives decode → encode (ids, signatures, parametersJsonSchema, functionResponse)', () => {
    const body = fixtureInput('decode-request-gemini-cli');
    const ir = geminiCodec.decodeRequest(body, { model: 'gemini-3-pro-preview', stream: true });
    const again = geminiCodec.encodeRequest(ir, { model: 'gemini-3-pro-preview' });
    expect(again.contents).toEqual(body.contents);
    expect(again.tools).toEqual(body.tools);
    expect(again.systemInstruction).toEqual({ parts: [{ text: 'You are an interactive CLI agent.' }] });
    expect(again.generationConfig).toEqual(body.generationConfig);
  });

  it('history without ids pairs responses with the minted call ids on re-encode', () => {
    const ir = geminiCodec.decodeRequest(fixtureInput('decode-request-tool-results-without-ids'), { model: 'gemini-2.5-flash' });
    const out = geminiCodec.encodeRequest(ir, { model: 'gemini-2.5-flash' }) as { contents: Array<{ parts: Array<Record<string, { id?: string }>> }> };
    const callIds = out.contents[1]!.parts.map((p) => p.functionCall!.id);
    const responseIds = out.contents[2]!.parts.map((p) => p.functionResponse!.id);
    expect(responseIds).toEqual(callIds);
  });

  it('decodeResponse → encodeResponse keeps parts, signatures and usage', () => {
    const body = {
      candidates: [{ content: { role: 'model', parts: [
        { text: 'plan', thought: true },
        { functionCall: { id: 'c1', name: 'weather', args: { city: 'SF' } }, thoughtSignature: 'S1' },
      ] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 131, candidatesTokenCount: 15, thoughtsTokenCount: 95, totalTokenCount: 241 },
      modelVersion: 'gemini-3-pro-preview',
      responseId: 'B94h',
    };
    const out = geminiCodec.encodeResponse(geminiCodec.decodeResponse(body), { model: 'gemini-3-pro-preview' });
    expect(out).toEqual(body);
  });

  it('decodeStream → encodeStream reproduces the chunks a Gemini client expects', () => {
    const chunks = [
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }] }, index: 0 }], modelVersion: 'm', responseId: 'r' },
      {
        candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'c', name: 'f', args: { a: 1 } }, thoughtSignature: 'S' }] }, index: 0 }],
        modelVersion: 'm',
        responseId: 'r',
      },
      { candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 }, modelVersion: 'm', responseId: 'r' },
    ];
    const dec = geminiCodec.createStreamDecoder();
    const enc = geminiCodec.createStreamEncoder({ model: 'm' });
    const events: IRStreamEvent[] = chunks.flatMap((c) => dec.push({ data: JSON.stringify(c) }));
    events.push(...dec.end());
    const out: SSEMessage[] = [...events.flatMap((e) => enc.push(e)), ...enc.end()];
    expect(out.every((m) => m.event === undefined && m.data !== '[DONE]')).toBe(true);
    expect(out.map((m) => JSON.parse(m.data))).toEqual(chunks);
  });
});

describe('gemini stream encoder details', () => {
  it('mints one responseId and keeps it on every chunk when start has none', () => {
    const enc = geminiCodec.createStreamEncoder({ model: 'gemini-2.5-flash' });
    const out = [
      ...enc.push({ type: 'start', id: '', model: 'x' }),
      ...enc.push({ type: 'text_delta', text: 'a' }),
      ...enc.push({ type: 'text_delta', text: 'b' }),
      ...enc.push({ type: 'finish', reason: 'stop' }),
      ...enc.end(),
    ].map((m) => JSON.parse(m.data) as { responseId: string; modelVersion: string });
    expect(out).toHaveLength(3);
    expect(new Set(out.map((c) => c.responseId)).size).toBe(1);
    expect(out[0]!.responseId).toMatch(/^[A-Za-z0-9]{10,}$/);
    expect(out.every((c) => c.modelVersion === 'gemini-2.5-flash')).toBe(true);
  });

  it('end() is idempotent and emits nothing after the terminal chunk', () => {
    const enc = geminiCodec.createStreamEncoder({ model: 'm' });
    enc.push({ type: 'finish', reason: 'stop' });
    expect(enc.end()).toHaveLength(1);
    expect(enc.end()).toEqual([]);
    expect(enc.push({ type: 'text_delta', text: 'late' })).toEqual([]);
  });
});

describe('countTokens helpers', () => {
  const ir: IRRequest = {
    model: 'gemini-2.5-flash',
    system: [{ type: 'text', text: 'abcd' }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: '12345678' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'x' } }] },
      { role: 'assistant', content: [{ type: 'tool_call', id: 'c', name: 'ab', arguments: '{}' }] },
    ],
    stream: false,
  };

  it('estimates ~4 chars per token plus 258 per media part', () => {
    expect(countTokensEstimate(ir)).toBe(Math.ceil((4 + 8 + 4) / 4) + 258);
  });

  it('renders {totalTokens}', () => {
    expect(encodeCountTokensResponse(42)).toEqual({ totalTokens: 42 });
  });

  it('decodes both countTokens body shapes', () => {
    const contents = [{ role: 'user', parts: [{ text: 'hi' }] }];
    expect(decodeCountTokensRequest({ contents }, { model: 'gemini-2.5-flash' }).messages).toHaveLength(1);
    const wrapped = decodeCountTokensRequest({ generateContentRequest: { model: 'models/gemini-2.5-pro', contents } });
    expect(wrapped.model).toBe('gemini-2.5-pro');
    expect(wrapped.stream).toBe(false);
  });
});
