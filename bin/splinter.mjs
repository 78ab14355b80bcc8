#!/usr/bin/env node
// The `splinter` command. An installed package runs the build in dist/. In a checkout, where
// tsx (a devDependency) is at hand, it runs the TypeScript sources unless dist/ is at least as
// new as every source file. SPLINTER_CLI_FROM=src or =dist forces one or the other.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist', 'cli', 'main.js');
const source = path.join(root, 'src', 'cli', 'main.ts');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function distIsCurrent() {
  try {
    return fs.statSync(dist).mtimeMs >= newestSource(path.join(root, 'src'));
  } catch {
    return false;
  }
}

async function fromSource() {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    return undefined;
  }
  register();
  return import(pathToFileURL(source).href);
}

const forced = process.env.SPLINTER_CLI_FROM;
let cli;
if (forced === 'dist' || (forced !== 'src' && fs.existsSync(dist) && (!fs.existsSync(source) || distIsCurrent()))) {
  cli = await import(pathToFileURL(dist).href);
} else {
  cli = await fromSource();
  if (cli === undefined && fs.existsSync(dist)) cli = await import(pathToFileURL(dist).href);
  if (cli === undefined) {
    process.stderr.write('splinter: neither dist/cli/main.js (npm run build) nor tsx (npm install) is available\n');
    process.exit(1);
  }
}
await cli.runCli();
