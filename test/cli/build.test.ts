/** What `npm run build` makes runs: bin/splinter.cjs over dist/, without tsx and without the sources. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { repoRoot, shmName, tempDir } from '../helpers/fixtures.js';

t.setTimeout(300_000);

t.test('the build output runs as an installed package would', async (t) => {
  // A package root as npm installs it: package.json, bin/, dist/ (built here exactly as `npm run build` does).
  const root = tempDir(t);
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  fs.mkdirSync(path.join(root, 'bin'));
  fs.copyFileSync(path.join(repoRoot, 'bin', 'splinter.cjs'), path.join(root, 'bin', 'splinter.cjs'));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'tsconfig.build.json'), '--outDir', path.join(root, 'dist')], { cwd: repoRoot, timeout: 240_000 });
  t.ok(fs.existsSync(path.join(root, 'dist', 'cli', 'main.js')), 'dist/cli/main.js was built');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'bundle-cli.mjs'), path.join(root, 'dist')], { cwd: repoRoot, timeout: 120_000 });
  t.ok(fs.existsSync(path.join(root, 'dist', 'bundle', 'splinter.cjs')), 'the command was bundled');
  // Strict, as its modules were as ES modules: the directive has to come first in the file.
  t.match(fs.readFileSync(path.join(root, 'dist', 'bundle', 'splinter.cjs'), 'utf8'), /^'use strict';\n/, 'the bundle is strict code');
  const pkgScripts = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  t.match(pkgScripts['build'], /tsc -p tsconfig\.build\.json && node scripts\/bundle-cli\.mjs$/, 'npm run build makes both, in this order');

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NODE_OPTIONS', 'SPLINTER_STORE', 'SPLINTER_NS_PREFIX']) delete env[k];
  env['XDG_CACHE_HOME'] = tempDir(t); // the command's code cache (Node 20): removed with the test
  const name = shmName(t, 'cli-build');
  t.teardown(() => {
    try {
      Store.unlink(name);
    } catch {
      // not created
    }
  });
  const run = (...args: string[]): string => execFileSync(process.execPath, [path.join(root, 'bin', 'splinter.cjs'), ...args], { env, encoding: 'utf8', timeout: 60_000 });
  t.match(run('--version'), /^splinter-ts \d+\.\d+\.\d+\n$/);
  t.match(run('init', name, '--slots', '8', '--max-value', '32'), /^created /);
  run('--use', name, 'set', 'k', 'built');
  t.equal(run('--use', name, 'get', 'k'), 'built\n');
  // The launcher is plain JavaScript and the package's own: it ships (npm includes "bin" files).
  t.equal(fs.readFileSync(path.join(root, 'bin', 'splinter.cjs'), 'utf8').startsWith('#!/usr/bin/env node\n'), true);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  t.same(pkg.bin, { splinter: 'bin/splinter.cjs' });
  t.ok((fs.statSync(path.join(repoRoot, 'bin', 'splinter.cjs')).mode & 0o111) !== 0, 'the launcher is executable');
});
