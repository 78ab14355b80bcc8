/**
 * The doorbell table beside a shm or file store: a small shared-memory file, named after the
 * store's device and inode so every process finds the same one, listing the processes of ours
 * that wait on the store and the FIFO each one listens on. Writers of ours read one word per
 * write (how many waiters are armed) and ring the armed ones; C processes never see this file
 * (docs/bus.md).
 *
 * Every side file lives in /dev/shm, where any local user may create names: each is made
 * exclusively (never following a link), opened without following links and checked after
 * opening (side-file-policy.ts), and the table's words are untrusted input.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { mapShared } from '../store/backing/native-mmap.js';
import { sleepSync } from '../store/sync/sleep.js';
import { SHM_DIR } from '../store/backing/target.js';
import {
  euid,
  removeSideFile,
  settleNewSideFile,
  sideFileMode,
  sideFileProblem,
  type StoreOwnership,
} from './side-file-policy.js';

// node:child_process (mkfifo) and node:crypto (a temporary name) are loaded when first needed, not
// with the store: loading them costs a one-shot command more time than it spends on its work.
const requireBuiltin = createRequire(import.meta.url);
const childProcess = (): typeof import('node:child_process') => requireBuiltin('node:child_process') as typeof import('node:child_process');
const crypto = (): typeof import('node:crypto') => requireBuiltin('node:crypto') as typeof import('node:crypto');

export const SIDECAR_BYTES = 4096;
/** i32 index of the count of armed waiters: the only word a writer reads when nobody waits. */
export const ARMED_COUNT = 0;
export const ENTRY_START = 64;
export const ENTRY_BYTES = 64;
export const MAX_WAITERS = 32;
/** i32 offsets inside an entry. */
export const ENTRY = { pid: 0, token: 1, pending: 2, armed: 3 } as const;
/** Linux's ceiling for pid_max (PID_MAX_LIMIT on 64-bit): no process has a larger pid. */
export const PID_LIMIT = 4_194_304;
const TABLE_ATTEMPTS = 5;
/** How long to let a creator remove its temporary name (its table has two links until then). */
const SECOND_LINK_WAIT_MS = 1;

const { O_RDWR, O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

export const entryBase = (entry: number): number => (ENTRY_START + entry * ENTRY_BYTES) >>> 2;
export const sidecarPath = (identity: string): string => `${SHM_DIR}/.splinter-bus-${identity}`;
export const fifoPath = (identity: string, pid: number, token: number): string =>
  `${sidecarPath(identity)}.${pid}.${token >>> 0}`;

/** An entry's pid and token as read from the table: usable only inside these ranges (a token of 0 is an entry being set up). */
export const validPid = (pid: number): boolean => pid >= 1 && pid <= PID_LIMIT;
export const validToken = (token: number): boolean => token >= 1;

const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/**
 * Makes the table under a name of its own (O_EXCL | O_NOFOLLOW), gives it its mode and size,
 * then links it into place: link(2) is atomic and fails when anything is at the name already,
 * so no process ever sees the table unsized (a zero-filled table of full size is a valid empty one).
 */
function createTable(path: string, mode: number, store: StoreOwnership): number {
  const temporary = `${path}.new-${process.pid}-${crypto().randomBytes(6).toString('hex')}`;
  const fd = fs.openSync(temporary, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    settleNewSideFile(fd, mode, store);
    fs.ftruncateSync(fd, SIDECAR_BYTES);
    fs.linkSync(temporary, path);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  } finally {
    removeSideFile(temporary, 'table', [euid(), store.uid]);
  }
}

/**
 * Maps the table of a store, creating it when `create` (waiters do; writers only ring a table some
 * waiter made: one that is not there has nobody to ring, so they leave no file behind). A string
 * says why it cannot or must not be used (then waiting falls back to polling); undefined is a
 * table that does not exist and was not to be made.
 */
export function mapSidecar(identity: string, store: StoreOwnership, create = true): Int32Array | string | undefined {
  const path = sidecarPath(identity);
  const mode = sideFileMode(store);
  if (typeof mode === 'string') return mode;
  for (let attempt = 0; attempt < TABLE_ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ELOOP') return `the doorbell table ${path} is a symbolic link`;
      if (code !== 'ENOENT') return `cannot open the doorbell table ${path} (${code})`;
      if (!create) return undefined;
      try {
        fd = createTable(path, mode, store);
      } catch (creating) {
        if (errorCode(creating) === 'EEXIST') continue; // another process made it first (or a name was planted): open what is there
        return `cannot create the doorbell table ${path} (${errorCode(creating)})`;
      }
    }
    try {
      const stat = fs.fstatSync(fd);
      const problem = sideFileProblem(stat, `the doorbell table ${path}`, 'table', store, SIDECAR_BYTES);
      if (problem !== undefined) return problem;
      // A second name is either a creator about to remove its temporary one, or a hard link to some other file.
      if (stat.nlink !== 1) {
        if (attempt + 1 < TABLE_ATTEMPTS) {
          sleepSync(SECOND_LINK_WAIT_MS);
          continue;
        }
        return `the doorbell table ${path} has ${stat.nlink} names (a hard link to another file?)`;
      }
      const mapping = mapShared(fd, SIDECAR_BYTES);
      return new Int32Array(mapping.buffer, mapping.byteOffset, SIDECAR_BYTES >>> 2);
    } catch (error) {
      return `cannot map the doorbell table ${path} (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      fs.closeSync(fd);
    }
  }
  return `the doorbell table ${path} kept appearing and vanishing while it was opened`;
}

/** A FIFO we made and listen on: our read end, and a write end of our own that keeps it from reporting end-of-file. */
export interface OwnFifo {
  readonly readFd: number;
  readonly writeFd: number;
}

/**
 * Makes a waiter's FIFO: mkfifo refuses a path that exists (a planted link included) and
 * creates it no wider than `mode` (Node has no mkfifo call; coreutils' mkfifo is on every
 * Linux); both ends are opened without following links and checked to be that FIFO.
 */
export function createFifo(path: string, store: StoreOwnership): OwnFifo | string {
  const mode = sideFileMode(store);
  if (typeof mode === 'string') return mode;
  try {
    childProcess().execFileSync('mkfifo', ['-m', mode.toString(8), '--', path], { stdio: 'ignore' });
  } catch {
    return `cannot make the FIFO ${path} (mkfifo failed: the name is taken, or mkfifo is missing)`;
  }
  let readFd = -1;
  let writeFd = -1;
  let problem: string | undefined;
  try {
    readFd = fs.openSync(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
    const made = fs.fstatSync(readFd);
    if (!made.isFIFO() || made.uid !== euid()) {
      problem = `the FIFO ${path} is not the one this process made`;
    } else {
      settleNewSideFile(readFd, mode, store);
      writeFd = fs.openSync(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW);
      const written = fs.fstatSync(writeFd);
      if (written.dev !== made.dev || written.ino !== made.ino) problem = `the FIFO ${path} was replaced while being opened`;
    }
  } catch (error) {
    problem = `cannot open the FIFO ${path} (${errorCode(error)})`;
  }
  if (problem === undefined) return { readFd, writeFd };
  if (readFd >= 0) fs.closeSync(readFd);
  if (writeFd >= 0) fs.closeSync(writeFd);
  removeSideFile(path, 'fifo', [euid(), store.uid]);
  return problem;
}

/**
 * Opens another waiter's FIFO to ring it: write-only, non-blocking, never following a link,
 * then checked to be a FIFO of an allowed owner before anything is written. Returns the fd or
 * why it must not be used; throws ENXIO (no reader) and ENOENT (no FIFO), which mean a waiter
 * that is gone.
 */
export function openDoorbell(path: string, store: StoreOwnership): number | string {
  let fd: number;
  try {
    fd = fs.openSync(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENXIO' || code === 'ENOENT') throw error;
    return code === 'ELOOP' ? `the FIFO name ${path} is a symbolic link` : `cannot open the FIFO ${path} (${code})`;
  }
  const problem = sideFileProblem(fs.fstatSync(fd), `the FIFO ${path}`, 'fifo', store);
  if (problem === undefined) return fd;
  fs.closeSync(fd);
  return problem;
}

const TEMPORARY_TABLE = /^\.new-\d+-[0-9a-f]+$/;
const FIFO_SUFFIX = /^\.\d+\.\d+$/;

/**
 * Removes a store's table and the FIFOs left beside it (used by Store.unlink): only names of
 * the shapes we make, only regular files (table) and FIFOs owned by us or the store's owner,
 * never through a link.
 */
export function removeSidecar(identity: string, storeUid: number): void {
  const prefix = `.splinter-bus-${identity}`;
  let names: string[] = [];
  try {
    names = fs.readdirSync(SHM_DIR).filter((name) => name === prefix || name.startsWith(`${prefix}.`));
  } catch {
    return;
  }
  const owners = [euid(), storeUid];
  for (const name of names) {
    const suffix = name.slice(prefix.length);
    if (suffix === '' || TEMPORARY_TABLE.test(suffix)) removeSideFile(`${SHM_DIR}/${name}`, 'table', owners);
    else if (FIFO_SUFFIX.test(suffix)) removeSideFile(`${SHM_DIR}/${name}`, 'fifo', owners);
  }
}

/** True when a process with this pid exists (it may belong to another user); only for pids that passed validPid. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
