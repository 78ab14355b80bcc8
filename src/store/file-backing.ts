import fs from 'node:fs';
import { SplinterError } from '../errors.js';
import type { Backing } from './backing.js';
import { adviseMapping, mapShared, syncMapping } from './native-mmap.js';
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

function mappedBacking(target: ResolvedTarget, fd: number, size: number): Backing {
  const mapping = mapShared(fd, size);
  const bytes = new Uint8Array(mapping.buffer, mapping.byteOffset, size);
  const persistent = target.kind === 'file';
  const { dev, ino } = fs.fstatSync(fd);
  return {
    kind: target.kind,
    identity: `${dev}-${ino}`,
    bytes,
    flush() {
      if (persistent) syncMapping(mapping);
    },
    advise(offset, length, advice) {
      adviseMapping(mapping, offset, length, advice);
    },
    release() {
      if (persistent) syncMapping(mapping);
    },
  };
}

/**
 * Creates the store file exclusively (O_CREAT|O_EXCL, O_NOFOLLOW for paths) with mode 0666
 * filtered by the umask, or by SPLINTER_DEFAULT_UMASK when set, sizes it and maps it.
 * `initialise` writes the fresh image; on any failure the new file is removed.
 */
export function createFileBacking(target: ResolvedTarget, size: number, initialise: (bytes: Uint8Array) => void): Backing {
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
    const backing = mappedBacking(target, fd, size);
    initialise(backing.bytes);
    backing.flush();
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
export function openFileBacking(target: ResolvedTarget): { backing: Backing; size: number } | { size: number } {
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
    return { backing: mappedBacking(target, fd, size), size };
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
