/**
 * bin/own-sources.js: the package's own TypeScript (core/, plugins/) is type-stripped by an
 * in-thread load hook, also inside node_modules (where Node's loader refuses to strip), with
 * every line and column kept, no `__name` helper calls and no ExperimentalWarning on stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const tmp = join(root, 'test', '.tmp', `own-sources-${process.pid}`);
const pkg = join(tmp, 'node_modules', 'pkg');

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: tmp, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('loads core/ and plugins/ TypeScript from inside node_modules, positions kept, no warning', () => {
  mkdirSync(join(pkg, 'core'), { recursive: true });
  mkdirSync(join(pkg, 'plugins', 'p'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'pkg', type: 'module' }));
  writeFileSync(
    join(pkg, 'core', 'mod.ts'),
    [
      'export interface Shape { n: number }',
      'export function make(n: number): () => Shape {',
      '  const inner = (): Shape => ({ n });',
      '  return inner;',
      '}',
      "export function where(): string { return new Error('here').stack!.split('\\n')[1]!; }",
      '',
    ].join('\n'),
  );
  writeFileSync(join(pkg, 'plugins', 'p', 'index.ts'), "import { make } from '../../core/mod.ts';\nexport const value: number = make(7)().n;\n");
  const hook = pathToFileURL(join(root, 'bin', 'own-sources.js')).href;
  const base = pathToFileURL(`${pkg}/`).href;
  const r = run(`
    import { loadOwnSources } from ${JSON.stringify(hook)};
    if (!loadOwnSources(${JSON.stringify(base)})) throw new Error('hook not registered');
    const core = await import(${JSON.stringify(`${base}core/mod.ts`)});
    const plugin = await import(${JSON.stringify(`${base}plugins/p/index.ts`)});
    console.log(JSON.stringify({ value: plugin.value, src: core.make.toString(), where: core.where() }));
  `);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout) as { value: number; src: string; where: string };
  expect(out.value).toBe(7);
  expect(out.src).not.toContain('__name');
  expect(out.src).toContain('const inner = ()        => ({ n });'); // types blanked in place
  expect(out.where).toMatch(/core\/mod\.ts:6:42\)?$/); // the source's own line and column
});

it('leaves other TypeScript in node_modules to the loader that owns it', () => {
  mkdirSync(join(pkg, 'other'), { recursive: true });
  writeFileSync(join(pkg, 'other', 'x.ts'), 'export const x: number = 1;\n');
  const hook = pathToFileURL(join(root, 'bin', 'own-sources.js')).href;
  const r = run(`
    import { loadOwnSources } from ${JSON.stringify(hook)};
    loadOwnSources(${JSON.stringify(pathToFileURL(`${pkg}/`).href)});
    try { await import(${JSON.stringify(pathToFileURL(join(pkg, 'other', 'x.ts')).href)}); console.log('loaded'); }
    catch (err) { console.log(err.code); }
  `);
  expect(r.stdout.trim()).toBe('ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING');
});
