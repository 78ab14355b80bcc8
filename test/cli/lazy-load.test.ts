/**
 * A one-shot command loads what it uses and no more (issue #26: `splinter get` starts close to a
 * bare `node`): no server, keeper, bridge, interactive mode or worker thread for a `get`, while
 * the commands that need them still load them. Measured without timing: the Node modules the
 * installed command (bin → dist/bundle/splinter.cjs) loaded, from process.moduleLoadList at exit,
 * and the files of dist/ the unbundled build (dist/cli/main.js) loaded, from a module hook.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { testedLauncher } from './compiled.js';
import { cliEnv } from './helpers.js';

t.setTimeout(300_000);

/**
 * Runs node with ARGS and nothing else loaded: tap puts its process-info hook into the children
 * of a test through NODE_OPTIONS, whatever their env says, and that hook loads modules of its own.
 */
function bareNode(args: string[], input: string): { status: number | null; stderr: string } {
  return spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, ...args], { env: cliEnv(), input, encoding: 'utf8', timeout: 60_000 });
}

const bin = testedLauncher().bin;
const distDir = fs.realpathSync(path.join(path.dirname(bin), '..', 'dist')); // as Node names the modules it loads

/** Node's own modules a child loaded: what `require` would name them (node:net → "net"). */
function builtinsLoaded(t: Parameters<typeof tempDir>[0], args: string[], input = ''): { code: number | null; stderr: string; loaded: Set<string> } {
  return builtinsLoadedBy(t, [bin, ...args], input);
}

/** The same for any node arguments. */
function builtinsLoadedBy(t: Parameters<typeof tempDir>[0], nodeArgs: string[], input = ''): { code: number | null; stderr: string; loaded: Set<string> } {
  const dir = tempDir(t);
  const out = path.join(dir, 'loaded.txt');
  const preload = path.join(dir, 'record.cjs');
  fs.writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join('\\n')));\n`,
  );
  const r = bareNode(['--require', preload, ...nodeArgs], input);
  const loaded = fs.existsSync(out) ? new Set(fs.readFileSync(out, 'utf8').split('\n')) : new Set<string>();
  return { code: r.status, stderr: r.stderr, loaded };
}

/** The files under dist/ a child running dist/cli/main.js loaded, relative to dist/ ("serve/index.js"). */
function distFilesLoaded(t: Parameters<typeof tempDir>[0], args: string[]): { code: number | null; stderr: string; loaded: string[] } {
  const dir = tempDir(t);
  const out = path.join(dir, 'loaded.txt');
  const hooks = path.join(dir, 'hooks.mjs');
  fs.writeFileSync(hooks, `import fs from 'node:fs';\nexport async function load(url, context, next) {\n  fs.appendFileSync(${JSON.stringify(out)}, url + '\\n');\n  return next(url, context);\n}\n`);
  const register = path.join(dir, 'register.mjs');
  fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const r = bareNode(['--import', pathToFileURL(register).href, path.join(distDir, 'cli', 'main.js'), ...args], '');
  const prefix = pathToFileURL(distDir).href + '/';
  const urls = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n') : [];
  return { code: r.status, stderr: r.stderr, loaded: urls.filter((u) => u.startsWith(prefix)).map((u) => u.slice(prefix.length)) };
}

/** Node modules only serve, the bridge, the interactive mode, a parallel search or a doorbell's setup use. */
const HEAVY_BUILTINS = ['http', 'https', 'readline', 'worker_threads', 'child_process', 'crypto', 'zlib'];
/** Our modules a `get` has no use for. */
const HEAVY_MODULES = /^(serve|keep|bridge)\/|^cli\/(repl|doctor|stats|gateway|import-document|search-query|search-format|help)\.js$|^cli\/commands\/(?!(index|handler|read|key)\.js$)/;

function storeWithKey(t: Parameters<typeof tempDir>[0]): string {
  const name = shmName(t, 'lazy');
  const store = Store.create(name, { slots: 16, maxValueSize: 64 });
  store.set('greeting', 'hello');
  store.close();
  return name;
}

t.test('get loads none of the Node modules of serve, the bridge, the interactive mode or the search worker', async (t) => {
  const name = storeWithKey(t);
  // koffi (the mapping route where the mmap-io addon was not built for this Node) loads some itself:
  // worker_threads under Node 22 and 24. What it loads is its own, not ours to defer.
  const koffi = builtinsLoadedBy(t, ['-e', "require('koffi')"]);
  t.equal(koffi.code, 0, koffi.stderr);
  const ours = (loaded: Set<string>): string[] => HEAVY_BUILTINS.filter((m) => loaded.has(m) && !koffi.loaded.has(m));
  const r = builtinsLoaded(t, ['get', 'greeting', '--use', name]);
  t.equal(r.code, 0, r.stderr);
  t.ok(r.loaded.has('fs'), 'the list of loaded modules was written');
  t.same(ours(r.loaded), [], `none of them loaded (koffi itself loads: ${HEAVY_BUILTINS.filter((m) => koffi.loaded.has(m)).join(', ') || 'none'})`);
  const version = builtinsLoaded(t, ['--version']);
  t.equal(version.code, 0, version.stderr);
  t.same(HEAVY_BUILTINS.filter((m) => version.loaded.has(m)), [], '--version loads none, koffi not loaded');
});

t.test('get and --version load no ES module loader, net or streams (process.stdout and stdin not made), nor perf_hooks', async (t) => {
  const name = storeWithKey(t);
  // What bare node or koffi load on their own (this Node's bootstrap, koffi's own needs) is not counted.
  const bare = builtinsLoadedBy(t, ['-e', '']);
  const koffi = builtinsLoadedBy(t, ['-e', "require('koffi')"]);
  t.equal(koffi.code, 0, koffi.stderr);
  // The launcher is CommonJS: an ES module main starts the ES module loader, which reads files with fs/promises.
  const unwanted = ['internal/modules/esm/load', 'internal/fs/promises', 'net', 'stream', 'tty', 'internal/fs/sync_write_stream', 'perf_hooks'];
  const ours = (loaded: Set<string>): string[] => unwanted.filter((m) => loaded.has(m) && !bare.loaded.has(m) && !koffi.loaded.has(m));
  // spawnSync's stdout is a pipe: process.stdout would be a net.Socket over it.
  const get = builtinsLoaded(t, ['get', 'greeting', '--use', name]);
  t.equal(get.code, 0, get.stderr);
  t.same(ours(get.loaded), [], 'get: none loaded');
  const version = builtinsLoaded(t, ['--version']);
  t.equal(version.code, 0, version.stderr);
  t.same(ours(version.loaded), [], '--version: none loaded');
});

t.test('the commands that need them load them', async (t) => {
  // serve loads the gateway before it opens the store, so a store that is not there still shows it.
  const serve = builtinsLoaded(t, ['serve', '--use', `splinter-test-${process.pid}-never-made`, '--port', '0']);
  t.equal(serve.code, 1, 'the store is not there');
  t.ok(serve.loaded.has('http'), 'serve loaded node:http');
  const shell = builtinsLoaded(t, ['shell'], 'uuid\n');
  t.equal(shell.code, 0, shell.stderr);
  t.ok(shell.loaded.has('readline'), 'the interactive mode loaded node:readline');
});

t.test('get loads its own command module and the store, not serve, keep, the bridge or the other commands', async (t) => {
  const name = storeWithKey(t);
  const get = distFilesLoaded(t, ['get', 'greeting', '--use', name]);
  t.equal(get.code, 0, get.stderr);
  t.ok(get.loaded.includes('cli/commands/read.js') && get.loaded.includes('facade/store.js'), 'the read group and the store were loaded');
  t.same(get.loaded.filter((f) => HEAVY_MODULES.test(f)), [], 'nothing else of the CLI, and no serve, keep or bridge');
  const keep = distFilesLoaded(t, ['keep', '--use', `splinter-test-${process.pid}-never-made`]);
  t.equal(keep.code, 1, 'the store is not there');
  t.ok(keep.loaded.includes('cli/commands/keep.js') && keep.loaded.some((f) => f.startsWith('keep/')), 'keep loaded the keeper');
});
