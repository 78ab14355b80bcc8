/**
 * The mmap-io route: the native addon @riaskov/mmap-io, where it is installed and compiled for
 * the running Node. It takes sizes and madvise ranges as C `int`, so it maps at most 2^31 - 1
 * bytes, and it has no munmap: a mapping goes when the addon's Buffer is garbage-collected.
 */
import { createRequire } from 'node:module';
import { SplinterError } from '../../../errors.js';
import { ADVICE_CODE, detach, transientLoadFailure, type Mapping, type MappingRoute } from './route.js';

export const MMAP_IO_PACKAGE = '@riaskov/mmap-io';

/** What we use of the addon; its own typings do not resolve under NodeNext. */
interface MmapAddon {
  map(size: number, protection: number, flags: number, fd: number, offset?: number): Buffer;
  advise(buffer: Buffer, offset: number, length: number, advice: number): void;
  sync(buffer: Buffer, offset?: number, size?: number, blockingSync?: boolean, invalidatePages?: boolean): void;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
  readonly PAGESIZE: number;
}

/** The addon reads sizes, offsets and lengths as C `int`. */
export const MMAP_IO_MAX_BYTES = 0x7fffffff;

let addon: MmapAddon | undefined;
let loadError: unknown;

export function loadMmapIo(): MmapAddon {
  if (addon !== undefined) return addon;
  if (loadError !== undefined) throw loadError;
  try {
    const required = createRequire(import.meta.url)(MMAP_IO_PACKAGE) as MmapAddon | { default: MmapAddon };
    addon = 'default' in required ? required.default : required;
    return addon;
  } catch (error) {
    if (transientLoadFailure(error) === undefined) loadError = error; // EMFILE now may load later
    throw error;
  }
}

/** The addon's errors end in the errno ("mmap failed, 12"). */
function failure(call: string, error: unknown): SplinterError {
  const message = error instanceof Error ? error.message : String(error);
  const errno = /(\d+)\s*$/.exec(message)?.[1];
  const code = errno === '12' ? 'ENOMEM' : errno === '11' ? 'EAGAIN' : 'EINVAL';
  return new SplinterError(code, `${call} failed: ${message}`, { cause: error });
}

class MmapIoMapping implements Mapping {
  readonly route = 'mmap-io' as const;
  readonly bytes: Uint8Array;
  private buffer: Buffer | undefined;

  constructor(
    private readonly mmap: MmapAddon,
    buffer: Buffer,
  ) {
    this.buffer = buffer;
    this.bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  }

  advise(offset: number, length: number, advice: keyof typeof ADVICE_CODE): void {
    const buffer = this.buffer;
    if (buffer === undefined) throw new SplinterError('ECLOSED', 'madvise on an unmapped store');
    if (offset + length > MMAP_IO_MAX_BYTES) {
      throw new SplinterError(
        'ENOTSUP',
        `madvise reaches mapping byte ${offset + length}; the mmap-io route advises only the first ${MMAP_IO_MAX_BYTES} bytes (the koffi route has no such limit)`,
      );
    }
    try {
      this.mmap.advise(buffer, offset, length, ADVICE_CODE[advice]);
    } catch (error) {
      throw failure(`madvise('${advice}') of mapping bytes ${offset}..${offset + length}`, error);
    }
  }

  sync(): void {
    const buffer = this.buffer;
    if (buffer !== undefined) this.mmap.sync(buffer, 0, buffer.length, true, false);
  }

  unmap(): void {
    const buffer = this.buffer;
    if (buffer === undefined) return;
    this.buffer = undefined;
    // Detaching (Node 21+) hands the bytes to the addon's finalizer, which unmaps them; on Node 20
    // the mapping stays until the Buffer and every view over it are collected (docs/api.md).
    detach(buffer.buffer);
  }
}

export const mmapIoRoute: MappingRoute = {
  name: 'mmap-io',
  maxBytes: MMAP_IO_MAX_BYTES,
  checkSize(size) {
    if (size > MMAP_IO_MAX_BYTES) {
      throw new SplinterError(
        'ENOTSUP',
        `a store of ${size} bytes cannot be mapped by the mmap-io route, which maps at most ${MMAP_IO_MAX_BYTES} bytes (C int sizes); use the koffi route (npm install koffi)`,
      );
    }
  },
  map(fd, size) {
    const mmap = loadMmapIo();
    this.checkSize(size);
    let buffer: Buffer;
    try {
      buffer = mmap.map(size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0);
    } catch (error) {
      throw failure(`mmap of ${size} bytes`, error);
    }
    return new MmapIoMapping(mmap, buffer);
  },
  pageSize() {
    return loadMmapIo().PAGESIZE;
  },
};
