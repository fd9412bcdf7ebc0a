/**
 * `gateway init`: scaffolds a runnable `gateway.config.ts` and a sample plugin in a directory,
 * refusing to overwrite existing files without `--force`, plus a `tsconfig.json` when there is
 * none (so an editor or `tsc` type-checks the plugin; an existing one is never touched).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const CONFIG = `import { defineConfig, failover, mock, openai } from 'switchyard';
import { tagRequests } from './plugins/tag-requests.ts';

// Runs with no API keys: "demo" is served by the built-in mock provider.
// Add real providers and point logical models at them; the gateway reloads on save.
export default defineConfig(({ env }) => ({
  server: { host: '127.0.0.1', port: 8787 },
  providers: {
    echo: mock(),
    ...(env.OPENAI_API_KEY ? { oa: openai({ apiKey: env.OPENAI_API_KEY }) } : {}),
  },
  models: {
    demo: { provider: 'echo', model: 'echo' },
    ...(env.OPENAI_API_KEY ? { fast: { provider: 'oa', model: 'gpt-4o-mini' } } : {}),
  },
  // Order is meaning: tagRequests is outermost and sees the final target on the way out;
  // failover tries the candidates in order. Writing plugins: docs/plugins.md in the switchyard package.
  pipeline: [tagRequests({ header: 'x-served-by' }), failover()],
}));
`;

const PLUGIN = `import { definePlugin } from 'switchyard';

/** Options for {@link tagRequests}. */
export interface TagRequestsOptions {
  /** Response header naming the provider that served the request. */
  header: string;
}

/**
 * A sample plugin: after the request is served, tells the client which provider answered.
 * Edit it while the gateway runs; the change is picked up without a restart.
 */
export const tagRequests = (opts: TagRequestsOptions) =>
  definePlugin({
    name: 'tag-requests',
    async middleware(ctx, next) {
      await next();
      if (ctx.state.target) ctx.set(opts.header, ctx.state.target.provider);
    },
  });
`;

// What the scaffold needs to type-check: `.ts` import paths, and Node's module rules (the config
// is loaded as ESM whatever package.json says).
const TSCONFIG = `{
  "compilerOptions": {
    "target": "es2023",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "strict": true,
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "include": ["gateway.config.ts", "plugins"]
}
`;

/**
 * Writes the scaffold into `dir`. Resolves to the exit code.
 *
 * @example
 * ```ts
 * await initProject(process.cwd(), { force: false });
 * ```
 */
export async function initProject(dir: string, opts: { force: boolean }): Promise<number> {
  const files = [
    [join(dir, 'gateway.config.ts'), CONFIG],
    [join(dir, 'plugins', 'tag-requests.ts'), PLUGIN],
  ] as const;
  const existing = files.filter(([f]) => existsSync(f)).map(([f]) => f);
  if (existing.length && !opts.force) {
    console.error(`error: ${existing.join(', ')} already exists (use --force to overwrite)`);
    return 1;
  }
  await mkdir(join(dir, 'plugins'), { recursive: true });
  for (const [f, text] of files) await writeFile(f, text);
  const created = files.map(([f]) => f);
  const tsconfig = join(dir, 'tsconfig.json');
  if (!existsSync(tsconfig)) {
    await writeFile(tsconfig, TSCONFIG);
    created.push(tsconfig);
  }
  console.log(`created ${created.join(', ')}\nrun: npx gateway`);
  return 0;
}
