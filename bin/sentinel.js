#!/usr/bin/env node
// The `sentinel` command. One rule decides what runs, so it can never run a stale build:
// - installed from the package (no src/ beside bin/): the compiled dist/cli.js, built by `prepack`
//   when the tarball was made, with no TypeScript and no dev dependency at run time;
// - in a git checkout (src/cli.ts beside bin/): the TypeScript source through tsx (a dev
//   dependency), never a dist/ that a past `npm run build` left behind.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli.ts');
const compiled = join(root, 'dist', 'cli.js');

let entry;
if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(`sentinel: ${root} is a source checkout but tsx is not installed; run \`npm ci\` there (dev dependencies included)\n`);
    process.exit(2);
  }
  register();
  entry = source;
} else if (existsSync(compiled)) {
  entry = compiled;
} else {
  process.stderr.write(`sentinel: ${compiled} is missing; reinstall the package (it is built when the tarball is packed)\n`);
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(entry).href);
runCli();
