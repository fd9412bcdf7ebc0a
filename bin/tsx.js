#!/usr/bin/env node
// Runs a TypeScript file with tsx's loader (used by `npm run bench`): node bin/tsx.js file.ts
const { register } = await import('tsx/esm/api');
register();
const { pathToFileURL } = await import('node:url');
const { resolve } = await import('node:path');
await import(pathToFileURL(resolve(process.argv[2])).href);
