/**
 * The package as a consumer gets it: `npm pack`, then `npm install` of the tarball into a fresh
 * project, twice: with no compiler on PATH, and with install scripts off. In each, an ES module opens
 * an shm store and a file store and writes them, the C peer reads what it wrote, a CommonJS file
 * require()s the package, and the installed `splinter` command runs. Dependencies come from the registry.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { distStaleness } from '../helpers/dist.js';
import { repoRoot, shmName, tempDir } from '../helpers/fixtures.js';
import { asHex, peerReads, writtenBy } from './consumer/peer-reads.js';

t.setTimeout(1_200_000);

/** The packed tarball, once the first test made it (in a folder that lives as long as this file's tests). */
let tarball: string | undefined;
const packDir = tempDir(t);

/** Tools a consumer machine without a build toolchain still has. */
const plainTools = ['node', 'npm', 'npx', 'sh', 'bash', 'env', 'cat', 'cp', 'ln', 'ls', 'mkdir', 'mv', 'rm', 'chmod', 'uname', 'tar', 'gzip'];
const buildTools = ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python3', 'python'];

/** A PATH of one folder holding links to the plain tools only. */
function pathWithoutCompiler(dir: string): string {
  fs.mkdirSync(dir);
  for (const tool of plainTools) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found !== '') fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}

/** The environment of a consumer's shell: no npm lifecycle variables or loaders of this test run. */
function consumerEnv(pathValue: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|NODE_OPTIONS$|TAP|CC$|CXX$|PYTHON$|SPLINTER_)/i.test(k)) continue;
    env[k] = v;
  }
  env['PATH'] = pathValue;
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
}

/** What a failed command said, for the failure's diagnostics. */
const output = (r: SpawnSyncReturns<string>): { exit: number | string | null; output: string } => ({
  exit: r.status ?? r.signal,
  output: `${r.stderr}${r.stdout}`.trim().slice(-3000),
});

/** Installed package count and bytes of a consumer's node_modules (for the record). */
function installedSize(project: string): { packages: number; bytes: number } {
  const lock = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const du = execFileSync('du', ['-sb', path.join(project, 'node_modules')], { encoding: 'utf8' });
  return { packages: Object.keys(lock.packages).length, bytes: Number(du.split('\t')[0]) };
}

t.test('npm pack ships the build, the command, docs and LICENSE, and nothing of the tests or sources', async (t) => {
  const stale = distStaleness();
  t.equal(stale, undefined, 'dist/ is built from the current sources (the tarball packs it as it is)');
  if (stale !== undefined) return;
  const out = packDir;
  // --ignore-scripts: prepare would rebuild dist/ under the other tests running now; it was just checked current.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: repoRoot, encoding: 'utf8' })) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  const files = packed[0]!.files.map((f) => f.path).sort();
  t.comment(`tarball: ${files.length} files, ${packed[0]!.size} bytes packed, ${packed[0]!.unpackedSize} unpacked`);
  for (const needed of ['package.json', 'LICENSE', 'README.md', 'bin/splinter.cjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/bundle/splinter.cjs', 'docs/spec/FORMAT.md', 'docs/spec/API.md', 'docs/api.md']) {
    t.ok(files.includes(needed), `ships ${needed}`);
  }
  const unwanted = files.filter((f) => /^(src|test|props|bench|tap-snapshots|\.ci)\//.test(f) || /\.map$|(?<!\.d)\.ts$|\.tgz$|tsconfig/.test(f));
  t.same(unwanted, [], 'no sources, tests, maps or build configuration');
  const srcModules = execFileSync('git', ['ls-files', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').filter((f) => f.endsWith('.ts'));
  const missing = srcModules.map((f) => f.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')).filter((f) => !files.includes(f));
  t.same(missing, [], 'every source module ships compiled');
  tarball = path.join(out, packed[0]!.filename);
});

for (const mode of ['no compiler on PATH', 'install scripts off'] as const) {
  t.test(`a consumer project installs the tarball: ${mode}`, async (t) => {
    if (tarball === undefined) return t.fail('no tarball was packed');
    const home = tempDir(t);
    const project = path.join(home, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'splinter-consumer', version: '1.0.0', private: true }, null, 2)}\n`);
    const env = mode === 'no compiler on PATH' ? consumerEnv(pathWithoutCompiler(path.join(home, 'bin'))) : consumerEnv(process.env['PATH'] ?? '/usr/bin:/bin');
    env['XDG_CACHE_HOME'] = path.join(home, 'cache'); // the command's code cache (Node 20) goes with this temporary home
    if (mode === 'no compiler on PATH') {
      const reachable = buildTools.filter((tool) => run('sh', ['-c', `command -v ${tool}`], project, env).status === 0);
      t.same(reachable, [], 'no compiler, make or python on the consumer PATH');
    }

    const install = run('npm', ['install', tarball, '--no-audit', '--no-fund', ...(mode === 'install scripts off' ? ['--ignore-scripts'] : [])], project, env, 900_000);
    t.equal(install.status, 0, 'npm install', output(install));
    if (install.status !== 0) return;
    for (const line of install.stderr.split('\n').filter((l) => l.startsWith('npm warn'))) t.comment(line);
    const installed = path.join(project, 'node_modules', 'splinter-ts');
    t.ok(fs.existsSync(path.join(installed, 'dist', 'index.js')), 'the package arrived with its build (no prepare ran on it)');
    const size = installedSize(project);
    t.comment(`${mode}: node_modules holds ${size.packages} packages, ${size.bytes} bytes`);

    // The installed command runs dist/ (the checkout's tsx is nowhere near).
    const version = run(path.join(project, 'node_modules', '.bin', 'splinter'), ['--version'], project, env);
    t.match(version.stdout, /^splinter-ts \d+\.\d+\.\d+\n$/, 'the installed splinter command runs', output(version));

    // CommonJS: require('splinter-ts') from the consumer's own .cjs file.
    const shmForCjs = shmName(t, 'consumer-cjs');
    fs.copyFileSync(path.join(repoRoot, 'test', 'package', 'consumer', 'require-stores.cjs'), path.join(project, 'require-stores.cjs'));
    const required = run(process.execPath, ['require-stores.cjs', shmForCjs], project, env);
    t.equal(required.status, 0, "require('splinter-ts') from a .cjs file", output(required));
    if (required.status === 0) {
      const report = JSON.parse(required.stdout) as { sab: unknown; badGeometry: unknown; shm: unknown };
      t.same(report.sab, { isShared: true, readBack: 'set through one handle' }, 'CommonJS: a SharedArrayBuffer store');
      t.same(report.badGeometry, { thrown: true, isSplinterError: true, code: 'EINVAL' }, 'CommonJS: a SplinterError for bad input');
      t.same(report.shm, { ok: true, keys: ['cjs/key'] }, 'CommonJS: an shm store');
    }

    // ES module: an shm store and a file store, written, then read by the C peer.
    const shm = shmName(t, 'consumer');
    const file = path.join(project, 'store.spl');
    fs.copyFileSync(path.join(repoRoot, 'test', 'package', 'consumer', 'write-stores.mjs'), path.join(project, 'write-stores.mjs'));
    const wrote = run(process.execPath, ['write-stores.mjs', shm, file], project, env);
    t.equal(wrote.status, 0, 'an ES module imports splinter-ts', output(wrote));
    if (wrote.status !== 0) return;
    const report = JSON.parse(wrote.stdout) as Record<'shm' | 'file', { ok: boolean; code?: string; message?: string }>;
    for (const [label, target] of [['shm', shm], ['file', file]] as const) {
      const keys = Object.keys(writtenBy(label)).sort();
      t.same(report[label], { ok: true, keys }, `${label} store opened and written`, { report: report[label] });
      if (report[label].ok) t.same(await peerReads(target, keys), asHex(writtenBy(label)), `the C peer reads the ${label} store`);
    }
    if (report.shm.ok) {
      const got = run(path.join(project, 'node_modules', '.bin', 'splinter'), ['--use', shm, 'get', 'consumer/text'], project, env);
      t.equal(got.stdout, `${writtenBy('shm')['consumer/text']}\n`, 'the installed splinter command reads it', output(got));
    }
  });
}
