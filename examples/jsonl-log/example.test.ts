import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';

const dir = mkdtempSync(join(tmpdir(), 'jsonl-log-'));
const file = join(dir, 'logs', 'requests.jsonl');
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  gw = await createTestGateway({ config: join(import.meta.dirname, 'gateway.config.ts'), env: { REQUEST_LOG: file } });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('writes one line per request — whole, streamed, failed, malformed — across a reload, flushed on close', async () => {
  const whole = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'hello log' }] });
  expect(whole.choices[0]!.message.content).toBe('hello log');
  expect((await gw.gateway.reload('test')).ok).toBe(true); // a new version opens the file again
  const stream = await client.chat.completions.create({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  expect(text).toBe('one two three');
  await expect(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404 });
  const bad = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  expect(bad.status).toBe(400);
  expect((await fetch(`${gw.url}/health`)).status).toBe(200); // not an inference request: no line
  await gw.close();

  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatchObject({
    model: 'demo',
    stream: false,
    provider: 'echo',
    targetModel: 'echo',
    status: 200,
    prompt: [{ role: 'system', text: 'be kind' }, { role: 'user', text: 'hello log' }],
    answer: 'hello log',
  });
  expect(lines[0]!.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
  expect(typeof lines[0]!.time).toBe('string');
  expect(lines[1]).toMatchObject({ stream: true, status: 200, answer: 'one two three', ttfbMs: expect.any(Number) });
  expect(lines[2]).toMatchObject({ model: 'nope', status: 404, error: 'model_not_found' });
  expect(lines[3]).toMatchObject({ status: 400, path: '/v1/chat/completions' }); // failed before any plugin ran
  expect(new Set(lines.map((l) => l.requestId)).size).toBe(4);
});
