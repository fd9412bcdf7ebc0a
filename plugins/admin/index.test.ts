/**
 * `GET /ready`: 200 when the store answers, 503 with a reason when it does not (or hangs), and
 * 503 as soon as shutdown begins. The shutdown path runs end to end in test/ops.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { GatewayContext, GatewayRuntime, GatewayStatus } from '../../core/plugin.ts';
import type { StoreStatus } from '../../core/store.ts';
import { admin } from './index.ts';

async function ready(ping: () => Promise<boolean>, status: Partial<GatewayStatus> = {}, store: Partial<StoreStatus> = {}) {
  const plugin = admin();
  const runtime = {
    sharedStore: { ping, status: (): StoreStatus => ({ type: 'redis', reachable: true, failurePolicy: 'fail-closed', ...store }) },
    status: () => ({ closing: false, version: 3, inflight: 0, streams: 0, ...status }),
  } as unknown as GatewayRuntime;
  await plugin.setup!(runtime);
  const route = plugin.routes!.find((r) => r.path === '/ready')!;
  const headers: Record<string, string> = {};
  const ctx = { status: 404, body: undefined as unknown, set: (k: string, v: string) => void (headers[k] = v) };
  await route.handler!(ctx as unknown as GatewayContext & { params: Record<string, string> });
  return { status: ctx.status, body: ctx.body, headers };
}

describe('GET /ready', () => {
  it('is 200 when the store answers', async () => {
    expect(await ready(async () => true)).toMatchObject({ status: 200, body: { status: 'ready', version: 3 }, headers: { 'cache-control': 'no-store' } });
  });

  it('is 503 with a reason when the store is unreachable, fails or hangs', async () => {
    const down = { status: 503, body: { status: 'unavailable', reason: 'store unreachable' } };
    expect(await ready(async () => false)).toMatchObject(down);
    expect(await ready(() => Promise.reject(new Error('ECONNREFUSED')))).toMatchObject(down);
    expect(await ready(() => new Promise<boolean>(() => {}))).toMatchObject(down); // bounded by its 1 s timeout
  });

  it('stays 200 under a fail-open store policy, saying the store is unreachable', async () => {
    expect(await ready(async () => false, {}, { reachable: false, failurePolicy: 'fail-open' })).toMatchObject({
      status: 200,
      body: { status: 'ready', store: 'unreachable', failurePolicy: 'fail-open' },
    });
  });

  it('is 503 once shutdown began, without asking the store', async () => {
    let asked = false;
    const r = await ready(async () => (asked = true), { closing: true });
    expect(r).toMatchObject({ status: 503, body: { status: 'unavailable', reason: 'shutting down' } });
    expect(asked).toBe(false);
  });
});
