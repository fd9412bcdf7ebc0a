/**
 * Routing state outlives a config reload: a sticky binding and an open circuit, made on one
 * pipeline version, still hold on the next (they live in the gateway store, not in plugin
 * instances). Config file in test/.tmp/, reloaded with `gateway.reload()`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';
import { openaiUpstream, type MockUpstream } from './fixtures/upstream.ts';

const dir = join(import.meta.dirname, '.tmp', `routing-reload-${process.pid}`);
const file = join(dir, 'gateway.config.ts');
let up: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

const config = (extra: string) => `
import { defineConfig, failover, openai, sticky } from 'switchyard';
const at = () => openai({ baseURL: ${JSON.stringify(`${up.url}/v1`)}, apiKey: 'sk-up' });
export default defineConfig({
  providers: { a: at(), b: at(), c: at() },
  models: {
    sess: [{ provider: 'a', model: 'r-a' }, { provider: 'b', model: 'r-b' }, { provider: 'c', model: 'r-c' }],
    breaker: [{ provider: 'a', model: 'rcb-a' }, { provider: 'b', model: 'rcb-b', priority: 1 }],
    ${extra}
  },
  pipeline: [sticky(), failover({ retries: 0, circuit: { failureThreshold: 2, cooldownMs: 60_000 } })],
});
`;

beforeAll(async () => {
  up = await openaiUpstream();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, config(''));
  gw = await createTestGateway({ config: file });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ask = (model: string, session?: string) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }, session ? { headers: { 'x-session-id': session } } : {});
const served = () => String(up.received.at(-1)!.body.model);
const calls = (model: string) => up.received.filter((r) => r.body.model === model).length;

describe('state across a config reload', () => {
  it('keeps sticky bindings and open circuits', async () => {
    await ask('sess', 'reload-session');
    const bound = served();
    up.modes.set('rcb-a', 'fail-500');
    await ask('breaker');
    await ask('breaker');
    expect(calls('rcb-a')).toBe(2);
    up.modes.delete('rcb-a'); // healthy again, but its circuit stays open for the cool-down

    const version = gw.gateway.current().id;
    writeFileSync(file, config(`added: { provider: 'c', model: 'r-added' },`));
    const result = await gw.gateway.reload('test');
    expect(result).toMatchObject({ ok: true });
    expect(gw.gateway.current().id).toBeGreaterThan(version);
    await ask('added'); // the new version is serving
    expect(served()).toBe('r-added');

    for (let i = 0; i < 5; i++) {
      await ask('sess', 'reload-session');
      expect(served()).toBe(bound);
    }
    await ask('breaker');
    expect(served()).toBe('rcb-b');
    expect(calls('rcb-a')).toBe(2);
    const models = (await (await fetch(`${gw.url}/admin/models`)).json()) as { models: Array<{ name: string; targets: Array<{ model: string; health: { circuit: string } }> }> };
    const breaker = models.models.find((m) => m.name === 'breaker')!;
    expect(breaker.targets.find((t) => t.model === 'rcb-a')!.health.circuit).toBe('open');
    const session = (await (await fetch(`${gw.url}/admin/sessions/reload-session`)).json()) as { bindings: Array<{ targetModel: string }> };
    expect(session.bindings.map((b) => b.targetModel)).toEqual([bound]);
  });
});
