/**
 * `/ready` and `/health` over a real Redis store, for both failure policies. While Redis is
 * killed: `fail-closed` turns `/ready` to 503 "store unreachable" (its requests would get 503
 * anyway); `fail-open` keeps serving, so `/ready` stays 200 and says the store is unreachable —
 * a balancer must not drop every instance sharing that Redis at once. `/health` stays 200 and
 * names the unreachable store. Both are 200 and plain again once Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, mock, type FailurePolicy, type TestGateway } from 'switchyard';
import { redisBinary, startRedis, type RedisServer } from './fixtures/redis.ts';
import { sleep } from './fixtures/upstream.ts';

const bin = redisBinary();
let redis: RedisServer;
let closed: TestGateway;
let open: TestGateway;

/** Polls `path` until it answers `status` and `ok(body)` holds (bounded). */
async function becomes(gw: TestGateway, path: string, status: number, ok: (b: Record<string, unknown>) => boolean = () => true, ms = 15_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const res = await fetch(`${gw.url}${path}`);
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status === status && ok(body)) return body;
    if (Date.now() > end) throw new Error(`${path} stayed ${res.status}: ${JSON.stringify(body)}`);
    await sleep(50);
  }
}

describe.runIf(bin)('/ready and /health with the Redis store', () => {
  beforeAll(async () => {
    redis = await startRedis(bin!);
    const start = (failurePolicy: FailurePolicy) =>
      createTestGateway({ config: { providers: { echo: mock() }, models: { demo: 'echo/echo' }, store: { type: 'redis', url: redis.url, failurePolicy, commandTimeoutMs: 300 } } });
    [closed, open] = await Promise.all([start('fail-closed'), start('fail-open')]);
  });
  afterAll(async () => {
    await closed?.close();
    await open?.close();
    await redis?.stop();
  });

  it('follows the store and the policy: 200, then 503 (fail-closed) or 200 degraded (fail-open), then 200 again', async () => {
    expect(await becomes(closed, '/ready', 200)).toEqual({ status: 'ready', version: 1 });
    expect(await becomes(open, '/ready', 200)).toEqual({ status: 'ready', version: 1 });
    expect(await becomes(open, '/health', 200)).toEqual({ status: 'ok' });
    await redis.kill();
    expect(await becomes(closed, '/ready', 503)).toEqual({ status: 'unavailable', reason: 'store unreachable', version: 1 });
    expect(await becomes(open, '/ready', 200, (b) => b.store === 'unreachable')).toEqual({ status: 'ready', version: 1, store: 'unreachable', failurePolicy: 'fail-open' });
    // liveness does not depend on the store, but says what is wrong
    expect(await becomes(closed, '/health', 200, (b) => b.store !== undefined)).toEqual({ status: 'ok', store: { type: 'redis', reachable: false, failurePolicy: 'fail-closed' } });
    expect(await becomes(open, '/health', 200, (b) => b.store !== undefined)).toEqual({ status: 'ok', store: { type: 'redis', reachable: false, failurePolicy: 'fail-open' } });
    // fail-open keeps answering inference requests meanwhile
    const chat = await fetch(`${open.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(chat.status).toBe(200);
    await redis.restart();
    expect(await becomes(closed, '/ready', 200)).toEqual({ status: 'ready', version: 1 });
    expect(await becomes(open, '/ready', 200, (b) => b.store === undefined)).toEqual({ status: 'ready', version: 1 });
    expect(await becomes(open, '/health', 200, (b) => b.store === undefined)).toEqual({ status: 'ok' });
  });
});
