/**
 * The one place that touches the optional native mmap addon (@riaskov/mmap-io).
 * It is loaded lazily so the library imports, and SharedArrayBuffer stores work,
 * on a machine where the addon could not be built.
 */
import { createRequire } from 'node:module';
import { SplinterError } from '../errors.js';

/** What we use of the addon; its own typings do not resolve under NodeNext. */
interface MmapAddon {
  map(size: number, protection: number, flags: number, fd: number, offset?: number): Buffer;
  advise(buffer: Buffer, offset: number, length: number, advice: number): void;
  sync(buffer: Buffer, offset?: number, size?: number, blockingSync?: boolean, invalidatePages?: boolean): void;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
  readonly MADV_NORMAL: number;
  readonly MADV_RANDOM: number;
  readonly MADV_SEQUENTIAL: number;
  readonly MADV_WILLNEED: number;
  readonly MADV_DONTNEED: number;
  readonly PAGESIZE: number;
}

export const MMAP_PACKAGE = '@riaskov/mmap-io';

let addon: MmapAddon | undefined;
let loadError: unknown;

function load(): MmapAddon {
  if (addon !== undefined) return addon;
  if (loadError === undefined) {
    try {
      const required = createRequire(import.meta.url)(MMAP_PACKAGE) as MmapAddon | { default: MmapAddon };
      addon = 'default' in required ? required.default : required;
      return addon;
    } catch (error) {
      loadError = error;
    }
  }
  throw new SplinterError(
    'ENOTSUP',
    `shared-memory and file stores need the native addon ${MMAP_PACKAGE}, which could not be loaded ` +
      `(${loadError instanceof Error ? loadError.message.split('\n')[0] : String(loadError)}); ` +
      `install it with \`npm install ${MMAP_PACKAGE}\` (it compiles with node-gyp: python3, make and a C++ compiler), ` +
      `or use Store.createShared() for a SharedArrayBuffer store`,
    { cause: loadError },
  );
}

/** True when the addon can be loaded on this machine. */
export function nativeMmapAvailable(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

/** Maps `size` bytes of `fd` shared and read-write. The mapping lives until the Buffer is collected. */
export function mapShared(fd: number, size: number): Buffer {
  const mmap = load();
  return mmap.map(size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0);
}

/** Writes dirty pages of the mapping back to its file, waiting for completion. */
export function syncMapping(buffer: Buffer): void {
  load().sync(buffer, 0, buffer.length, true, false);
}

export type Advice = 'normal' | 'random' | 'sequential' | 'willneed' | 'dontneed';

export function adviseMapping(buffer: Buffer, offset: number, length: number, advice: Advice): void {
  const mmap = load();
  const code = {
    normal: mmap.MADV_NORMAL,
    random: mmap.MADV_RANDOM,
    sequential: mmap.MADV_SEQUENTIAL,
    willneed: mmap.MADV_WILLNEED,
    dontneed: mmap.MADV_DONTNEED,
  }[advice];
  mmap.advise(buffer, offset, length, code);
}

export function pageSize(): number {
  return load().PAGESIZE;
}
