#!/usr/bin/env node
// Runs a TypeScript file with tsx's loader (used by `npm run bench`): node bin/tsx.js file.ts [args]
// The script sees itself as process.argv[1] and its own arguments from process.argv[2].
const { register } = await import('tsx/esm/api');
register();
const { pathToFileURL } = await import('node:url');
const { resolve } = await import('node:path');
process.argv.splice(1, 1);
await import(pathToFileURL(resolve(process.argv[1])).href);
