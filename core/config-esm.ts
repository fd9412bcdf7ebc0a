/**
 * Loader hooks for config loads.
 *
 * Config files are ES modules whatever the project's `package.json` says. `npm init -y` writes
 * `"type": "commonjs"` (and a package without `type` leaves the format open), which makes Node or
 * tsx hand `gateway.config.ts` and the files it imports to the CommonJS loader:
 * tsx's namespaced import then fails ("Cannot find module …?namespace=…"), and a CommonJS copy
 * of the package would load beside the ESM one. One loader hook, registered once per process,
 * marks the `.ts`/`.tsx` files a config load imports (never `.cts`, never `node_modules`) as
 * ESM.
 *
 * A config load shares the running gateway's own modules (see {@link shareModules}): only the
 * user's files are evaluated afresh on a reload.
 *
 * @module
 */
import * as nodeModule from 'node:module';

const { register } = nodeModule;

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

const TS_FILE = /\.[cm]?tsx?$/;

/** What `shareModules` returns: call `release` once the config load is over. */
export interface SharedModules {
  release(): void;
}

/**
 * While a config loads in its own tsx namespace (so edited local files are re-evaluated), keeps
 * the modules under `shared` (URL prefixes: this package's `core/` and `plugins/`) and every
 * module in `node_modules` out of that namespace: a config's `import … from 'switchyard'` then
 * gets the running gateway's modules instead of a second copy of the whole gateway — one more
 * copy on every reload, never freed (measured: ~4.5 MB of heap per reload). tsx applies its
 * namespace in an in-thread resolve hook, so this one is in-thread too and must be registered
 * after the namespaced tsx registration (the last registered runs first). Needs
 * `module.registerHooks` (Node >= 22.15); on older Node it does nothing.
 *
 * @example
 * ```ts
 * const api = register({ namespace: 'switchyard-config-2' });
 * const shared = shareModules([new URL('../core/', import.meta.url).href]);
 * try { await api.import(url, import.meta.url); } finally { shared.release(); await api.unregister(); }
 * ```
 */
export function shareModules(shared: readonly string[]): SharedModules {
  const registerHooks = (nodeModule as { registerHooks?: typeof nodeModule.registerHooks }).registerHooks;
  if (!registerHooks) return { release() {} };
  const hooks = registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      const url = r.url;
      if (!url.startsWith('file:') || !url.includes('tsx-namespace=')) return r;
      if (!url.includes('/node_modules/') && !shared.some((s) => url.startsWith(s))) return r;
      const u = new URL(url);
      u.searchParams.delete('tsx-namespace');
      // The format tsx chose for its namespace ("module" for a .ts it transforms itself) is not
      // the plain URL's: let the loader that serves the plain URL decide (the process's tsx, or
      // Node's own type stripping).
      return { url: u.href, importAttributes: r.importAttributes, format: TS_FILE.test(u.pathname) ? undefined : r.format };
    },
  });
  return { release: () => hooks.deregister() };
}
