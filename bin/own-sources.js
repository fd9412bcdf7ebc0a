// Loads this package's own TypeScript (core/ and plugins/) with Node's type stripping, from an
// in-thread load hook: works where Node's loader refuses to strip (inside node_modules), keeps
// every line and column (so stack traces need no source map) and, unlike tsx's esbuild
// transform with `keepNames`, adds no `__name(fn, "…")` call to every closure the request path
// creates. Configs and the files they import still go through tsx (they may use any TypeScript
// syntax; ours is erasable only: tsconfig's `erasableSyntaxOnly`).
import * as nodeModule from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Registers the hook for the package at `root` (a file URL ending in `/`). Returns false, and
 * changes nothing, on a Node without `module.registerHooks` or `module.stripTypeScriptTypes`
 * (before 22.15): tsx then loads everything, as it would anyway.
 *
 * @example
 * loadOwnSources(new URL('../', import.meta.url).href);
 */
export function loadOwnSources(root) {
  const { registerHooks, stripTypeScriptTypes } = nodeModule;
  if (!registerHooks || !stripTypeScriptTypes) return false;
  const dirs = [`${root}core/`, `${root}plugins/`];
  const ours = (url) => url.endsWith('.ts') && dirs.some((d) => url.startsWith(d)) && !url.includes('/node_modules/', root.length);
  // The API is flagged experimental (the loader's own stripping is not, and is the same code):
  // its once-per-process warning would read like a fault in every gateway's first log lines.
  const warn = process.emitWarning;
  process.emitWarning = () => {};
  try {
    stripTypeScriptTypes('');
  } finally {
    process.emitWarning = warn;
  }
  registerHooks({
    load(url, context, next) {
      if (!ours(url)) return next(url, context);
      const source = stripTypeScriptTypes(readFileSync(fileURLToPath(url), 'utf8'), { mode: 'strip' });
      return { format: 'module', source, shortCircuit: true };
    },
  });
  return true;
}
