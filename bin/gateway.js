#!/usr/bin/env node
// The `gateway` command. TypeScript sources are loaded through tsx, because Node refuses to strip
// types inside node_modules (where this package lives when installed as a dependency).
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`switchyard needs Node.js >= 22 (this is ${process.versions.node})`);
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../core/cli.ts');
process.exitCode = await main(process.argv.slice(2));
