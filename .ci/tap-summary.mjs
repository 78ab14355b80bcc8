#!/usr/bin/env node
// Runs tap with the given arguments, passes its output through unchanged, and ends with one line:
// "N passed, N failed, N skipped" (tap's test points, from its closing "# { total: … }" line).
// Exits with tap's status. npm test and npm run test:quick run the suite through it.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const tapPackage = require.resolve('tap/package.json');
const tapBin = path.join(path.dirname(tapPackage), require(tapPackage).bin.tap);
const started = Date.now();
const child = spawn(process.execPath, [tapBin, ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'] });

let summary = '';
let pending = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString('utf8')).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) if (/^# \{ total: \d+/.test(line)) summary = line;
});

const count = (name) => Number(new RegExp(`\\b${name}: (\\d+)`).exec(summary)?.[1] ?? 0);
child.on('close', (code, signal) => {
  if (/^# \{ total: \d+/.test(pending)) summary = pending;
  let failed = count('fail');
  // A run that failed without a failing test point (a crash, a timeout of the whole run) still counts as one failure.
  if ((code !== 0 || signal !== null) && failed === 0) failed = 1;
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`${count('pass')} passed, ${failed} failed, ${count('skip')} skipped (${seconds} s)\n`);
  process.exitCode = code ?? 1;
});
