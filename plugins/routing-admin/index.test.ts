import { afterEach, describe, expect, it } from 'vitest';
import { createTestGateway, explain, failover, mock, openai, type Decision, type RoutingPlugin, type TestGateway } from 'switchyard';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** A user's routing plugin: the cheapest target first (price in `meta`), explained. */
const cheapFirst = (): RoutingPlugin => {
  const price = (t: { meta?: Record<string, unknown> }) => Number(t.meta?.price ?? Infinity);
  const plugin: RoutingPlugin = {
    name: 'cheap-first',
    async plan(ctx) {
      const before = ctx.state.candidates;
      ctx.state.candidates = [...before].sort((a, b) => price(a) - price(b));
      ctx.state.candidates.forEach((t, i) => explain(ctx, t, 'cheap-first', before[i] === t ? 'kept' : 'reordered', `price ${price(t)}`));
    },
    async middleware(ctx, next) {
      await plugin.plan(ctx);
      await next();
    },
  };
  return plugin;
};

const start = async (pipeline: RoutingPlugin[] | undefined) => {
  gw = await createTestGateway({
    config: {
      providers: { a: mock(), b: mock(), remote: openai({ baseURL: 'https://user:pass@example.invalid/v1?key=secret', apiKey: 'sk-remote-secret' }) },
      models: {
        m: [
          { provider: 'a', model: 'pricey', meta: { price: 9 } },
          { provider: 'b', model: 'cheap', meta: { price: 1 }, priority: 1, headers: { 'x-secret-header': 'v' } },
        ],
      },
      ...(pipeline ? { pipeline } : {}),
    },
  });
  return gw;
};
const post = (path: string, body: string) => fetch(`${gw!.url}${path}`, { method: 'POST', body });

describe('routing-admin', () => {
  it('explains a custom routing plugin through the same decide endpoint', async () => {
    await start([cheapFirst(), failover()]);
    const d = (await (await post('/admin/routing/decide', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }))).json()) as Decision;
    expect(d.candidates.map((c) => [c.model, c.decision])).toEqual([
      ['cheap', 'reordered'],
      ['pricey', 'reordered'],
    ]);
    expect(d.candidates[0]!.reasons).toEqual([
      'models: logical "m": priority 1, weight 1 of 1',
      'cheap-first: price 1',
      'failover: healthy (circuit closed); up to 1 same-target retries',
    ]);
    const res = await fetch(`${gw!.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
    expect(res.status).toBe(200);
  });

  it('rejects malformed decide requests in the OpenAI error shape', async () => {
    await start(undefined);
    const missing = await post('/admin/routing/decide', JSON.stringify({ messages: [] }));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe('you must provide a model parameter');
    expect((await post('/admin/routing/decide?format=klingon', JSON.stringify({ model: 'm' }))).status).toBe(400);
    expect((await post('/admin/routing/decide', '{nope')).status).toBe(400);
  });

  it('lists models with target options (header names only) and health, and providers without credentials', async () => {
    await start(undefined); // the default pipeline: failover() is there
    const models = (await (await fetch(`${gw!.url}/admin/models`)).json()) as { models: Array<{ name: string; targets: Array<Record<string, unknown>> }> };
    expect(models.models[0]!.targets[1]).toEqual({
      provider: 'b',
      model: 'cheap',
      priority: 1,
      weight: 1,
      headers: ['x-secret-header'],
      health: { circuit: 'closed', failures: 0 },
    });
    const providers = JSON.stringify(await (await fetch(`${gw!.url}/admin/providers`)).json());
    expect(providers).toContain('"baseURL":"https://example.invalid/v1"');
    expect(providers).not.toMatch(/secret|pass/);
  });

  it('shows no health without failover, and says sessions need the sticky plugin', async () => {
    await start([]);
    const models = (await (await fetch(`${gw!.url}/admin/models`)).json()) as { models: Array<{ targets: Array<{ health: unknown }> }> };
    expect(models.models[0]!.targets[0]!.health).toBeNull();
    const res = await fetch(`${gw!.url}/admin/sessions/abc`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('sessions_unavailable');
  });
});
