/**
 * Config files are ES modules whatever the project's `package.json` says. `npm init -y` writes
 * `"type": "commonjs"` (and a package without `type` leaves the format open), which makes Node or
 * tsx hand `gateway.config.ts` and the files it imports to the CommonJS loader:
 * tsx's namespaced import then fails ("Cannot find module …?namespace=…"), and a CommonJS copy
 * of the package would load beside the ESM one. One loader hook, registered once per process,
 * marks the `.ts`/`.tsx` files a config load imports (never `.cts`, never `node_modules`) as
 * ESM.
 *
 * @module
 */
import { register } from 'node:module';

/**
 * Runs in Node's loader thread. Only the config file itself (imported by the loader module) and
 * the files imported from a config-load namespace change.
 */
const HOOK = `
const TS = /\\.tsx?(?:$|[?#])/;
const NS = 'namespace=switchyard-config-';
let loader = '';
export function initialize(data) { loader = data.loader; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const parent = context.parentURL ?? '';
  const fromConfig = parent === loader || specifier.includes(NS) || parent.includes(NS);
  if (fromConfig && r.url.startsWith('file:') && !r.url.includes('/node_modules/') && TS.test(r.url)
      && r.format !== 'module-typescript' && r.format !== 'module') {
    return { ...r, format: 'module-typescript' };
  }
  return r;
}
`;

/**
 * Registers the hook for configs imported by the module at `loader` (the URL passed as parent
 * to the namespaced import). Idempotent per loader: the flag lives on `globalThis` because hooks
 * are per process. Call before the namespaced tsx registration, so the hook sits below it.
 *
 * @example
 * ```ts
 * configFilesAreEsm(import.meta.url);
 * const api = register({ namespace: 'switchyard-config-1' });
 * await api.import(pathToFileURL(path).href, import.meta.url);
 * ```
 */
export function configFilesAreEsm(loader: string): void {
  const g = globalThis as Record<symbol, boolean | undefined>;
  const key = Symbol.for(`switchyard.config-esm-hook:${loader}`);
  if (g[key]) return;
  g[key] = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { loader } });
}
