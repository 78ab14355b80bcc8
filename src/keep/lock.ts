/**
 * One keeper per store: a lock file beside the store (/dev/shm/.NAME.keep-lock for a shm store,
 * DIR/.FILE.keep-lock for a file store) made with O_EXCL, holding the keeper's pid. A lock whose
 * pid is no live process is stale (a keeper killed with SIGKILL) and is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SplinterError } from '../errors.js';
import { sleepSync } from '../store/sync/sleep.js';
import { resolveTarget } from '../store/backing/target.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_NONBLOCK } = fs.constants;
const ATTEMPTS = 5;
/** A lock file holds a pid and a newline: anything longer is not ours. */
const MAX_LOCK_BYTES = 32;

export interface KeeperLock {
  readonly path: string;
  release(): void;
}

/** The lock file of the store at `target` (a shm name or a path). */
export function lockPath(target: string): string {
  const resolved = path.resolve(resolveTarget(target).path);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.keep-lock`);
}

/** The pid a lock file names, undefined when it names none (being written, or not ours). */
function holderOf(file: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    const read = fs.readSync(fd, buffer, 0, MAX_LOCK_BYTES, 0);
    const text = buffer.subarray(0, read).toString('latin1');
    return /^[1-9]\d{0,9}\n$/.test(text) ? Number(text.trim()) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the keeper lock of `target`.
 * @throws {SplinterError} EBUSY naming the pid of the keeper that holds it; EACCES when the lock cannot be made.
 */
export function takeKeeperLock(target: string): KeeperLock {
  const file = lockPath(target);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return {
        path: file,
        release: () => {
          // Only our own lock: a keeper that took over a lock it judged stale owns it now.
          if (holderOf(file) === process.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new SplinterError('EACCES', `cannot make the keeper lock ${file} (${code ?? String(error)})`, { cause: error });
    }
    const holder = holderOf(file);
    if (holder !== undefined && alive(holder)) {
      throw new SplinterError('EBUSY', `another keeper (pid ${holder}) keeps ${target}: its lock is ${file}`);
    }
    if (holder === undefined && attempt < ATTEMPTS - 1) {
      // Just made and not written yet, or not a lock of ours: look again before calling it stale.
      sleepSync(20);
      if (holderOf(file) !== undefined) continue;
    }
    // Stale: its keeper is gone (or never wrote its pid). Removed, and made again by the next attempt.
    fs.rmSync(file, { force: true });
  }
  throw new SplinterError('EBUSY', `the keeper lock ${file} kept being taken while this keeper tried to take it`);
}
