/** What a way of mapping a file (a "mapping route") offers the store; each route lives in its own file. */

export type MappingRouteName = 'koffi' | 'mmap-io';

export type Advice = 'normal' | 'random' | 'sequential' | 'willneed' | 'dontneed';

/** madvise advice numbers: the same on every Linux architecture Node ships for. */
export const ADVICE_CODE: Record<Advice, number> = { normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4 };

/** One shared, read-write mapping of a whole file. */
export interface Mapping {
  readonly route: MappingRouteName;
  /** The mapped bytes; never touched by the library after `unmap()`. */
  readonly bytes: Uint8Array;
  /** madvise on `length` bytes from `offset` (page-aligned), both full 64-bit sizes. */
  advise(offset: number, length: number, advice: Advice): void;
  /** msync(MS_SYNC) of the whole mapping: dirty pages reach the file before it returns. */
  sync(): void;
  /**
   * Lets go of the mapping. No view over `bytes` may reach the file afterwards: the route
   * detaches or neutralises what it can (docs/api.md, "Closing").
   */
  unmap(): void;
}

export interface MappingRoute {
  readonly name: MappingRouteName;
  /** The largest mapping the route can make, in bytes. */
  readonly maxBytes: number;
  /** ENOTSUP when the route cannot map `size` bytes: create asks before it makes or reserves anything. */
  checkSize(size: number): void;
  /** Maps `size` bytes of `fd` shared and read-write. */
  map(fd: number, size: number): Mapping;
  pageSize(): number;
}

/**
 * Detaches an ArrayBuffer where the runtime can (ArrayBuffer.prototype.transfer: Node 21 and
 * later): every typed array over it then has length 0. False where it cannot (Node 20).
 */
export function detach(buffer: ArrayBufferLike): boolean {
  const transfer = (buffer as ArrayBuffer & { transfer?: (length?: number) => ArrayBuffer }).transfer;
  if (typeof transfer !== 'function') return false;
  try {
    transfer.call(buffer, 0); // length 0: the new buffer copies nothing, so nothing keeps the old bytes
    return (buffer as ArrayBuffer & { detached?: boolean }).detached === true || buffer.byteLength === 0;
  } catch {
    return false; // a buffer the runtime refuses to detach
  }
}

/** Error codes of a load that may work a moment later: never remembered as "not installed". */
const TRANSIENT = /\b(EMFILE|ENFILE|ENOMEM|EAGAIN|EINTR)\b|too many open files|cannot allocate memory|resource temporarily unavailable/i;

/**
 * The transient errno behind a failed load (a descriptor or memory shortage at that moment), or
 * undefined for a lasting failure (missing package, wrong platform, an addon built for another Node).
 */
export function transientLoadFailure(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && TRANSIENT.test(code)) return code;
  const message = error instanceof Error ? error.message : String(error);
  const match = TRANSIENT.exec(message);
  if (match === null) return undefined;
  if (match[1] !== undefined) return match[1].toUpperCase();
  return /open files/i.test(match[0]) ? 'EMFILE' : /memory/i.test(match[0]) ? 'ENOMEM' : 'EAGAIN';
}
