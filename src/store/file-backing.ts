import fs from 'node:fs';
import { SplinterError } from '../errors.js';
import type { Backing } from './backing.js';
import { chooseRoute, type MappingRoute, type MappingRouteName } from './mapping/index.js';
import { creationUmask, type ResolvedTarget } from './target.js';

const CREATE_MODE = 0o666;

function fsError(error: unknown, target: ResolvedTarget, doing: string): SplinterError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = target.kind === 'shm' ? `shared-memory store "${target.target}" (${target.path})` : `store file ${target.path}`;
  switch (code) {
    case 'ENOENT':
      return new SplinterError('ENOENT', `cannot ${doing} ${where}: it does not exist`, { cause: error });
    case 'EEXIST':
      return new SplinterError('EEXIST', `cannot ${doing} ${where}: something already exists there`, { cause: error });
    case 'ELOOP':
      return new SplinterError('EINVAL', `cannot ${doing} ${where}: it is a symbolic link, which is refused`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new SplinterError('EINVAL', `cannot ${doing} ${where}: permission denied`, { cause: error });
    case 'ENOSPC':
    case 'ENOMEM':
      return new SplinterError('ENOMEM', `cannot ${doing} ${where}: no space left (${code})`, { cause: error });
    default:
      return new SplinterError('EINVAL', `cannot ${doing} ${where}: ${(error as Error).message}`, { cause: error });
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
 * Creates the store file exclusively (O_CREAT|O_EXCL, O_NOFOLLOW for paths) with mode 0666
 * filtered by the umask, or by SPLINTER_DEFAULT_UMASK when set, sizes it and maps it.
 * `initialise` writes the fresh image; on any failure the new file is removed.
 */
export function createFileBacking(
  target: ResolvedTarget,
  size: number,
  route: MappingRouteName | undefined,
  initialise: (bytes: Uint8Array) => void,
): Backing {
  const mappingRoute = chooseRoute(route); // before creating anything: ENOTSUP leaves nothing behind
  const umask = creationUmask();
  const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const flags = O_RDWR | O_CREAT | O_EXCL | (target.kind === 'file' ? O_NOFOLLOW : 0);
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
    fs.ftruncateSync(fd, size);
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
    try {
      fs.unlinkSync(target.path);
    } catch {
      // already gone: nothing to clean
    }
    throw error instanceof SplinterError ? error : fsError(error, target, 'create');
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens an existing store file read-write and maps all of it; validation is the caller's. */
export function openFileBacking(
  target: ResolvedTarget,
  route: MappingRouteName | undefined,
): { backing: Backing; size: number } | { size: number } {
  const mappingRoute = chooseRoute(route);
  let fd: number;
  try {
    fd = fs.openSync(target.path, fs.constants.O_RDWR);
  } catch (error) {
    throw fsError(error, target, 'open');
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      throw new SplinterError('EINVAL', `cannot open ${target.path}: it is not a regular file`);
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

/** Removes a store's file or shared-memory object. */
export function unlinkTarget(target: ResolvedTarget): void {
  try {
    fs.unlinkSync(target.path);
  } catch (error) {
    throw fsError(error, target, 'unlink');
  }
}
