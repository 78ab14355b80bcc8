#!/usr/bin/env node
// The `splinter` command: always the JavaScript build in dist/, in an installed package and in a
// checkout alike (where `npm ci` builds it through the prepare script, and `npm run build` rebuilds it):
// the command in one CommonJS file (scripts/bundle-cli.mjs). Node's modules through require: an
// ES import of node:fs would build its whole namespace, which costs a one-shot command time.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist', 'bundle', 'splinter.cjs');

if (!fs.existsSync(main)) {
  const checkout = fs.existsSync(path.join(root, 'src', 'cli', 'main.ts'));
  const remedy = checkout ? `run \`npm run build\` in ${root}` : 'reinstall splinter-ts';
  process.stderr.write(`splinter: ${main} is missing: ${remedy}\n`);
  process.exit(1);
}
await require(main).runCli();
