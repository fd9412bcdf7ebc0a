/**
 * Every TypeScript snippet in docs/plugins.md compiles, against the package root as a user
 * imports it. A snippet whose first line is a `// path.ts` comment is written to that path (so
 * the config snippet can import the plugin snippet); the others get a file of their own.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const dir = join(root, 'test', '.tmp', `docs-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function snippets(markdown: string): Array<{ path: string; code: string }> {
  const blocks = [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.map((code, i) => {
    const named = /^\/\/ ([\w./-]+\.ts)\n/.exec(code);
    return { path: named ? named[1]! : `snippet-${i + 1}.ts`, code };
  });
}

it('every snippet in docs/plugins.md compiles', async () => {
  const all = snippets(readFileSync(join(root, 'docs', 'plugins.md'), 'utf8'));
  expect(all.length).toBeGreaterThanOrEqual(12); // the extraction itself works
  for (const s of all) {
    mkdirSync(join(dir, dirname(s.path)), { recursive: true });
    writeFileSync(join(dir, s.path), s.code);
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.json', include: ['**/*.ts'] }));
  const out = await new Promise<string>((resolve) => {
    execFile(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', join(dir, 'tsconfig.json')], (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
  // Only diagnostics in the snippets count: the rest of the tree has its own typecheck.
  expect(out.split('\n').filter((l) => l.includes(`docs-${process.pid}/`))).toEqual([]);
}, 60_000);
