import { describe, expect, it } from 'vitest';
import { compose } from './compose.ts';
import { GatewayError } from './errors.ts';
import type { GatewayContext, Middleware } from './plugin.ts';

const ctx = {} as GatewayContext;
const fail = (code: string) => new GatewayError(code, code, { status: 500 });

/** Resolves to the error `p` rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('compose', () => {
  it('runs the layers as an onion, in order', async () => {
    const seen: string[] = [];
    const layer =
      (name: string): Middleware =>
      async (_ctx, next) => {
        seen.push(`${name} in`);
        await next();
        seen.push(`${name} out`);
      };
    await compose([layer('a'), layer('b'), async () => void seen.push('core')])(ctx);
    expect(seen).toEqual(['a in', 'b in', 'core', 'b out', 'a out']);
  });

  it('lets a layer call next() again once the previous call finished (one attempt per call)', async () => {
    let calls = 0;
    const retry: Middleware = async (_ctx, next) => {
      await next();
      await next();
      await next();
    };
    await compose([retry, async () => void calls++])(ctx);
    expect(calls).toBe(3);
  });

  it('rejects a next() call made while the previous one is still running', async () => {
    const held: Array<() => void> = [];
    const slow: Middleware = () => new Promise<void>((r) => void held.push(r));
    let second: Promise<void> | undefined;
    const eager: Middleware = async (_ctx, next) => {
      const first = next();
      second = next(); // no await between the two calls
      for (const r of held) r(); // (without the guard the second call would run too, and settle)
      await first;
    };
    await compose([eager, slow])(ctx);
    expect(await rejection(second!)).toMatchObject({ message: expect.stringMatching(/next\(\) called again before the previous call finished/) });
  });

  it('adds no promise of its own for a layer that returns what next() returned', async () => {
    const inner = Promise.resolve();
    const pass: Middleware = (_ctx, next) => next();
    expect(compose([pass, pass, () => inner])(ctx)).toBe(inner);
    const own: Middleware = async (_ctx, next) => next();
    expect(compose([pass, own, () => inner], ['a', 'b'])(ctx)).not.toBe(inner);
  });

  it('adopts what a plain layer returns: nothing, or another library\'s thenable', async () => {
    const seen: string[] = [];
    const plain: Middleware = (_ctx, next) => {
      void next();
      return undefined as unknown as Promise<void>;
    };
    const thenable: Middleware = () => ({ then: (ok: () => void) => (seen.push('thenable'), ok()) }) as unknown as Promise<void>;
    await compose([plain, thenable])(ctx);
    expect(seen).toEqual(['thenable']);
  });

  it('names the plugin on a GatewayError thrown by its layer, synchronously or not', async () => {
    const sync: Middleware = () => {
      throw fail('sync');
    };
    const later: Middleware = async () => {
      await Promise.resolve();
      throw fail('later');
    };
    const pass: Middleware = (_ctx, next) => next();
    expect(await rejection(compose([pass, sync], ['outer', 'inner'])(ctx))).toMatchObject({ code: 'sync', plugin: 'inner' });
    expect(await rejection(compose([pass, later], ['outer', 'inner'])(ctx))).toMatchObject({ code: 'later', plugin: 'inner' });
    expect(await rejection(compose([sync], ['only'])(ctx))).toMatchObject({ code: 'sync', plugin: 'only' });
    expect(await rejection(compose([later], ['only'])(ctx))).toMatchObject({ code: 'later', plugin: 'only' });
  });

  it('names the first named layer an error from an unnamed one passed through, and never renames', async () => {
    const core: Middleware = async () => {
      throw fail('core');
    };
    const pass: Middleware = (_ctx, next) => next();
    // dispatch is unnamed: its error passed through "inner" first
    expect(await rejection(compose([pass, pass, core], ['outer', 'inner'])(ctx))).toMatchObject({ code: 'core', plugin: 'inner' });
    const named: Middleware = async () => {
      throw Object.assign(fail('named'), { plugin: 'elsewhere' });
    };
    expect(await rejection(compose([pass, named], ['outer', 'inner'])(ctx))).toMatchObject({ code: 'named', plugin: 'elsewhere' });
  });

  it('leaves other errors as they are', async () => {
    const boom = new Error('boom');
    const thrower: Middleware = async () => {
      throw boom;
    };
    const err = await rejection(compose([thrower], ['only'])(ctx));
    expect(err).toBe(boom);
    expect(err).not.toHaveProperty('plugin');
  });
});
