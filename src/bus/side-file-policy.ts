/**
 * What a side file of a store (the doorbell table, a FIFO) may be, judged against the store
 * file itself: who may own it, which mode it is made with, and the check every side file
 * passes after it is opened (fstat on the open descriptor, so nothing can swap it after the
 * check). A side file that fails is not used; the process says so once (SPLINTER_SIDEFILE).
 */
import fs from 'node:fs';
import { SplinterError } from '../errors.js';
import { creationUmask } from '../store/backing/target.js';

/** Who owns the store file and what its mode allows: the yardstick for every side file. */
export interface StoreOwnership {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits of the store file. */
  readonly mode: number;
}

export const SIDE_FILE_WARNING = 'SPLINTER_SIDEFILE';
const WRITE_BY_GROUP = 0o020;
const PERMISSION_BITS = 0o777;
const READ_WRITE_BITS = 0o666;

/** The effective uid of this process (-1 where there is none, off POSIX). */
export const euid = (): number => process.geteuid?.() ?? -1;

/**
 * The store file's owner and mode, read by path and accepted only when the path still names the
 * store we mapped (same device and inode); otherwise a reason not to use side files.
 */
export function storeOwnership(storePath: string, identity: string): StoreOwnership | string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(storePath);
  } catch (error) {
    return `cannot stat the store file ${storePath} (${(error as NodeJS.ErrnoException).code})`;
  }
  if (`${stat.dev}-${stat.ino}` !== identity) return `${storePath} no longer names the store this process mapped`;
  return { uid: stat.uid, gid: stat.gid, mode: stat.mode & PERMISSION_BITS };
}

/**
 * The mode side files are made with: the store's read/write bits, narrowed by
 * SPLINTER_DEFAULT_UMASK when set; never wider than the store's own mode.
 */
export function sideFileMode(store: StoreOwnership): number | string {
  let umask: number | undefined;
  try {
    umask = creationUmask();
  } catch (error) {
    return (error as SplinterError).message;
  }
  return store.mode & READ_WRITE_BITS & ~(umask ?? 0);
}

/** Our euid, or the store's owner: the only owners a side file may have. */
export function allowedOwner(uid: number, store: StoreOwnership): boolean {
  return uid === euid() || uid === store.uid;
}

/**
 * Why an opened side file must not be used, or undefined when it may: its kind, its owner, a
 * mode that lets anyone write whom the store does not let write (or read), and its size.
 */
export function sideFileProblem(
  stat: fs.Stats,
  path: string,
  kind: 'table' | 'fifo',
  store: StoreOwnership,
  expectedSize?: number,
): string | undefined {
  if (kind === 'table' ? !stat.isFile() : !stat.isFIFO()) {
    return `${path} is not a ${kind === 'table' ? 'regular file' : 'FIFO'}`;
  }
  if (!allowedOwner(stat.uid, store)) {
    return `${path} belongs to uid ${stat.uid}, neither this process (uid ${euid()}) nor the store's owner (uid ${store.uid})`;
  }
  const wider = stat.mode & PERMISSION_BITS & ~store.mode;
  if (wider !== 0) {
    return `${path} has mode 0${(stat.mode & PERMISSION_BITS).toString(8)}, wider than the store's 0${store.mode.toString(8)}`;
  }
  // Group write counts only for the store's own group: another group's members are nobody the store lets in.
  if ((stat.mode & WRITE_BY_GROUP) !== 0 && stat.gid !== store.gid) {
    return `${path} is writable by group ${stat.gid}, not the store's group ${store.gid}`;
  }
  if (expectedSize !== undefined && stat.size !== expectedSize) {
    return `${path} is ${stat.size} bytes, not ${expectedSize}`;
  }
  return undefined;
}

/**
 * Gives a side file we just made the exact mode (the process umask cannot widen it, and a
 * narrower umask cannot narrow it below what other processes of ours need), and the store's
 * owner and group where we may (root may; others keep their own uid, and drop group bits the
 * store's group would not get).
 */
export function settleNewSideFile(fd: number, mode: number, store: StoreOwnership): void {
  let settled = mode;
  try {
    const stat = fs.fstatSync(fd);
    if (stat.uid !== store.uid || stat.gid !== store.gid) fs.fchownSync(fd, store.uid, store.gid);
  } catch {
    try {
      if (fs.fstatSync(fd).gid !== store.gid) fs.fchownSync(fd, -1, store.gid);
    } catch {
      settled = mode & ~0o070;
    }
  }
  fs.fchmodSync(fd, settled);
}

let warned = false;

/** Says once per process that a side file was refused and waiting falls back to polling. */
export function warnSideFile(problem: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(`splinter: ${problem}; this side file is not used, and waiting on the store falls back to polling`, {
    code: SIDE_FILE_WARNING,
  });
}

/**
 * Removes a side file only if it is ours to remove: never follows a link (lstat, and unlink
 * removes the name, not what a link points to), and leaves anything of another kind or owner.
 */
export function removeSideFile(path: string, kind: 'table' | 'fifo', allowedUids: readonly number[]): void {
  try {
    const stat = fs.lstatSync(path);
    const rightKind = kind === 'table' ? stat.isFile() : stat.isFIFO();
    if (!rightKind || !allowedUids.includes(stat.uid)) return;
    fs.unlinkSync(path);
  } catch {
    // already gone, or not ours to remove
  }
}
