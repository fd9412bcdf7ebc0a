/**
 * `gateway init` as a user runs it after `npm install switchyard` in a fresh `npm init -y`
 * project: the package's published files (package.json `files`) copied into the project's
 * `node_modules/switchyard` — where Node refuses to strip types, so the bin must go through tsx —
 * and a project `package.json` with `"type": "commonjs"`, as npm writes it. The scaffold must
 * then serve at once. (Dependencies resolve up the tree to the repo's own node_modules; the real
 * `npm pack` + `npm install` check is manual, see docs/plugins.md § Starting a project.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, matchesGlob, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const project = join(root, 'test', '.tmp', `init-${process.pid}`);
const installed = join(project, 'node_modules', 'switchyard');
const bin = join(installed, 'bin', 'gateway.js');

/** Copies what `npm pack` would publish: the `files` entries, minus their `!` exclusions. */
function install(): void {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
  const excluded = pkg.files.filter((f) => f.startsWith('!')).map((f) => f.slice(1));
  for (const entry of ['package.json', ...pkg.files.filter((f) => !f.startsWith('!'))]) {
    cpSync(join(root, entry), join(installed, entry), {
      recursive: true,
      filter: (src) => !excluded.some((glob) => matchesGlob(relative(root, src), glob)),
    });
  }
}

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: project, env: { ...process.env, LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

function serve(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--port', '0'], { cwd: project, env: { ...process.env, LOG_LEVEL: 'warn' } });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /^listening on (http:\/\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`gateway exited: ${out}`));
    });
  });
}

beforeAll(() => {
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-gateway', version: '1.0.0', type: 'commonjs' }));
  install();
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

it('installs without tests or fixtures, and the scaffold of a CommonJS project serves at once', async () => {
  expect(existsSync(join(installed, 'core', 'index.ts'))).toBe(true);
  expect(existsSync(join(installed, 'docs', 'plugins.md'))).toBe(true);
  expect(existsSync(join(installed, 'core', 'init.test.ts'))).toBe(false);
  expect(existsSync(join(installed, 'plugins', 'openai', 'fixtures'))).toBe(false);

  const init = await run(['init']);
  expect(init).toMatchObject({ code: 0 });
  expect(init.out).toContain('run: npx gateway');
  for (const f of ['gateway.config.ts', 'plugins/tag-requests.ts', 'tsconfig.json']) expect(existsSync(join(project, f))).toBe(true);

  const { child, url } = await serve();
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'installed' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('echo'); // the scaffolded plugin ran
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('installed');
    // A reload of the installed package's config: the config shares the running gateway's
    // modules (from node_modules/switchyard) and the scaffolded plugin still runs.
    const reloaded = await fetch(`${url}/admin/reload`, { method: 'POST' });
    expect(reloaded.status).toBe(200);
    expect(((await reloaded.json()) as { ok: boolean; version: number })).toMatchObject({ ok: true, version: 2 });
    const again = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'reloaded' }] }),
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-served-by')).toBe('echo');
  } finally {
    const code = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    expect(await code).toBe(0);
  }
  // An existing tsconfig.json is the user's: --force rewrites the scaffold, never that.
  writeFileSync(join(project, 'tsconfig.json'), '{}');
  expect((await run(['init', '--force'])).code).toBe(0);
  expect(readFileSync(join(project, 'tsconfig.json'), 'utf8')).toBe('{}');
}, 30_000);
