/**
 * Hot reload end to end: a config file and a plugin file it imports, edited while the gateway
 * serves; a broken edit keeps the old version; an open stream finishes on the version it started
 * on, whose plugins close only once it has drained.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';
import { sleep } from './fixtures/upstream.ts';

const dir = join(import.meta.dirname, '.tmp', `reload-${process.pid}`);
const configFile = join(dir, 'gateway.config.ts');
const pluginFile = join(dir, 'stamp.ts');
const closedFile = join(dir, 'closed.log');

const config = (model: string) => `
import { defineConfig, mock } from 'switchyard';
import { stamp } from './stamp.ts';
export default defineConfig({
  providers: { echo: mock({ chunkDelayMs: 60 }) },
  models: { ${JSON.stringify(model)}: { provider: 'echo', model: 'echo' } },
  pipeline: [stamp()],
});
`;
const plugin = (tag: string) => `
import { appendFileSync } from 'node:fs';
import { definePlugin } from 'switchyard';
export const stamp = () => definePlugin({
  name: 'stamp',
  async middleware(ctx, next) { ctx.set('x-stamp', ${JSON.stringify(tag)}); await next(); },
  close() { appendFileSync(${JSON.stringify(closedFile)}, ${JSON.stringify(tag)} + '\\n'); },
});
`;

let gw: TestGateway;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(configFile, config('first'));
  writeFileSync(pluginFile, plugin('v1'));
  gw = await createTestGateway({ config: configFile, watch: true });
});

afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const chat = (model: string, stream = false) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'one two three four five six' }] }),
  });

async function until(check: () => Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('hot reload', () => {
  it('picks up an edited config without a restart', async () => {
    expect((await chat('first')).status).toBe(200);
    writeFileSync(configFile, config('second'));
    await until(async () => (await chat('second')).status === 200);
    expect((await chat('first')).status).toBe(404);
  });

  it('picks up an edited imported plugin file', async () => {
    expect((await chat('second')).headers.get('x-stamp')).toBe('v1');
    writeFileSync(pluginFile, plugin('v2'));
    await until(async () => (await chat('second')).headers.get('x-stamp') === 'v2');
  });

  it('keeps serving the previous version when the new config is broken', async () => {
    const version = gw.gateway.current().id;
    writeFileSync(configFile, 'export default {{ broken');
    const result = await gw.gateway.reload('test');
    expect(result.ok).toBe(false);
    expect(result.error).toContain(configFile);
    await sleep(300); // the watcher's own reload attempt fails too
    expect(gw.gateway.current().id).toBe(version);
    expect((await chat('second')).status).toBe(200);
    writeFileSync(configFile, `import { defineConfig, mock } from 'switchyard';\nexport default defineConfig({ providers: { echo: mock() }, models: { x: { provider: 'nope', model: 'm' } } });`);
    const invalid = await gw.gateway.reload('test');
    expect(invalid.ok).toBe(false);
    expect(invalid.error).toContain('models.x.provider');
    expect((await chat('second')).status).toBe(200);
    writeFileSync(configFile, config('second'));
    await until(async () => (await gw.gateway.reload('restore')).ok);
  });

  it('lets an open stream finish on its version and closes that version only after it drains', async () => {
    writeFileSync(pluginFile, plugin('v3'));
    await until(async () => (await chat('second')).headers.get('x-stamp') === 'v3');
    const res = await chat('second', true);
    expect(res.headers.get('x-stamp')).toBe('v3');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    writeFileSync(pluginFile, plugin('v4'));
    const reloaded = await fetch(`${gw.url}/admin/reload`, { method: 'POST' });
    expect(reloaded.status).toBe(200);
    await until(async () => (await chat('second')).headers.get('x-stamp') === 'v4');
    const closedBefore = existsSync(closedFile) ? readFileSync(closedFile, 'utf8') : '';
    expect(closedBefore).not.toContain('v3'); // still streaming on v3
    let text = new TextDecoder().decode(first.value);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).toContain('data: [DONE]');
    expect(text.replace(/data: |\n/g, '')).toContain('six');
    await until(async () => existsSync(closedFile) && readFileSync(closedFile, 'utf8').includes('v3'));
  });
});

describe('reload and module identity', () => {
  const shareDir = join(import.meta.dirname, '.tmp', `reload-share-${process.pid}`);
  const seen = Symbol.for('switchyard.test.reload-share');
  type Seen = { package: Set<unknown>; local: Set<unknown> };
  let share: TestGateway;

  beforeAll(async () => {
    mkdirSync(shareDir, { recursive: true });
    writeFileSync(join(shareDir, 'local.ts'), `export const marker = {};\n`);
    // Records the module objects each load gets: 'switchyard' itself and a local file.
    writeFileSync(
      join(shareDir, 'gateway.config.ts'),
      `import * as switchyard from 'switchyard';
import * as local from './local.ts';
const store = globalThis as unknown as Record<symbol, { package: Set<unknown>; local: Set<unknown> } | undefined>;
const seen = (store[Symbol.for('switchyard.test.reload-share')] ??= { package: new Set(), local: new Set() });
seen.package.add(switchyard);
seen.local.add(local);
export default switchyard.defineConfig({ providers: { echo: switchyard.mock() }, models: { m: { provider: 'echo', model: 'echo' } } });
`,
    );
    share = await createTestGateway({ config: join(shareDir, 'gateway.config.ts') });
  });

  afterAll(async () => {
    await share?.close();
    rmSync(shareDir, { recursive: true, force: true });
    delete (globalThis as Record<symbol, unknown>)[seen];
  });

  it("re-evaluates the config's local files on every load but shares the gateway's own modules", async () => {
    for (let i = 0; i < 3; i++) expect((await share.gateway.reload('test')).ok).toBe(true);
    const s = (globalThis as Record<symbol, Seen>)[seen]!;
    expect(s.local.size).toBe(4); // the first load and three reloads: fresh each time
    expect(s.package.size).toBe(1); // one 'switchyard', not one more copy of the gateway per reload
    const res = await fetch(`${share.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'still here' }] }),
    });
    expect(res.status).toBe(200);
  });
});
