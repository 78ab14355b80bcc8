#!/usr/bin/env node
// The `splinter` command: always the JavaScript build in dist/, in an installed package and in a
// checkout alike (where `npm ci` builds it through the prepare script, and `npm run build` rebuilds it):
// the command in one CommonJS file (scripts/bundle-cli.mjs). The launcher is CommonJS itself: an ES
// module as the main file starts Node's ES module loader (and node:fs/promises, readline's internals),
// 8 ms of a one-shot command's start (issue #26).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
/** A cache file is at most a few MB for a bundle of 430 kB; anything larger is not ours. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
const main = path.join(root, 'dist', 'bundle', 'splinter.cjs');

if (!fs.existsSync(main)) {
  const checkout = fs.existsSync(path.join(root, 'src', 'cli', 'main.ts'));
  const remedy = checkout ? `run \`npm run build\` in ${root}` : 'reinstall splinter-ts';
  process.stderr.write(`splinter: ${main} is missing: ${remedy}\n`);
  process.exit(1);
}
void loadBundle(main).runCli();

/**
 * The bundle's exports, its compiled code taken from a V8 code cache where there is one: compiling
 * the 430 kB bundle was the largest part of a one-shot command's start (issue #26). Node 22.1 and
 * later keep that cache themselves (module.enableCompileCache, in the system's temporary folder);
 * on Node 20 the launcher keeps it (codeCached). NODE_DISABLE_COMPILE_CACHE turns both off.
 */
function loadBundle(file) {
  const nodeModule = require('node:module');
  if (typeof nodeModule.enableCompileCache === 'function') {
    nodeModule.enableCompileCache(); // a cache that cannot be made or used is skipped by Node: no error
    return require(file);
  }
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return require(file);
  return codeCached(file);
}

/**
 * Node 20: the bundle compiled as a vm.Script with the cached data of an earlier run, from
 * $XDG_CACHE_HOME/splinter-ts/code-cache (~/.cache when unset), one file per bundle path and Node.
 * V8 itself rejects data of another V8, other flags or a source of another length, but not a
 * source of the same length or damaged bytes; so the file's header carries the bundle's identity
 * (path, inode, size, mtime, ctime: a rebuild or reinstall changes ctime) and the data is written
 * twice: a copy that differs from the other is damaged (a memcmp; a checksum in JavaScript took
 * 5 ms of the 10 the cache saves). A mismatch is a miss: it compiles as usual and, at exit, writes
 * the cache (then holding every function that run compiled) through a temporary file and a rename,
 * so that a reader never sees half a file. Any failure to read or write the cache costs only time.
 */
function codeCached(file) {
  const vm = require('node:vm');
  const source = fs.readFileSync(file, 'utf8');
  const stat = fs.statSync(file);
  const identity = [process.version, process.arch, file, stat.dev, stat.ino, stat.size, stat.mtimeMs, stat.ctimeMs].join('\0');
  const cacheFile = cachePath(file);
  const cachedData = cacheFile === undefined ? undefined : readCache(cacheFile, identity);
  // The bundle has no import() (scripts/bundle-cli.mjs): Node 20 runs none in a vm.Script without --experimental-vm-modules.
  const script = new vm.Script(nodeModule().wrap(source), { filename: file, cachedData });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => writeCache(cacheFile, identity, script));
  }
  const module = { exports: {}, id: file, filename: file, loaded: false };
  script.runInThisContext().call(module.exports, module.exports, nodeModule().createRequire(file), module, file, path.dirname(file));
  module.loaded = true;
  return module.exports;
}

function nodeModule() {
  return require('node:module');
}

function cachePath(file) {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : undefined);
  if (base === undefined || !path.isAbsolute(base)) return undefined;
  return path.join(base, 'splinter-ts', 'code-cache', `bundle-${pathHash(file)}-${process.version}-${process.arch}.v8`);
}

/** FNV-1a of the bundle's path: one cache file per installed bundle. */
function pathHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

/**
 * The cached data when the file holds data for this bundle, whole; else undefined. Cached data is
 * compiled code V8 runs unchecked, so only a file that nobody else could have written counts:
 * a regular file (no link followed) and its folder, both ours and writable by us alone.
 */
function readCache(cacheFile, identity) {
  let fd;
  try {
    if (!ownedByUsAlone(fs.statSync(path.dirname(cacheFile)))) return undefined;
    fd = fs.openSync(cacheFile, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || !ownedByUsAlone(stat) || stat.size > MAX_CACHE_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(stat.size); // every byte is read into it (the count is checked) before any is used
    if (fs.readSync(fd, bytes, 0, bytes.length, 0) !== bytes.length) return undefined;
    const end = bytes.indexOf(10);
    if (end < 0 || end > 4096) return undefined;
    const header = JSON.parse(bytes.subarray(0, end).toString('utf8'));
    const length = header?.length;
    if (header?.identity !== identity || !Number.isSafeInteger(length) || bytes.length !== end + 1 + 2 * length) return undefined;
    const data = bytes.subarray(end + 1, end + 1 + length);
    return data.equals(bytes.subarray(end + 1 + length)) ? data : undefined;
  } catch {
    return undefined; // no cache yet, or one unreadable: compiled without it
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Owned by this process's user (root's files count for root alone) and writable by nobody else. */
function ownedByUsAlone(stat) {
  return typeof process.geteuid === 'function' && stat.uid === process.geteuid() && (stat.mode & 0o022) === 0;
}

function writeCache(cacheFile, identity, script) {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  let fd;
  try {
    const data = script.createCachedData();
    const header = JSON.stringify({ identity, length: data.length });
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
    if (!ownedByUsAlone(fs.statSync(path.dirname(cacheFile)))) return; // a folder others can write: never trusted, so never written
    // A fresh file (no link followed, none replaced), the user's alone.
    fd = fs.openSync(temporary, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    fs.writeSync(fd, Buffer.concat([Buffer.from(`${header}\n`), data, data]));
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temporary, cacheFile);
  } catch {
    // a read-only or full disk, or a leftover of ours: the next start compiles again
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temporary, { force: true });
    } catch {
      // nothing more to tidy
    }
  }
}
