/**
 * Compiles test/types/authoring.ts with the project's compiler settings: the plugin authoring
 * surface type-checks through the package root, declaration merging reaches `ctx.state`, and
 * every deliberate mistake there (marked `@ts-expect-error`) really fails to compile.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const tsc = join(import.meta.dirname, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');

it('the authoring surface type-checks, and typos in context fields do not', async () => {
  const out = await new Promise<string>((resolve) => {
    execFile(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', join(import.meta.dirname, 'tsconfig.json')], (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
  });
  // Only diagnostics in this folder count: the rest of the tree has its own typecheck.
  const ours = out.split('\n').filter((l) => l.startsWith('test/types/') || l.includes('/test/types/'));
  expect(ours).toEqual([]);
}, 60_000);
