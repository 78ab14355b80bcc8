#!/usr/bin/env node
// The `splinter` command: always the JavaScript build in dist/, in an installed package and in a
// checkout alike (where `npm ci` builds it through the prepare script, and `npm run build` rebuilds it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist', 'cli', 'main.js');

if (!fs.existsSync(main)) {
  const checkout = fs.existsSync(path.join(root, 'src', 'cli', 'main.ts'));
  const remedy = checkout ? `run \`npm run build\` in ${root}` : 'reinstall splinter-ts';
  process.stderr.write(`splinter: ${main} is missing: ${remedy}\n`);
  process.exit(1);
}
const cli = await import(pathToFileURL(main).href);
await cli.runCli();
