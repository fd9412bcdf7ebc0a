/**
 * Failover across wire formats: targets of one logical model speak different formats, clients
 * use the official OpenAI (Chat and Responses), Anthropic and Gemini SDKs. A failed target is
 * replaced by one in another format (converted); a stream that fails before its first event is
 * replaced, one that fails after it ends with the client format's own error event (never its
 * success terminator); all-failed is a 502 in the client's error shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic, createTestGateway, failover, gemini, openai, type TestGateway } from 'switchyard';
import { formatUpstream } from './fixtures/format-upstream.ts';
import type { MockUpstream } from './fixtures/upstream.ts';

let oa: MockUpstream;
let claude: MockUpstream;
let gem: MockUpstream;
let gw: TestGateway;

beforeAll(async () => {
  [oa, claude, gem] = await Promise.all([formatUpstream('openai'), formatUpstream('anthropic'), formatUpstream('gemini')]);
  gw = await createTestGateway({
    config: {
      providers: {
        oa: openai({ baseURL: `${oa.url}/v1`, apiKey: 'k1' }),
        claude: anthropic({ baseURL: claude.url, apiKey: 'k2' }),
        gem: gemini({ baseURL: gem.url, apiKey: 'k3' }),
      },
      models: {
        mixed: [{ provider: 'oa', model: 'fail-500' }, { provider: 'claude', model: 'c-ok', priority: 1 }],
        'early-break': [{ provider: 'claude', model: 'reset-before-first-event' }, { provider: 'gem', model: 'g-ok', priority: 1 }],
        'late-break': [{ provider: 'claude', model: 'reset-mid-stream' }, { provider: 'oa', model: 'o-never', priority: 1 }],
        dead: [{ provider: 'oa', model: 'fail-503' }, { provider: 'claude', model: 'fail-529', priority: 1 }, { provider: 'gem', model: 'fail-500', priority: 2 }],
      },
      pipeline: [failover({ retries: 0, circuit: false })],
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([oa?.close(), claude?.close(), gem?.close()]);
});

const calls = (up: MockUpstream, model: string) => up.received.filter((r) => r.body.model === model || r.path.includes(`/models/${model}:`)).length;

describe('failover across formats', () => {
  it('an OpenAI client is served by the Anthropic target after the OpenAI one fails', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'mixed', messages: [{ role: 'user', content: 'hello' }] });
    expect(res.choices[0]!.message.content).toBe('echo: hello');
    expect(calls(claude, 'c-ok')).toBe(1);
  });

  it('an Anthropic stream broken before its first event continues on a Gemini target', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const stream = client.messages.stream({ model: 'early-break', max_tokens: 64, messages: [{ role: 'user', content: 'one two three' }] });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'echo: one two three' });
    expect(final.stop_reason).toBe('end_turn');
    expect(calls(gem, 'g-ok')).toBe(1);
  });

  it('an Anthropic stream broken after its first event ends with an Anthropic error event', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'late-break', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'one two three four' }] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('event: content_block_delta');
    expect(text).toContain('event: error');
    expect(text).not.toContain('message_stop');
    const client = new Anthropic({ baseURL: gw.url, apiKey: 'k', maxRetries: 0 });
    const err = await client.messages
      .stream({ model: 'late-break', max_tokens: 64, messages: [{ role: 'user', content: 'one two three four' }] })
      .finalMessage()
      .catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(calls(oa, 'o-never')).toBe(0);
  });

  it('a Gemini stream fails over before its first event, and ends with a Gemini error (no STOP) after it', async () => {
    const sdk = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const before = calls(gem, 'g-ok');
    let text = '';
    for await (const c of await sdk.models.generateContentStream({ model: 'early-break', contents: 'one two three' })) text += c.text ?? '';
    expect(text).toBe('echo: one two three');
    expect(calls(gem, 'g-ok')).toBe(before + 1);

    const res = await fetch(`${gw.url}/v1beta/models/late-break:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'one two three four' }] }] }),
    });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
    expect(events[0]).toHaveProperty('candidates');
    expect(events.at(-1)).toMatchObject({ error: { code: expect.any(Number), status: expect.any(String) } });
    expect(JSON.stringify(events)).not.toContain('finishReason');
    let got = '';
    const err = await (async () => {
      for await (const c of await sdk.models.generateContentStream({ model: 'late-break', contents: 'one two three four' })) got += c.text ?? '';
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(got).toContain('echo: ');
    expect(calls(oa, 'o-never')).toBe(0);
  });

  it('a Responses stream fails over before its first event, and ends with error + response.failed after it', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const before = calls(gem, 'g-ok');
    let text = '';
    let completed = false;
    for await (const ev of await client.responses.create({ model: 'early-break', input: 'one two three', stream: true })) {
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') completed = true;
    }
    expect([text, completed]).toEqual(['echo: one two three', true]);
    expect(calls(gem, 'g-ok')).toBe(before + 1);

    const res = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'late-break', input: 'one two three four', stream: true }),
    });
    expect(res.status).toBe(200);
    const names = (await res.text()).split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
    expect(names).toContain('response.output_text.delta');
    expect(names.slice(-2)).toEqual(['error', 'response.failed']);
    expect(names).not.toContain('response.completed');
    const seen: string[] = [];
    const err = await (async () => {
      for await (const ev of await client.responses.create({ model: 'late-break', input: 'one two three four', stream: true })) seen.push(ev.type);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(seen).toContain('response.output_text.delta');
    expect(seen).not.toContain('response.completed');
    expect(calls(oa, 'o-never')).toBe(0);
  });

  it('all failed → 502 in the Gemini error shape for a Gemini client', async () => {
    const res = await fetch(`${gw.url}/v1beta/models/dead:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: number; message: string; status: string } };
    expect(body.error.code).toBe(502);
    expect(body.error.message).toMatch(/oa\/fail-503 503, claude\/fail-529 5\d\d, gem\/fail-500 500/);
    expect(body.error.message).not.toContain('upstream says');
    const sdk = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: gw.url } });
    const err = await sdk.models.generateContent({ model: 'dead', contents: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.message)).toContain('all targets failed');
  });
});
