/**
 * Every client format against every provider format, end to end: the official SDKs (`openai`
 * Chat and Responses, `@anthropic-ai/sdk`, `@google/genai`) → the gateway → mock upstreams that
 * speak OpenAI Chat, Anthropic, Gemini and Responses. Text and tool calls, streamed and not,
 * with usage in the final event.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, createTestGateway, gemini, openai, openaiResponses, type TestGateway } from 'switchyard';
import type { WireFormat } from '../core/ir.ts';
import { formatUpstream } from './fixtures/format-upstream.ts';
import type { MockUpstream } from './fixtures/upstream.ts';

const FORMATS: WireFormat[] = ['openai', 'anthropic', 'gemini', 'responses'];
const ups = {} as Record<WireFormat, MockUpstream>;
let gw: TestGateway;

beforeAll(async () => {
  for (const f of FORMATS) ups[f] = await formatUpstream(f);
  gw = await createTestGateway({
    config: {
      providers: {
        openai: openai({ baseURL: `${ups.openai.url}/v1`, apiKey: 'up-key-openai' }),
        anthropic: anthropic({ baseURL: ups.anthropic.url, apiKey: 'up-key-anthropic' }),
        gemini: gemini({ baseURL: ups.gemini.url, apiKey: 'up-key-gemini' }),
        responses: openaiResponses({ baseURL: `${ups.responses.url}/v1`, apiKey: 'up-key-responses' }),
        'openai-nostream': openai({ baseURL: `${ups.openai.url}/v1`, apiKey: 'up-key-openai', streaming: 'none' }),
        'anthropic-onlystream': anthropic({ baseURL: ups.anthropic.url, apiKey: 'up-key-anthropic', streaming: 'only' }),
      },
      models: {
        ...Object.fromEntries(FORMATS.map((f) => [`via-${f}`, { provider: f, model: 'up-model' }])),
        ...Object.fromEntries(FORMATS.map((f) => [`via-${f}-429`, { provider: f, model: 'fail-429' }])),
        'synth-stream': { provider: 'openai-nostream', model: 'up-model' },
        'synth-whole': { provider: 'anthropic-onlystream', model: 'up-model' },
      },
    },
  });
});

const matrix = new Map<string, Map<string, string>>();
function mark(client: string, upstream: string, scenario: string, ok: boolean): void {
  const row = matrix.get(`${client} → ${upstream}`) ?? new Map<string, string>();
  row.set(scenario, ok ? 'ok' : 'FAIL');
  matrix.set(`${client} → ${upstream}`, row);
}

afterAll(async () => {
  const scenarios = [...new Set([...matrix.values()].flatMap((r) => [...r.keys()]))];
  const lines = [`| client → provider | ${scenarios.join(' | ')} |`, `|---|${scenarios.map(() => '---').join('|')}|`];
  for (const [pair, row] of matrix) lines.push(`| ${pair} | ${scenarios.map((sc) => row.get(sc) ?? '-').join(' | ')} |`);
  console.log(`\nconformance matrix\n${lines.join('\n')}\n`);
  await gw?.close();
  for (const f of FORMATS) await ups[f]?.close();
});

interface Answer {
  text: string;
  tool?: { name: string; args: unknown };
  inputTokens?: number;
  outputTokens?: number;
}

const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

type Client = (model: string, stream: boolean, withTool: boolean) => Promise<Answer>;

const clients: Record<WireFormat, Client> = {
  async openai(model, stream, withTool) {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const params = {
      model,
      messages: [{ role: 'system' as const, content: 'Be terse.' }, { role: 'user' as const, content: 'hello there' }],
      ...(withTool ? { tools: [{ type: 'function' as const, function: { name: 'get_weather', parameters: weatherSchema } }] } : {}),
    };
    const res = stream
      ? await c.chat.completions.stream({ ...params, stream_options: { include_usage: true } }).finalChatCompletion()
      : await c.chat.completions.create(params);
    const msg = res.choices[0]!.message;
    const call = msg.tool_calls?.[0];
    return {
      text: msg.content ?? '',
      tool: call?.type === 'function' ? { name: call.function.name, args: JSON.parse(call.function.arguments) } : undefined,
      inputTokens: res.usage?.prompt_tokens,
      outputTokens: res.usage?.completion_tokens,
    };
  },
  async responses(model, stream, withTool) {
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const params = {
      model,
      instructions: 'Be terse.',
      input: 'hello there',
      ...(withTool ? { tools: [{ type: 'function' as const, name: 'get_weather', parameters: weatherSchema, strict: false }] } : {}),
    };
    const res = stream ? await c.responses.stream(params).finalResponse() : await c.responses.create(params);
    const call = res.output.find((o) => o.type === 'function_call');
    return {
      text: res.output_text,
      tool: call?.type === 'function_call' ? { name: call.name, args: JSON.parse(call.arguments) } : undefined,
      inputTokens: res.usage?.input_tokens,
      outputTokens: res.usage?.output_tokens,
    };
  },
  async anthropic(model, stream, withTool) {
    const c = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const params = {
      model,
      max_tokens: 256,
      system: 'Be terse.',
      messages: [{ role: 'user' as const, content: 'hello there' }],
      ...(withTool ? { tools: [{ name: 'get_weather', input_schema: weatherSchema as Anthropic.Tool.InputSchema }] } : {}),
    };
    const res = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
    const tool = res.content.find((b) => b.type === 'tool_use');
    return {
      text: res.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
      tool: tool?.type === 'tool_use' ? { name: tool.name, args: tool.input } : undefined,
      inputTokens: res.usage.input_tokens + (res.usage.cache_read_input_tokens ?? 0) + (res.usage.cache_creation_input_tokens ?? 0),
      outputTokens: res.usage.output_tokens,
    };
  },
  async gemini(model, stream, withTool) {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const params = {
      model,
      contents: [{ role: 'user', parts: [{ text: 'hello there' }] }],
      config: {
        systemInstruction: 'Be terse.',
        ...(withTool ? { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weatherSchema }] }] } : {}),
      },
    };
    let text = '';
    let tool: Answer['tool'];
    let usage: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number } | undefined;
    const take = (r: Awaited<ReturnType<typeof ai.models.generateContent>>) => {
      text += r.text ?? '';
      const fc = r.functionCalls?.[0];
      if (fc) tool = { name: fc.name!, args: fc.args };
      if (r.usageMetadata) usage = r.usageMetadata;
    };
    if (stream) for await (const chunk of await ai.models.generateContentStream(params)) take(chunk);
    else take(await ai.models.generateContent(params));
    return { text, tool, inputTokens: usage?.promptTokenCount, outputTokens: (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0) };
  },
};

/** Runs a scenario and records it in the printed matrix. */
async function scenario(client: WireFormat, upstream: string, name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    mark(client, upstream, name, true);
  } catch (err) {
    mark(client, upstream, name, false);
    throw err;
  }
}

for (const client of FORMATS) {
  describe(`${client} client`, () => {
    for (const upstream of FORMATS) {
      for (const stream of [false, true]) {
        const mode = stream ? 'streamed ' : '';
        it(`→ ${upstream} upstream, ${mode}text with usage`, () =>
          scenario(client, upstream, `${mode}text`, async () => {
            const before = ups[upstream].received.length;
            const a = await clients[client](`via-${upstream}`, stream, false);
            expect(a.text).toBe('echo: hello there');
            expect(a.tool).toBeUndefined();
            expect(a.inputTokens).toBe(11);
            expect(a.outputTokens).toBe(7);
            const sent = ups[upstream].received.slice(before);
            expect(sent).toHaveLength(1);
            const auth = sent[0]!.headers;
            expect(auth.authorization ?? auth['x-api-key'] ?? auth['x-goog-api-key']).toMatch(/up-key-/);
            expect(JSON.stringify(sent[0]!.body)).toContain('Be terse.');
          }));
        it(`→ ${upstream} upstream, ${mode}tool call`, () =>
          scenario(client, upstream, `${mode}tool call`, async () => {
            const a = await clients[client](`via-${upstream}`, stream, true);
            expect(a.tool).toEqual({ name: 'get_weather', args: { city: 'Paris' } });
          }));
      }
      it(`→ ${upstream} upstream, error rendered (429)`, () =>
        scenario(client, upstream, 'error', async () => {
          const err = await clients[client](`via-${upstream}-429`, false, false).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(Error);
          expect((err as { status?: number }).status).toBe(429);
        }));
    }
    it('→ a provider that cannot stream: the stream is synthesized', () =>
      scenario(client, 'openai (no streaming)', 'streamed tool call', async () => {
        const before = ups.openai.received.length;
        const a = await clients[client]('synth-stream', true, true);
        expect(a.tool).toEqual({ name: 'get_weather', args: { city: 'Paris' } });
        expect(ups.openai.received.slice(before).map((r) => r.body.stream ?? false)).toEqual([false]);
      }));
    it('→ a provider that only streams: the answer is aggregated', () =>
      scenario(client, 'anthropic (stream only)', 'text', async () => {
        const before = ups.anthropic.received.length;
        const a = await clients[client]('synth-whole', false, false);
        expect(a.text).toBe('echo: hello there');
        expect(a.outputTokens).toBe(7);
        expect(ups.anthropic.received.slice(before).map((r) => r.body.stream)).toEqual([true]);
      }));
  });
}
