/**
 * The CLI as an installed package runs it: bin/splinter.cjs over JavaScript in dist/. The tests
 * build that once per version of the sources (TypeScript's transpileModule, file by file, as
 * `isolatedModules` allows, then the command's bundle as `npm run build` makes it) into node_modules/.cache, because a child that loads the sources
 * through tsx starts three times slower, and the CLI tests start hundreds of children.
 * SPLINTER_TEST_CLI=checkout runs the checkout's own bin/splinter.cjs over its dist/ instead (`npm run build` first).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../helpers/fixtures.js';

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []))
    .sort();
}

let built: string | undefined;

/** The root of a compiled copy (bin/, dist/, package.json, node_modules →), built if needed. */
export function compiledRoot(): string {
  if (built !== undefined) return built;
  const srcDir = path.join(repoRoot, 'src');
  const files = sourceFiles(srcDir);
  const launcher = path.join(repoRoot, 'bin', 'splinter.cjs');
  const bundler = path.join(repoRoot, 'scripts', 'bundle-cli.mjs');
  const hash = createHash('sha256');
  for (const file of [...files, launcher, bundler, path.join(repoRoot, 'package.json')]) {
    hash.update(file).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  const cacheRoot = path.join(repoRoot, 'node_modules', '.cache', 'splinter-cli-test');
  const root = path.join(cacheRoot, hash.digest('hex').slice(0, 16));
  if (!fs.existsSync(path.join(root, 'ready'))) {
    const staging = `${root}.staging-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    for (const file of files) {
      const out = path.join(staging, 'dist', path.relative(srcDir, file)).replace(/\.ts$/, '.js');
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, inlineSourceMap: true },
      });
      fs.writeFileSync(out, outputText);
    }
    execFileSync(process.execPath, [bundler, path.join(staging, 'dist')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    fs.mkdirSync(path.join(staging, 'bin'));
    fs.copyFileSync(launcher, path.join(staging, 'bin', 'splinter.cjs'));
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(staging, 'package.json'));
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(staging, 'node_modules'));
    fs.writeFileSync(path.join(staging, 'ready'), '');
    try {
      fs.renameSync(staging, root);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true }); // another test file built it first
    }
  }
  built = root;
  return root;
}

/** The launcher the tests spawn. */
export function testedLauncher(): { bin: string } {
  if (process.env['SPLINTER_TEST_CLI'] === 'checkout') return { bin: path.join(repoRoot, 'bin', 'splinter.cjs') };
  return { bin: path.join(compiledRoot(), 'bin', 'splinter.cjs') };
}
