/**
 * Reserving a new store's space before it is mapped: sized by ftruncate alone, a store on a full
 * file system is a sparse file whose first write to a missing page is SIGBUS, which kills the
 * process. Reserved here, the shortage is an errno at create instead.
 */
import fs from 'node:fs';
import { loadKoffi } from './mapping/koffi.js';
import type { MappingRouteName } from './mapping/index.js';

/** How many zero bytes one write of the fallback puts down. */
const ZERO_CHUNK = 1 << 20;

/** Linux errno numbers posix_fallocate returns, by name (the same on every architecture Node ships for). */
const ERRNO: Record<number, string> = {
  1: 'EPERM',
  4: 'EINTR',
  5: 'EIO',
  9: 'EBADF',
  12: 'ENOMEM',
  19: 'ENODEV',
  22: 'EINVAL',
  27: 'EFBIG',
  28: 'ENOSPC',
  29: 'ESPIPE',
  38: 'ENOSYS',
  95: 'EOPNOTSUPP',
  122: 'EDQUOT',
};

/** What the file system answers when it cannot preallocate at all (then zeros are written instead). */
const CANNOT_PREALLOCATE = new Set(['EOPNOTSUPP', 'EINVAL', 'ENOSYS']);

function errnoError(errno: number, call: string): NodeJS.ErrnoException {
  const code = ERRNO[errno] ?? `errno ${errno}`;
  return Object.assign(new Error(`${call}: ${code}`), { code, errno: -errno, syscall: call });
}

/** Writes zeros over the whole file: each block is then allocated, or the write fails (ENOSPC). */
function writeZeros(fd: number, size: number): void {
  const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, size));
  let position = 0;
  while (position < size) {
    const length = Math.min(zeros.length, size - position);
    // A short write is followed by one that reports why (ENOSPC), so the loop never spins.
    position += fs.writeSync(fd, zeros, 0, length, position);
  }
}

/**
 * Gives the new, empty file at `fd` all of its `size` bytes, allocated: posix_fallocate on the
 * koffi route (glibc emulates it where the file system lacks fallocate; where it still refuses,
 * zeros are written); zeros written on the mmap-io route, which has no libc call. Throws the
 * errno error (ENOSPC, EDQUOT, ENOMEM, EFBIG, …) when the space is not there.
 */
export function reserveSpace(fd: number, size: number, route: MappingRouteName): void {
  if (size === 0) return;
  if (route === 'koffi') {
    const fallocate = loadKoffi().fallocate;
    if (fallocate !== undefined) {
      const errno = fallocate(fd, 0, size);
      if (errno === 0) return;
      const error = errnoError(errno, 'posix_fallocate');
      if (!CANNOT_PREALLOCATE.has(error.code!)) throw error;
    }
  }
  writeZeros(fd, size);
}
