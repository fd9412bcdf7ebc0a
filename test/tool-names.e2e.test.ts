/**
 * Tool names across formats, end to end (WIRE-FORMATS §4 #7, §6): a name the upstream's format
 * rejects is renamed on the way out and shown under its declared name on the way back; Codex's
 * `namespace` tools come back as `namespace` + `name` (Codex dispatches by both, a flat `ns__name`
 * would be an unknown tool to it); and a relayed Responses stream that breaks off keeps one
 * `sequence_number` count through the gateway's error events.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, createTestGateway, gemini, openaiResponses, type TestGateway } from 'switchyard';
import { formatUpstream } from './fixtures/format-upstream.ts';
import type { MockUpstream } from './fixtures/upstream.ts';

const NAMESPACE = 'mcp__calendar_integration_server_for_workspace';
const TOOL = 'create_calendar_event_with_attendees'; // flat: 74 characters, over Anthropic's 64
const ANTHROPIC_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

let claudeUp: MockUpstream;
let gemUp: MockUpstream;
let respUp: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  claudeUp = await formatUpstream('anthropic');
  gemUp = await formatUpstream('gemini');
  respUp = await formatUpstream('responses');
  gw = await createTestGateway({
    config: {
      providers: {
        claude: anthropic({ baseURL: claudeUp.url, apiKey: 'up-key' }),
        gem: gemini({ baseURL: gemUp.url, apiKey: 'up-key' }),
        resp: openaiResponses({ baseURL: `${respUp.url}/v1`, apiKey: 'up-key' }),
      },
      models: { claude: 'claude/claude-sonnet-4-5', gem: 'gem/gemini-2.5-flash', 'resp-reset': 'resp/reset-mid-stream' },
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  for (const u of [claudeUp, gemUp, respUp]) await u?.close();
});

/** The tools Codex CLI sends: a plain function and a namespace tool (WIRE-FORMATS §6). */
const codexTools = [
  { type: 'function' as const, name: 'shell', description: 'Run a command', parameters: { type: 'object', properties: {} }, strict: false },
  {
    type: 'namespace' as const,
    name: NAMESPACE,
    description: 'Calendar MCP server',
    tools: [{ type: 'function' as const, name: TOOL, parameters: { type: 'object', properties: { title: { type: 'string' } } } }],
  },
];

describe('Codex namespace tools through an Anthropic upstream', () => {
  for (const stream of [false, true]) {
    it(`${stream ? 'streamed' : 'whole'}: the call comes back as namespace + name; the next turn pairs up upstream`, async () => {
      const params = {
        model: 'claude',
        input: 'book the standup',
        tools: codexTools,
        tool_choice: { type: 'function' as const, name: TOOL, namespace: NAMESPACE },
        store: false,
      };
      const res = stream ? await client.responses.stream(params).finalResponse() : await client.responses.create(params);
      const call = res.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall | undefined;
      expect(call).toMatchObject({ type: 'function_call', namespace: NAMESPACE, name: TOOL });

      const sent = claudeUp.received.at(-1)!.body as { tools: Array<{ name: string }>; tool_choice: { name: string } };
      const upstreamNames = sent.tools.map((t) => t.name);
      for (const n of upstreamNames) expect(n).toMatch(ANTHROPIC_NAME);
      expect(upstreamNames[0]).toBe('shell');
      expect(sent.tool_choice.name).toBe(upstreamNames[1]);

      // Codex's next turn: the call as it came back, plus its output.
      await client.responses.create({
        model: 'claude',
        tools: codexTools,
        store: false,
        input: [
          { role: 'user', content: 'book the standup' },
          { type: 'function_call', call_id: call!.call_id, name: TOOL, namespace: NAMESPACE, arguments: call!.arguments },
          { type: 'function_call_output', call_id: call!.call_id, output: 'booked' },
        ],
      });
      const next = claudeUp.received.at(-1)!.body as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
      const toolUse = next.messages[1]!.content[0]!;
      expect(toolUse).toMatchObject({ type: 'tool_use', id: call!.call_id, name: upstreamNames[1] });
      expect(next.messages[2]!.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: call!.call_id, content: 'booked' });
    });
  }
});

describe('tool names a Chat client declares', () => {
  const tools = [{ type: 'function' as const, function: { name: 'files.read', parameters: { type: 'object', properties: {} } } }];

  it('Anthropic upstream: renamed on the way out, the declared name on the way back (streamed)', async () => {
    const final = await client.chat.completions
      .stream({ model: 'claude', messages: [{ role: 'user', content: 'read it' }], tools })
      .finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'files.read' } });
    const sent = claudeUp.received.at(-1)!.body as { tools: Array<{ name: string }> };
    expect(sent.tools[0]!.name).toMatch(ANTHROPIC_NAME);
    expect(sent.tools[0]!.name).not.toBe('files.read');
  });

  it('Gemini upstream: a name Gemini accepts goes out unchanged', async () => {
    const res = await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'read it' }], tools });
    expect(res.choices[0]!.message.tool_calls?.[0]).toMatchObject({ function: { name: 'files.read' } });
    const sent = gemUp.received.at(-1)!.body as { tools: Array<{ functionDeclarations: Array<{ name: string }> }> };
    expect(sent.tools[0]!.functionDeclarations[0]!.name).toBe('files.read');
  });
});

describe('a relayed Responses stream that breaks off', () => {
  it('keeps one sequence_number count through the error and response.failed the gateway adds', async () => {
    const res = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: JSON.stringify({ model: 'resp-reset', input: 'one two three four', stream: true }),
    });
    const events = (await res.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { type: string; sequence_number: number });
    expect(events.slice(-2).map((e) => e.type)).toEqual(['error', 'response.failed']);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });
});
