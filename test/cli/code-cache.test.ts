/**
 * The launcher's V8 code cache (bin/splinter.cjs; issue #26): on Node 20 it keeps the compiled
 * bundle under $XDG_CACHE_HOME/splinter-ts/code-cache and uses it while it belongs to that very
 * bundle; a cache for a changed bundle of the same length, or a damaged one, is never run (V8
 * alone would take both), and the command behaves as without it. Node 22.1 and later keep their
 * own cache (module.enableCompileCache), in NODE_COMPILE_CACHE when it is set.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { compiledRoot } from './compiled.js';
import { cliEnv } from './helpers.js';

t.setTimeout(300_000);

const nodeKeepsCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

/** A private copy of the compiled package (bin/ and the bundle), so that the test may change its bundle. */
function packageCopy(t: Parameters<typeof tempDir>[0]): { bin: string; bundle: string } {
  const from = compiledRoot();
  const root = path.join(tempDir(t), 'pkg');
  fs.mkdirSync(path.join(root, 'dist', 'bundle'), { recursive: true });
  fs.cpSync(path.join(from, 'bin'), path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(from, 'dist', 'bundle', 'splinter.cjs'), path.join(root, 'dist', 'bundle', 'splinter.cjs'));
  fs.copyFileSync(path.join(from, 'package.json'), path.join(root, 'package.json'));
  fs.symlinkSync(fs.realpathSync(path.join(from, 'node_modules')), path.join(root, 'node_modules'));
  return { bin: path.join(root, 'bin', 'splinter.cjs'), bundle: path.join(root, 'dist', 'bundle', 'splinter.cjs') };
}

/** `splinter` with no command and stdin not a terminal: a usage error, from a function of the bundle. */
function runNoCommand(bin: string, env: NodeJS.ProcessEnv): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [bin], { env, input: '', encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

function cacheFiles(dir: string): string[] {
  const at = path.join(dir, 'splinter-ts', 'code-cache');
  return fs.existsSync(at) ? fs.readdirSync(at).map((f) => path.join(at, f)) : [];
}

t.test('Node 20: the cache is written once, used, and a stale or damaged one is ignored', { skip: nodeKeepsCache && 'this Node keeps its own compile cache' }, async (t) => {
  const { bin, bundle } = packageCopy(t);
  const cacheHome = tempDir(t);
  const env = cliEnv({ XDG_CACHE_HOME: cacheHome, NODE_DISABLE_COMPILE_CACHE: undefined });

  const first = runNoCommand(bin, env);
  t.equal(first.status, 2, first.stderr);
  t.match(first.stderr, /no command given/);
  const files = cacheFiles(cacheHome);
  t.equal(files.length, 1, 'the first run wrote one cache file');
  const cacheFile = files[0]!;
  const written = fs.statSync(cacheFile);

  const second = runNoCommand(bin, env);
  t.same(second, first, 'the same result from the cached code');
  t.equal(fs.statSync(cacheFile).ino, written.ino, 'the cache was accepted: not written again');

  // The same bundle length, another text: V8 would take the old code for it; the launcher must not.
  const source = fs.readFileSync(bundle, 'latin1');
  t.ok(source.includes('no command given'), 'the message is in the bundle');
  fs.writeFileSync(bundle, source.replace('no command given', 'NO COMMAND GIVEN'), 'latin1');
  const changed = runNoCommand(bin, env);
  t.match(changed.stderr, /NO COMMAND GIVEN/, 'the changed bundle ran, not the cache of the old one');
  t.not(fs.statSync(cacheFile).ino, written.ino, 'the cache was written again for the new bundle');

  // Damaged data: bytes of the cached code flipped here and there (V8 takes such data and may abort on it).
  const bytes = fs.readFileSync(cacheFile);
  const start = bytes.indexOf(10) + 1;
  for (let i = start + 64; i < start + (bytes.length - start) / 2; i += 997) bytes[i] = bytes[i]! ^ 0xff;
  fs.writeFileSync(cacheFile, bytes);
  const damaged = runNoCommand(bin, env);
  t.same(damaged, changed, 'the damaged cache was not used');
  t.not(fs.readFileSync(cacheFile).equals(bytes), 'and was replaced');

  // Garbage in place of the cache, and a cache folder that cannot be written: the command still works.
  fs.writeFileSync(cacheFile, 'not a cache');
  t.same(runNoCommand(bin, env), changed, 'garbage in the cache file is ignored');
  const blocked = tempDir(t);
  fs.writeFileSync(path.join(blocked, 'splinter-ts'), 'a file where the folder would be');
  t.same(runNoCommand(bin, cliEnv({ XDG_CACHE_HOME: blocked })), changed, 'an unwritable cache folder is ignored');
});

t.test('Node 20: a cache others could have written is never run, and never written into a folder others can write', { skip: nodeKeepsCache && 'this Node keeps its own compile cache' }, async (t) => {
  const { bin } = packageCopy(t);
  const cacheHome = tempDir(t);
  const env = cliEnv({ XDG_CACHE_HOME: cacheHome, NODE_DISABLE_COMPILE_CACHE: undefined });
  const first = runNoCommand(bin, env);
  t.equal(first.status, 2, first.stderr);
  const [cacheFile] = cacheFiles(cacheHome);
  t.ok(cacheFile, 'a cache was written');
  t.equal(fs.statSync(cacheFile!).mode & 0o777, 0o600, "the cache file is the user's alone");

  // Writable by others: not taken (so written again, the user's alone).
  fs.chmodSync(cacheFile!, 0o666);
  const before = fs.statSync(cacheFile!).ino;
  t.same(runNoCommand(bin, env), first, 'the command works');
  t.not(fs.statSync(cacheFile!).ino, before, 'the cache others could write was not taken: written again');
  t.equal(fs.statSync(cacheFile!).mode & 0o777, 0o600);

  // A link in its place, to a valid cache: not followed (replaced by a file).
  const elsewhere = path.join(tempDir(t), 'cache');
  fs.copyFileSync(cacheFile!, elsewhere);
  fs.rmSync(cacheFile!);
  fs.symlinkSync(elsewhere, cacheFile!);
  t.same(runNoCommand(bin, env), first, 'the command works');
  t.ok(fs.lstatSync(cacheFile!).isFile(), 'the link was not followed: a file of ours replaced it');

  // A folder others can write: nothing in it is taken, nothing is written to it.
  const folder = path.dirname(cacheFile!);
  fs.chmodSync(folder, 0o777);
  t.teardown(() => fs.chmodSync(folder, 0o700));
  const kept = fs.statSync(cacheFile!).ino;
  t.same(runNoCommand(bin, env), first, 'the command works');
  t.equal(fs.statSync(cacheFile!).ino, kept, 'nothing written into a folder others can write');
  t.same(fs.readdirSync(folder), [path.basename(cacheFile!)], 'no temporary file left');
});

t.test("the bundle's lazily loaded packages load under the cache too (ioredis for the bridge)", async (t) => {
  const { bin } = packageCopy(t);
  const env = cliEnv({ XDG_CACHE_HOME: tempDir(t), NODE_DISABLE_COMPILE_CACHE: undefined });
  const name = shmName(t, 'code-cache');
  Store.create(name, { slots: 16, maxValueSize: 64 }).close();
  // Nothing listens on port 1: the bridge gets as far as ioredis's connection attempt, twice (without, then with the cache).
  for (const run of ['first run', 'cached run']) {
    const r = spawnSync(process.execPath, [bin, 'bridge', '--redis', 'redis://127.0.0.1:1', '--use', name], { env, encoding: 'utf8', timeout: 60_000 });
    t.match(r.stderr, /cannot use Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/, `${run}: ioredis was loaded and tried`);
  }
});

t.test('NODE_DISABLE_COMPILE_CACHE: no cache kept', { skip: nodeKeepsCache && 'this Node keeps its own compile cache' }, async (t) => {
  const { bin } = packageCopy(t);
  const cacheHome = tempDir(t);
  const r = runNoCommand(bin, cliEnv({ XDG_CACHE_HOME: cacheHome, NODE_DISABLE_COMPILE_CACHE: '1' }));
  t.equal(r.status, 2, r.stderr);
  t.same(cacheFiles(cacheHome), [], 'nothing written');
});

t.test('Node 22.1 and later: Node keeps the cache of the bundle', { skip: !nodeKeepsCache && 'module.enableCompileCache is not in this Node' }, async (t) => {
  const { bin } = packageCopy(t);
  const dir = tempDir(t);
  const r = runNoCommand(bin, cliEnv({ NODE_COMPILE_CACHE: dir, NODE_DISABLE_COMPILE_CACHE: undefined }));
  t.equal(r.status, 2, r.stderr);
  const kept = fs.readdirSync(dir, { recursive: true });
  t.ok(kept.length > 0, 'Node wrote its cache');
});
