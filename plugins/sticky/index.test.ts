import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createTestGateway, failover, mock, sticky, type GatewayContext, type GatewayRuntime, type SessionInfo, type StickyOptions, type TestGateway } from 'switchyard';
import { gatedStore } from '../../test/fixtures/gated-store.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const start = async (opts: StickyOptions) => {
  gw = await createTestGateway({
    config: {
      providers: { a: mock(), b: mock(), c: mock() },
      models: { m: [{ provider: 'a', model: 'ma' }, { provider: 'b', model: 'mb' }, { provider: 'c', model: 'mc' }] },
      pipeline: [sticky(opts), failover()],
    },
  });
  return gw;
};
const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${gw!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
const session = async (id: string) => {
  const res = await fetch(`${gw!.url}/admin/sessions/${encodeURIComponent(id)}`);
  return res.status === 200 ? ((await res.json()) as SessionInfo) : undefined;
};
/** Exchanges are recorded once a response has fully ended: poll (bounded) until `ready`. */
const exchanges = async (id: string, ready: (e: SessionInfo['exchanges']) => boolean) => {
  for (let i = 0; i < 100; i++) {
    const list = (await session(id))?.exchanges ?? [];
    if (ready(list)) return list;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`session ${id} never got the expected exchanges`);
};

describe('sticky()', () => {
  it('rejects bad options', () => {
    expect(() => sticky({ ttlMs: 0 })).toThrow(ConfigError);
    expect(() => sticky({ context: { maxExchanges: 0 } })).toThrow('sticky: "context.maxExchanges" must be a positive integer');
  });

  it('must come before failover (which tries targets in the order sticky sets)', async () => {
    const failed = createTestGateway({ config: { providers: { a: mock() }, models: { m: 'a/x' }, pipeline: [failover(), sticky()] } });
    await expect(failed).rejects.toThrow('sticky: place it before "failover"');
  });

  it('reads the session from a body field such as metadata.user_id', async () => {
    await start({ session: { body: 'metadata.user_id' } });
    expect((await chat({ metadata: { user_id: 'user-7' } })).status).toBe(200);
    const info = await session('user-7');
    expect(info?.bindings).toMatchObject([{ model: 'm', provider: expect.stringMatching(/^[abc]$/) }]);
    const bound = info!.bindings[0]!.targetModel;
    for (let i = 0; i < 5; i++) await chat({ metadata: { user_id: 'user-7' } });
    expect((await session('user-7'))!.bindings[0]!.targetModel).toBe(bound);
    expect(await exchanges('user-7', (e) => e.length === 6)).toHaveLength(6);
  });

  it('reads the session from a function of the context, and ignores unusable ids', async () => {
    await start({ session: (ctx) => ctx.state.request.headers['x-team'] as string | undefined });
    await chat({}, { 'x-team': 'red' });
    expect(await session('red')).toBeDefined();
    await chat({}, { 'x-team': 'x'.repeat(300) });
    expect(await session('x'.repeat(300))).toBeUndefined();
  });

  it('keeps only the newest exchanges, truncated', async () => {
    await start({ context: { maxExchanges: 2, maxChars: 5 } });
    for (const word of ['one', 'two', 'three']) {
      await chat({ messages: [{ role: 'user', content: `${word} words here` }] }, { 'x-session-id': 's' });
      await exchanges('s', (e) => e.at(-1)?.input === `${word} words here`.slice(0, 5));
    }
    const kept = await exchanges('s', () => true);
    expect(kept.map((e) => e.input)).toEqual(['two w', 'three']);
    expect(kept[1]!.output).toHaveLength(5);
  });

  it('lets bindings and context expire after ttlMs', async () => {
    await start({ ttlMs: 1000 });
    await chat({}, { 'x-session-id': 'short' });
    await exchanges('short', (e) => e.length === 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await session('short')).toBeUndefined();
  });

  it('serves no context routes when context recording is off', async () => {
    await start({ context: false });
    await chat({}, { 'x-session-id': 'quiet' });
    expect((await session('quiet'))!.exchanges).toEqual([]);
    expect((await fetch(`${gw!.url}/context/quiet`)).status).toBe(404);
  });

  it('records failed exchanges without a serving target', async () => {
    await start({});
    expect((await chat({ model: 'unknown' }, { 'x-session-id': 'oops' })).status).toBe(404);
    // the models step failed before sticky ran: nothing is recorded for an unroutable request
    expect(await session('oops')).toBeUndefined();
  });
});

describe('sticky() on a store with round trips', () => {
  const targets = [{ provider: 'a', model: 'ma' }, { provider: 'b', model: 'mb' }];
  /** The sticky middleware alone on a gated store; the request is served by provider `serve`. */
  const harness = async () => {
    const g = gatedStore();
    const plugin = sticky({ context: false });
    await plugin.setup!({ store: g.store, plugins: [plugin] } as unknown as GatewayRuntime);
    const request = (model: string, serve: string) => {
      const ctx = { state: { request: { model, headers: { 'x-session-id': 's1' }, body: {} }, candidates: [...targets] } } as unknown as GatewayContext;
      let dispatched = false;
      const run = plugin.middleware!(ctx, async () => {
        dispatched = true;
        ctx.state.target = ctx.state.candidates.find((t) => t.provider === serve);
      });
      return { ctx, run, dispatched: () => dispatched };
    };
    return { g, plugin, request };
  };

  it('concurrent requests of one session for two models both keep their binding (no lost update)', async () => {
    const { g, plugin, request } = await harness();
    const one = request('m1', 'b');
    const two = request('m2', 'a');
    await g.through(Promise.all([one.run, two.run]));
    const info = await g.through(plugin.getSession('s1'));
    const bound = Object.fromEntries(info!.bindings.map((b) => [b.model, b.targetModel]));
    expect(bound).toEqual({ m1: 'mb', m2: 'ma' });
  });

  it('a session served by its bound target again costs one store read and no write', async () => {
    const { g, request } = await harness();
    await g.through(request('m1', 'b').run);
    const again = request('m1', 'b');
    expect(await g.rounds(again.dispatched)).toBe(1);
    expect(again.ctx.state.candidates[0]).toMatchObject({ provider: 'b' });
    let finished = false;
    void again.run.then(() => (finished = true));
    expect(await g.rounds(() => finished)).toBe(0);
  });
});
