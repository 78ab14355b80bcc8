/**
 * Byte copies between the store and callers' arrays without allocating: 4 bytes at a time
 * through Int32Array views when both sides are 4-byte aligned (Int32, not Float64: a float
 * view could canonicalise NaN bit patterns), byte by byte otherwise. The word view of the
 * caller's last array is remembered by identity, so reusing an array (the common case)
 * allocates nothing and reads neither `.buffer` nor `.byteOffset` (both are slow calls).
 */
export class Copier {
  private lastArray: Uint8Array | undefined;
  private lastWords: Int32Array = new Int32Array(0);
  /** Word index of the last array's first byte, or -1 when it does not start on a 4-byte boundary. */
  private lastWordStart = -1;

  /** Two views of the same store bytes, both starting at its first byte. */
  constructor(
    private readonly store8: Uint8Array,
    private readonly store32: Int32Array,
  ) {}

  /** Makes `bytes` the remembered array; returns its first word index, or -1 when unaligned. */
  private remember(bytes: Uint8Array): number {
    if (bytes !== this.lastArray) {
      const offset = bytes.byteOffset;
      this.lastArray = bytes;
      this.lastWords = new Int32Array(bytes.buffer, 0, bytes.buffer.byteLength >>> 2);
      this.lastWordStart = (offset & 3) === 0 ? offset >>> 2 : -1;
    }
    return this.lastWordStart;
  }

  /** store[from, from+length) → target[0, length). */
  out(target: Uint8Array, from: number, length: number): void {
    const store8 = this.store8;
    let i = 0;
    if (length >= 16 && (from & 3) === 0) {
      const d = this.remember(target);
      if (d >= 0) {
        const words = length >>> 2;
        const dst = this.lastWords;
        const s = from >>> 2;
        const store32 = this.store32;
        for (let w = 0; w < words; w++) dst[d + w] = store32[s + w]!;
        i = words << 2;
      }
    }
    for (; i < length; i++) target[i] = store8[from + i]!;
  }

  /** source[0, length) → store[at, at+length). */
  in(at: number, source: Uint8Array, length: number): void {
    const store8 = this.store8;
    if (length === source.length && length >= 16) {
      store8.set(source, at); // one native memcpy, nothing allocated: faster than the word loop from 16 bytes up
      return;
    }
    let i = 0;
    if (length >= 16 && (at & 3) === 0) {
      const s = this.remember(source);
      if (s >= 0) {
        const words = length >>> 2;
        const src = this.lastWords;
        const d = at >>> 2;
        const store32 = this.store32;
        for (let w = 0; w < words; w++) store32[d + w] = src[s + w]!;
        i = words << 2;
      }
    }
    for (; i < length; i++) store8[at + i] = source[i]!;
  }
}
