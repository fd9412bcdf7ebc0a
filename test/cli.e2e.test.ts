/**
 * The `gateway` command as an operator runs it: a real child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'gateway.js');
const dir = join(import.meta.dirname, '.tmp', `cli-${process.pid}`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd = root): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `gateway` and resolves with its URL once it prints the listening line. */
function serve(args: string[], cwd = root): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, LOG_LEVEL: 'warn' } });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${out}`)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out });
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('close', () => reject(new Error(`gateway exited: ${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.once('close', (code) => r(code)));

beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gateway CLI', () => {
  it('rejects an invalid config at start: non-zero, file and field named, no stack trace', async () => {
    const file = join(dir, 'bad.config.ts');
    writeFileSync(file, `import { defineConfig, mock } from 'switchyard';\nexport default defineConfig({ providers: { echo: mock() }, models: { demo: { provider: 'missing', model: 'x' } } });\n`);
    const r = await run(['--config', file, '--port', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('models.demo.provider');
    expect(r.stderr).toContain('unknown provider "missing"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the file on a syntax error and on a missing file', async () => {
    const file = join(dir, 'syntax.config.ts');
    writeFileSync(file, 'export default {{{');
    const r = await run(['--config', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(file);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const missing = await run(['--config', join(dir, 'nope.ts')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('nope.ts');
  });

  it('check prints the routing table and the pipeline order', async () => {
    const r = await run(['check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('demo → echo/echo');
    expect(r.stdout).toMatch(/pipeline: .*models.* → dispatch/);
    const bad = await run(['check', '--config', join(dir, 'bad.config.ts')]);
    expect(bad.code).not.toBe(0);
  });

  it('serves the default config, prints the listening line, and drains an open stream on SIGTERM', async () => {
    const { child, url } = await serve(['--port', '0']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const code = exited(child);
    child.kill('SIGTERM');
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).toContain('[DONE]');
    expect(await code).toBe(0);
  });

  it('--host/--port flags win over the config', async () => {
    const { child, url } = await serve(['--host', '127.0.0.1', '--port', '0']);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const code = exited(child);
    child.kill('SIGINT');
    expect(await code).toBe(0);
  });

  it('init scaffolds a config that runs at once, and refuses to overwrite without --force', async () => {
    const project = join(dir, 'project');
    mkdirSync(project, { recursive: true });
    const first = await run(['init'], project);
    expect(first.code).toBe(0);
    expect(existsSync(join(project, 'gateway.config.ts'))).toBe(true);
    const again = await run(['init'], project);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('--force');
    expect((await run(['init', '--force'], project)).code).toBe(0);
    const { child, url } = await serve(['--port', '0'], project);
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'scaffolded' }] }),
    });
    expect(res.headers.get('x-served-by')).toBe('echo');
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('scaffolded');
    const code = exited(child);
    child.kill('SIGTERM');
    expect(await code).toBe(0);
  });
});
