/**
 * Type test of the plugin authoring surface, written the way a user writes a plugin: everything
 * imported from the package root `switchyard`, context fields added by declaration merging.
 * Compiled (never run) by test/types/types.test.ts; each `@ts-expect-error` asserts that a
 * mistake fails to compile — if the error ever disappears, the directive itself is an error.
 */
import {
  createTestGateway,
  definePlugin,
  GatewayError,
  mapEvents,
  mapResponse,
  mock,
  processProvider,
  type GatewayContext,
  type GatewayRuntime,
  type IRRequest,
  type IRStreamEvent,
  type Logger,
  type Middleware,
  type Plugin,
  type Provider,
  type Store,
  type Target,
} from 'switchyard';

declare module 'switchyard' {
  interface GatewayState {
    /** Added by the plugin below; typed everywhere `ctx.state` is. */
    typecheckProbe?: { tier: 'gold' | 'free' };
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T | undefined => undefined;

export const probe = (opts: { header: string }): Plugin => {
  let store: Store | undefined;
  return definePlugin({
    name: 'typecheck-probe',
    enforce: 'pre',
    setup(runtime: GatewayRuntime) {
      store = runtime.store;
      const log: Logger = runtime.logger;
      log.info({ header: opts.header }, 'started');
      assertType<Equal<typeof runtime.signal, AbortSignal>>();
    },
    async middleware(ctx, next) {
      // The request: wire body, the IR, and edits through rewrite.
      const ir: IRRequest = ctx.state.request.ir;
      const body: Record<string, unknown> = ctx.state.request.body;
      ctx.state.request.model = String(body.model ?? ir.model);
      ctx.state.request.rewrite((r) => void r.system.push({ type: 'text', text: 'hi' }));
      // @ts-expect-error the IR is read-only on the request: edit it through rewrite()
      ctx.state.request.ir = ir;
      // Candidates a plugin may reorder or filter, and the chosen target.
      const candidates: Target[] = ctx.state.candidates;
      ctx.state.candidates = candidates.filter((t) => typeof t.meta?.price === 'number');
      const target: Target | undefined = ctx.state.target;
      // The logger and the abort signal.
      ctx.state.logger.debug({ provider: target?.provider }, 'routing');
      const signal: AbortSignal = ctx.state.signal;
      // A field added by declaration merging: typed, including its value.
      const tier = ctx.get(opts.header) === 'gold' ? 'gold' : 'free';
      ctx.state.typecheckProbe = { tier };
      // @ts-expect-error a value outside the declared type
      ctx.state.typecheckProbe = { tier: 'platinum' };
      // @ts-expect-error a typo in a context field fails to compile
      ctx.state.typecheckProb = { tier: 'gold' };
      // @ts-expect-error a typo in a built-in field fails too
      ctx.state.candidate = [];
      // @ts-expect-error the Koa context is closed as well (no `any` index signature)
      ctx.tenant = 'x';
      if (signal.aborted) throw new GatewayError('client_aborted', 'gone', { status: 499 });
      await store?.incr(`requests:${tier}`, 1, { ttlMs: 60_000 });
      await next();
      // The response or stream, observed or transformed.
      mapEvents(
        ctx,
        (ev: IRStreamEvent) => (ev.type === 'text_delta' ? { ...ev, text: ev.text.trim() } : ev),
        { flush: () => [{ type: 'text_delta', text: '' }] },
      );
      mapResponse(ctx, (res) => ({ ...res, content: res.content.filter((p) => p.type !== 'reasoning') }));
      // @ts-expect-error stream events are a closed union
      mapEvents(ctx, () => ({ type: 'text', text: 'x' }));
      ctx.state.onDone((o) => void ctx.state.logger.info({ status: o.status, tokens: o.usage?.outputTokens }, 'done'));
    },
  });
};

/** A middleware written on its own is typed by the exported Middleware type. */
export const standalone: Middleware = async (ctx: GatewayContext, next) => {
  const tier: 'gold' | 'free' | undefined = ctx.state.typecheckProbe?.tier;
  ctx.set('x-tier', tier ?? 'none');
  await next();
};

/** Providers and the test helper are typed too. */
export const providers: Record<string, Provider> = {
  echo: mock(),
  // @ts-expect-error input is 'stdin' | 'arg'
  cli: processProvider({ command: 'llm', input: 'file' }),
};

export async function typedTest(): Promise<void> {
  const gw = await createTestGateway({
    upstreams: { fake: async () => ({ url: 'http://127.0.0.1:1', close: async () => {}, hits: 0 }) },
    env: (up) => ({ FAKE_URL: up.fake.url }),
    config: ({ upstreams }) => ({ providers, models: { demo: 'echo/echo', [`via-${upstreams.fake.url}`]: { provider: 'echo', model: 'echo' } }, pipeline: [probe({ header: 'x-tier' })] }),
  });
  const hits: number = gw.upstreams.fake.hits;
  // @ts-expect-error only the upstreams that were started exist
  void gw.upstreams.other;
  await gw.close();
  void hits;
}
