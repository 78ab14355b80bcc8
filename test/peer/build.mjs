#!/usr/bin/env node
// Builds the C peer (test/peer/splinter-peer.c) into test/peer/build/splinter-peer.
// Skips the compile when the binary is newer than the source. No dependencies.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'splinter-peer.c');
const outDir = join(here, 'build');
const binary = join(outDir, 'splinter-peer');
const cc = process.env.CC || 'cc';
const flags = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE'];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

const rel = relative(process.cwd(), binary) || binary;
if (mtime(binary) > mtime(source)) {
  console.log(`splinter-peer: ${rel} is up to date`);
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
const args = [...flags, '-o', binary, source, '-lm']; // libm: sqrtf of the search command
const result = spawnSync(cc, args, { encoding: 'utf8' });
if (result.error || result.status !== 0) {
  process.stderr.write(`splinter-peer: ${cc} ${args.join(' ')} failed\n`);
  if (result.error) process.stderr.write(`${result.error.message}\n`);
  process.stderr.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  process.exit(1);
}
console.log(`splinter-peer: built ${rel} with ${cc}`);
