import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';
import { openaiUpstream } from '../../test/fixtures/upstream.ts';

const config = join(import.meta.dirname, 'gateway.config.ts');
const client = (gw: TestGateway) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });

async function route(gw: TestGateway, content: string, maxTokens?: number) {
  const { data, response } = await client(gw)
    .chat.completions.create({ model: 'chat', messages: [{ role: 'user', content }], ...(maxTokens ? { max_tokens: maxTokens } : {}) })
    .withResponse();
  return { text: data.choices[0]!.message.content, target: response.headers.get('x-route-target'), cost: Number(response.headers.get('x-route-cost-usd')) };
}

describe('mock targets only', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ config, env: { LOCAL_LLM_URL: undefined } });
  });
  afterAll(() => gw?.close());

  it('picks the cheapest target for this request: long answers go where output is cheap', async () => {
    const r = await route(gw, 'write me a long story', 4000);
    expect(r).toMatchObject({ text: 'write me a long story', target: 'writer/writer-1' });
    expect(r.cost).toBeCloseTo((6 * 1.0 + 4000 * 0.4) / 1e6, 6);
  });

  it('long prompts with short answers go where input is cheap', async () => {
    const r = await route(gw, 'x'.repeat(20_000), 10);
    expect(r.target).toBe('flash/flash-1');
  });

  it('assumes the default output size when the request sets none', async () => {
    expect((await route(gw, 'hello')).target).toBe('writer/writer-1');
  });
});

describe('with a failing free local model, and failover', () => {
  let gw: TestGateway<{ local: Awaited<ReturnType<typeof openaiUpstream>> }>;
  beforeAll(async () => {
    gw = await createTestGateway({
      config,
      upstreams: { local: openaiUpstream },
      env: (up) => ({ LOCAL_LLM_URL: `${up.local.url}/v1`, LOCAL_MODEL: 'fail-500' }),
    });
  });
  afterAll(() => gw?.close());

  it('tries it first and falls back to the next-cheapest; after two failures skips it — also after a reload', async () => {
    for (let i = 1; i <= 2; i++) {
      expect((await route(gw, 'hello')).target).toBe('writer/writer-1'); // the free model failed: failover moved on
      expect(gw.upstreams.local.received).toHaveLength(i);
    }
    expect((await route(gw, 'hello')).target).toBe('writer/writer-1');
    expect(gw.upstreams.local.received).toHaveLength(2); // circuit open: not tried
    expect((await gw.gateway.reload('test')).ok).toBe(true);
    expect((await route(gw, 'hello')).target).toBe('writer/writer-1');
    expect(gw.upstreams.local.received).toHaveLength(2);
  });

  it('explains its order in the routing API', async () => {
    const res = await fetch(`${gw.url}/admin/routing/decide`, {
      method: 'POST',
      body: JSON.stringify({ model: 'chat', max_tokens: 10, messages: [{ role: 'user', content: 'x'.repeat(20_000) }] }),
    });
    const decision = (await res.json()) as { candidates: Array<{ provider: string; reasons: string[] }>; skipped: Array<{ provider: string }> };
    expect(decision.candidates.map((c) => c.provider)).toEqual(['flash', 'writer', 'premium']);
    expect(decision.candidates[0]!.reasons).toContain('cost-aware: ~$0.000520 for this request');
    expect(decision.skipped.map((c) => c.provider)).toEqual(['local']);
  });
});
