/**
 * The koffi route: libc's mmap, munmap, madvise and msync called through koffi, an FFI whose
 * prebuilt binaries come inside its registry packages (one Node-API binary for every Node
 * version): nothing is compiled at install. Sizes and offsets are full 64-bit values.
 */
import { createRequire } from 'node:module';
import { SplinterError } from '../../../errors.js';
import { ADVICE_CODE, detach, transientLoadFailure, type Mapping, type MappingRoute } from './route.js';

export const KOFFI_PACKAGE = 'koffi';

/** What we use of koffi; its typings do not matter for these few calls. */
interface Koffi {
  load(path: string | null): { func(signature: string): (...args: unknown[]) => unknown };
  view(address: number, length: number): ArrayBuffer;
  errno(): number;
}

interface Libc {
  mmap(addr: number, length: number, prot: number, flags: number, fd: number, offset: number): number | bigint;
  munmap(addr: number, length: number): number;
  madvise(addr: number, length: number, advice: number): number;
  msync(addr: number, length: number, flags: number): number;
  /** posix_fallocate: 0, or the errno (it does not set errno); undefined where libc lacks it. */
  fallocate: ((fd: number, offset: number, length: number) => number) | undefined;
  pageSize: number;
  koffi: Koffi;
}

// Linux values, shared by x64, arm64, arm, ia32 and riscv64.
const PROT_READ = 0x1;
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_NORESERVE = 0x4000;
const MS_SYNC = 4;

let libc: Libc | undefined;
let loadError: unknown;

/** Binds posix_fallocate with a 64-bit offset (the *64 name is the one 32-bit glibc needs); undefined if neither is there. */
function bindFallocate(bind: (signature: string) => (...args: unknown[]) => unknown): Libc['fallocate'] {
  for (const name of ['posix_fallocate64', 'posix_fallocate']) {
    try {
      return bind(`int ${name}(int fd, int64_t offset, int64_t len)`) as Libc['fallocate'];
    } catch {
      // not exported by this libc: try the other name
    }
  }
  return undefined;
}

/**
 * Loads koffi and binds the calls once; throws what went wrong. A lasting failure is remembered;
 * a transient one (EMFILE at that moment) is not, so a later open tries again.
 */
export function loadKoffi(): Libc {
  if (libc !== undefined) return libc;
  if (loadError !== undefined) throw loadError;
  try {
    if (process.platform !== 'linux') throw new Error(`the koffi route binds Linux's libc; this is ${process.platform}`);
    const koffi = createRequire(import.meta.url)(KOFFI_PACKAGE) as Koffi;
    const self = koffi.load(null); // the running node binary: libc's symbols, whichever libc it is
    // Addresses as uintptr_t: a number for every real address, a bigint only for MAP_FAILED (-1).
    const bind = self.func.bind(self);
    const mmap = bind('uintptr_t mmap(uintptr_t addr, size_t length, int prot, int flags, int fd, int64_t offset)');
    const munmap = bind('int munmap(uintptr_t addr, size_t length)');
    const madvise = bind('int madvise(uintptr_t addr, size_t length, int advice)');
    const msync = bind('int msync(uintptr_t addr, size_t length, int flags)');
    const getpagesize = bind('int getpagesize()');
    libc = {
      mmap: mmap as Libc['mmap'],
      munmap: munmap as Libc['munmap'],
      madvise: madvise as Libc['madvise'],
      msync: msync as Libc['msync'],
      fallocate: bindFallocate(bind),
      pageSize: getpagesize() as number,
      koffi,
    };
    return libc;
  } catch (error) {
    if (transientLoadFailure(error) === undefined) loadError = error;
    throw error;
  }
}

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 19: 'ENODEV', 22: 'EINVAL', 75: 'EOVERFLOW' };

function failure(call: string, errno: number): SplinterError {
  const name = ERRNO_NAMES[errno] ?? `errno ${errno}`;
  return new SplinterError(errno === 12 ? 'ENOMEM' : errno === 11 ? 'EAGAIN' : 'EINVAL', `${call} failed: ${name}`);
}

/**
 * Mappings whose bytes may still be reachable from JavaScript (Node 20 cannot detach a buffer):
 * their address range is unmapped once the last object over it has been collected.
 */
const unmapWhenCollected = new FinalizationRegistry<{ address: number; size: number }>(({ address, size }) => {
  libc?.munmap(address, size);
});

function mapRaw(c: Libc, fd: number, size: number): number {
  const address = c.mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (typeof address !== 'number') throw failure(`mmap of ${size} bytes`, c.koffi.errno());
  return address;
}

class KoffiMapping implements Mapping {
  readonly route = 'koffi' as const;
  readonly bytes: Uint8Array;
  private live = true;

  constructor(
    private readonly c: Libc,
    private readonly address: number,
    private readonly size: number,
    private readonly buffer: ArrayBuffer,
  ) {
    this.bytes = new Uint8Array(buffer);
  }

  advise(offset: number, length: number, advice: keyof typeof ADVICE_CODE): void {
    if (!this.live) throw new SplinterError('ECLOSED', 'madvise on an unmapped store');
    if (this.c.madvise(this.address + offset, length, ADVICE_CODE[advice]) !== 0) {
      throw failure(`madvise('${advice}') of mapping bytes ${offset}..${offset + length}`, this.c.koffi.errno());
    }
  }

  sync(): void {
    if (!this.live) return;
    if (this.c.msync(this.address, this.size, MS_SYNC) !== 0) throw failure(`msync of ${this.size} bytes`, this.c.koffi.errno());
  }

  unmap(): void {
    if (!this.live) return;
    this.live = false;
    const { c, address, size } = this;
    if (detach(this.buffer)) {
      // Nothing in JavaScript reaches these bytes any more: unmap now.
      c.munmap(address, size);
      return;
    }
    // Views over the buffer may outlive the handle. Put private zero pages in place of the file
    // (one call, no gap another mmap could take): stale views read zeros and write only there,
    // the file is let go now, and the range is unmapped when the last view is collected.
    // If the kernel refuses (ENOMEM), the file stays mapped until then: never a hole under a view.
    c.mmap(address, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    unmapWhenCollected.register(this.buffer, { address, size });
  }
}

export const koffiRoute: MappingRoute = {
  name: 'koffi',
  // A JavaScript typed array can index up to 2^53 - 1 bytes; the format stops far below.
  maxBytes: Number.MAX_SAFE_INTEGER,
  checkSize() {}, // every store size the format allows
  map(fd, size) {
    const c = loadKoffi();
    const address = mapRaw(c, fd, size);
    return new KoffiMapping(c, address, size, c.koffi.view(address, size));
  },
  pageSize() {
    return loadKoffi().pageSize;
  },
};

/** A mapping that lives as long as the returned Buffer (for small side tables with no close of their own). */
export function mapCollected(fd: number, size: number): Buffer {
  const c = loadKoffi();
  const address = mapRaw(c, fd, size);
  const buffer = c.koffi.view(address, size);
  unmapWhenCollected.register(buffer, { address, size });
  return Buffer.from(buffer, 0, size);
}
