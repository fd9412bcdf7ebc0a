/**
 * `gateway --workers 2` over the embedded store with its default journal file: each worker
 * journals to its own file (one SQLite file can be held by one process only), none falls back
 * to memory-only durable data, and a worker restarted after `kill -9` takes over its slot's file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './fixtures/upstream.ts';

const root = join(import.meta.dirname, '..');
const dir = join(import.meta.dirname, '.tmp', `workers-store-${process.pid}`);
const config = join(dir, 'gateway.config.ts');

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    config,
    `import { defineConfig, mock, usage } from 'switchyard';
export default defineConfig({
  server: { allowPerWorkerState: true },
  providers: { echo: mock() },
  models: { demo: 'echo/echo' },
  pipeline: [usage()],
});
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until<T>(what: string, check: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** One chat request on a fresh connection (so the cluster may hand it to any worker). */
const chat = (url: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }));
  });

describe('gateway --workers over the embedded store', () => {
  it('gives every worker its own journal file, kept across a worker restart', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'gateway.js'), '--config', config, '--port', '0', '--workers', '2'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    try {
      const url = await until('the listening line', () => /^listening on (http:\/\/\S+)$/m.exec(out)?.[1]);
      const pids = () => lines().filter((l) => l.msg === 'worker listening').map((l) => l.worker as number);
      // worker lines go through the logger's asynchronous writer: the listening line can come first
      const [first] = await until('both workers listening', () => (pids().length >= 2 ? pids() : undefined));
      for (let i = 0; i < 4; i++) expect(await chat(url)).toBe(200);
      const files = () => readdirSync(join(dir, '.data')).filter((f) => f.endsWith('.db')).sort();
      expect(files()).toEqual(['switchyard.worker-1.db', 'switchyard.worker-2.db']);

      process.kill(first!, 'SIGKILL');
      await until('a replacement worker', () => pids().length === 3);
      for (let i = 0; i < 4; i++) expect(await chat(url)).toBe(200);
      expect(files()).toEqual(['switchyard.worker-1.db', 'switchyard.worker-2.db']); // the replacement took its slot
      expect(out).not.toContain('in use by another gateway');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(join(dir, '.data', 'switchyard.db'))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
