import fs from 'node:fs';
import { SplinterError } from '../../errors.js';
import { HEADER, SPLINTER_MAGIC, SPLINTER_VER } from '../../layout/constants.js';
import type { Backing } from './backing.js';
import { chooseRoute, type MappingRoute, type MappingRouteName } from './mapping/index.js';
import { reserveSpace } from './reserve.js';
import { creationUmask, type ResolvedTarget } from './target.js';

const CREATE_MODE = 0o666;
/** Mode bits that let the file's group or everyone else write it. */
const WRITE_BY_OTHERS = 0o022;
/**
 * How long after its last change a file with no magic yet may still be a creation in progress
 * (ours or C's: a reservation of gigabytes takes seconds); older, it is a creation that died.
 */
export const CREATION_GRACE_MS = 10_000;

function describeTarget(target: ResolvedTarget): string {
  return target.kind === 'shm' ? `shared-memory store "${target.target}" (${target.path})` : `store file ${target.path}`;
}

function fsError(error: unknown, target: ResolvedTarget, doing: string): SplinterError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = describeTarget(target);
  switch (code) {
    case 'ENOENT':
      return new SplinterError('ENOENT', `cannot ${doing} ${where}: it does not exist`, { cause: error });
    case 'EEXIST':
      return new SplinterError('EEXIST', `cannot ${doing} ${where}: something already exists there`, { cause: error });
    case 'ELOOP':
      return new SplinterError('ELOOP', `cannot ${doing} ${where}: it is a symbolic link, which is refused (as C's shm_open refuses it)`, {
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
      return new SplinterError('EACCES', `cannot ${doing} ${where}: permission denied (${code}) by the file's mode or its folder's`, {
        cause: error,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new SplinterError('ENOSPC', `cannot ${doing} ${where}: no space left on the file system (${code})`, { cause: error });
    case 'ENOMEM':
      return new SplinterError('ENOMEM', `cannot ${doing} ${where}: out of memory (${code})`, { cause: error });
    case 'EMFILE':
    case 'ENFILE':
      return new SplinterError('EMFILE', `cannot ${doing} ${where}: too many open files (${code}); close some and retry`, { cause: error });
    default:
      return new SplinterError('EINVAL', `cannot ${doing} ${where}: ${(error as Error).message}`, { cause: error });
  }
}

/** The ENOSPC of a store the file system cannot hold: named with its size, and nothing left behind. */
function noRoom(error: unknown, target: ResolvedTarget, size: number): SplinterError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'ENOMEM' && code !== 'EFBIG') return fsError(error, target, 'create');
  return new SplinterError(
    'ENOSPC',
    `cannot create ${describeTarget(target)}: the file system has no room for its ${size} bytes (${code} when reserving them); ` +
      `nothing was left behind`,
    { cause: error },
  );
}

/** Removes the file we created at `path`, only if the name still names it (dev and ino of `fd`). */
function removeOwnFile(path: string, fd: number): void {
  try {
    const made = fs.fstatSync(fd);
    const named = fs.lstatSync(path);
    if (named.dev === made.dev && named.ino === made.ino) fs.unlinkSync(path);
  } catch {
    // already gone: nothing to clean
  }
}

function mappedBacking(target: ResolvedTarget, fd: number, size: number, route: MappingRoute): Backing {
  const { dev, ino } = fs.fstatSync(fd);
  const mapping = route.map(fd, size);
  const persistent = target.kind === 'file';
  return {
    kind: target.kind,
    identity: `${dev}-${ino}`,
    mapping: mapping.route,
    bytes: mapping.bytes,
    flush() {
      if (persistent) mapping.sync();
    },
    advise(offset, length, advice) {
      mapping.advise(offset, length, advice);
    },
    release() {
      try {
        if (persistent) mapping.sync();
      } finally {
        mapping.unmap();
      }
    },
  };
}

/**
 * Creates the store file exclusively (O_CREAT|O_EXCL, O_NOFOLLOW) with mode 0666 filtered by the
 * umask, or by SPLINTER_DEFAULT_UMASK when set, reserves all its bytes (reserve.ts: ENOSPC here,
 * never SIGBUS later) and maps it. `initialise` writes the fresh image; on any failure the new
 * file is removed.
 */
export function createFileBacking(
  target: ResolvedTarget,
  size: number,
  route: MappingRouteName | undefined,
  initialise: (bytes: Uint8Array) => void,
): Backing {
  const mappingRoute = chooseRoute(route); // before creating anything: ENOTSUP leaves nothing behind
  mappingRoute.checkSize(size); // likewise, and before gigabytes are reserved for a mapping that cannot be made
  const umask = creationUmask();
  const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW;
  // With an explicit umask, never let the file be wider than asked, not even before fchmod.
  const mode = umask === undefined ? CREATE_MODE : CREATE_MODE & ~umask;
  let fd: number;
  try {
    fd = fs.openSync(target.path, flags, mode);
  } catch (error) {
    throw fsError(error, target, 'create');
  }
  try {
    if (umask !== undefined) fs.fchmodSync(fd, mode);
    try {
      reserveSpace(fd, size, mappingRoute.name);
    } catch (error) {
      throw noRoom(error, target, size);
    }
    const backing = mappedBacking(target, fd, size, mappingRoute);
    try {
      initialise(backing.bytes);
      backing.flush();
    } catch (error) {
      backing.release();
      throw error;
    }
    return backing;
  } catch (error) {
    removeOwnFile(target.path, fd);
    throw error instanceof SplinterError ? error : fsError(error, target, 'create');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Why a store file must not be trusted without `trustShared`: another owner than us or root, or a
 * mode that lets group or others write (they could read what we write, or change it under us).
 */
function sharedProblem(stat: fs.Stats): string | undefined {
  const me = process.geteuid?.();
  if (me === undefined) return undefined; // no users to tell apart off POSIX
  const mode = stat.mode & 0o777;
  if (stat.uid !== me && stat.uid !== 0) return `it belongs to uid ${stat.uid}, neither this process (uid ${me}) nor root`;
  if ((mode & WRITE_BY_OTHERS) !== 0) {
    const who = (mode & WRITE_BY_OTHERS) === WRITE_BY_OTHERS ? 'its group and everyone else' : mode & 0o020 ? 'its group' : 'everyone else';
    return `its mode 0${mode.toString(8)} lets ${who} write it`;
  }
  return undefined;
}

/**
 * Opens an existing store file read-write and maps all of it; validation is the caller's. A
 * shared-memory name is never followed through a symbolic link (ELOOP, as C's shm_open); a store
 * another user owns or others may write is EPERM unless `trustShared`.
 */
export function openFileBacking(
  target: ResolvedTarget,
  route: MappingRouteName | undefined,
  trustShared = false,
): { backing: Backing; size: number } | { size: number } {
  const mappingRoute = chooseRoute(route);
  const { O_RDWR, O_NOFOLLOW } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(target.path, O_RDWR | (target.kind === 'shm' ? O_NOFOLLOW : 0));
  } catch (error) {
    throw fsError(error, target, 'open');
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      throw new SplinterError('EINVAL', `cannot open ${target.path}: it is not a regular file`);
    }
    const problem = trustShared ? undefined : sharedProblem(stat);
    if (problem !== undefined) {
      throw new SplinterError(
        'EPERM',
        `refusing to open ${describeTarget(target)}: ${problem}; pass the option trustShared: true (splinter --trust-shared) ` +
          `to use a store shared with other users`,
      );
    }
    const size = stat.size;
    // Nothing mappable: the caller decides whether it is still being created or corrupt.
    if (size === 0) return { size };
    return { backing: mappedBacking(target, fd, size, mappingRoute), size };
  } catch (error) {
    throw error instanceof SplinterError ? error : fsError(error, target, 'open');
  } finally {
    fs.closeSync(fd);
  }
}

/** What the file at a store's name holds, judged by its first bytes, without following a link. */
export type StoreFileState =
  | { kind: 'store' }
  /** No magic yet: a creation in progress (changed `ageMs` ago, within CREATION_GRACE_MS) or one that died. */
  | { kind: 'unfinished'; ageMs: number; inProgress: boolean }
  | { kind: 'other' };

/**
 * Tells a store from a creation that has not written its magic (the magic comes last: all zeros,
 * or a version word of 0 or 4 with the magic still 0) and from any other file.
 */
export function storeFileState(path: string): StoreFileState {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return { kind: 'other' };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { kind: 'other' };
    const head = Buffer.alloc(HEADER.version + 4);
    const read = fs.readSync(fd, head, 0, head.length, 0);
    if (read >= 4 && head.readUInt32LE(HEADER.magic) === SPLINTER_MAGIC) return { kind: 'store' };
    const noMagic = head.readUInt32LE(HEADER.magic) === 0; // a short read leaves zeros
    const version = head.readUInt32LE(HEADER.version);
    if (!noMagic || (version !== 0 && version !== SPLINTER_VER)) return { kind: 'other' };
    const ageMs = Math.max(0, Date.now() - stat.mtimeMs);
    return { kind: 'unfinished', ageMs, inProgress: ageMs < CREATION_GRACE_MS };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Removes a store's file or shared-memory object: also one a creation left without its magic,
 * but not while that creation may still be running (EBUSY, CREATION_GRACE_MS).
 */
export function unlinkTarget(target: ResolvedTarget): void {
  const state = storeFileState(target.path);
  if (state.kind === 'unfinished' && state.inProgress) {
    throw new SplinterError(
      'EBUSY',
      `cannot unlink ${describeTarget(target)}: it has no magic yet and changed ${Math.round(state.ageMs)} ms ago, so another process ` +
        `may be creating it right now; once untouched for ${CREATION_GRACE_MS / 1000} s it counts as a creation that died and can be removed`,
    );
  }
  try {
    fs.unlinkSync(target.path);
  } catch (error) {
    throw fsError(error, target, 'unlink');
  }
}
