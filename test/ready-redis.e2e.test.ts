/**
 * `/ready` over a real Redis store: 200 while Redis answers, 503 "store unreachable" once it is
 * killed (the gateway keeps serving `/health`), 200 again after Redis comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, mock, type TestGateway } from 'switchyard';
import { redisBinary, startRedis, type RedisServer } from './fixtures/redis.ts';
import { sleep } from './fixtures/upstream.ts';

const bin = redisBinary();
let redis: RedisServer;
let gw: TestGateway;

/** Polls `/ready` until it answers `status` (bounded). */
async function readyBecomes(status: number, ms = 15_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const res = await fetch(`${gw.url}/ready`);
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status === status) return body;
    if (Date.now() > end) throw new Error(`/ready stayed ${res.status}: ${JSON.stringify(body)}`);
    await sleep(50);
  }
}

describe.runIf(bin)('/ready with the Redis store', () => {
  beforeAll(async () => {
    redis = await startRedis(bin!);
    gw = await createTestGateway({ config: { providers: { echo: mock() }, store: { type: 'redis', url: redis.url } } });
  });
  afterAll(async () => {
    await gw?.close();
    await redis?.stop();
  });

  it('follows the store: 200, 503 with a reason while Redis is down, 200 again', async () => {
    expect(await readyBecomes(200)).toMatchObject({ status: 'ready' });
    await redis.kill();
    expect(await readyBecomes(503)).toEqual({ status: 'unavailable', reason: 'store unreachable', version: 1 });
    expect((await fetch(`${gw.url}/health`)).status).toBe(200); // liveness does not depend on the store
    await redis.restart();
    expect(await readyBecomes(200)).toMatchObject({ status: 'ready' });
  });
});
