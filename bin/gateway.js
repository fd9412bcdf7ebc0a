#!/usr/bin/env node
// The `gateway` command. The package's own TypeScript is type-stripped by an in-thread hook
// (own-sources.js); configs and the files they import load through tsx. Node's loader alone would
// refuse to strip types inside node_modules, where this package lives when installed.
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`switchyard needs Node.js >= 22 (this is ${process.versions.node})`);
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
const { loadOwnSources } = await import('./own-sources.js');
loadOwnSources(new URL('../', import.meta.url).href);
const { main } = await import('../core/cli.ts');
process.exitCode = await main(process.argv.slice(2));
