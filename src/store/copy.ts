/**
 * Byte copies between the store and callers' arrays without allocating: 4 bytes at a time
 * through Int32Array views when both sides are 4-byte aligned (Int32, not Float64: a float
 * view could canonicalise NaN bit patterns), byte by byte otherwise. The view of the caller's
 * buffer is remembered, so reusing a buffer (the common case) allocates nothing.
 */
export class Copier {
  private lastBuffer: ArrayBufferLike | undefined;
  private lastView: Int32Array | undefined;

  constructor(
    private readonly store8: Uint8Array,
    private readonly store32: Int32Array,
  ) {}

  private wordsOf(bytes: Uint8Array): Int32Array {
    if (bytes.buffer !== this.lastBuffer) {
      this.lastBuffer = bytes.buffer;
      this.lastView = new Int32Array(bytes.buffer, 0, bytes.buffer.byteLength >>> 2);
    }
    return this.lastView!;
  }

  /** store[from, from+length) → target[0, length). */
  out(target: Uint8Array, from: number, length: number): void {
    const store8 = this.store8;
    let i = 0;
    if (length >= 16 && ((from | target.byteOffset) & 3) === 0) {
      const words = length >>> 2;
      const dst = this.wordsOf(target);
      const d = target.byteOffset >>> 2;
      const s = (store8.byteOffset + from) >>> 2;
      const store32 = this.store32;
      for (let w = 0; w < words; w++) dst[d + w] = store32[s + w]!;
      i = words << 2;
    }
    for (; i < length; i++) target[i] = store8[from + i]!;
  }

  /** source[0, length) → store[at, at+length). */
  in(at: number, source: Uint8Array, length: number): void {
    const store8 = this.store8;
    if (length === source.length && length > 64) {
      store8.set(source, at); // one native memcpy, nothing allocated
      return;
    }
    let i = 0;
    if (length >= 16 && ((at | source.byteOffset) & 3) === 0) {
      const words = length >>> 2;
      const src = this.wordsOf(source);
      const s = source.byteOffset >>> 2;
      const d = (store8.byteOffset + at) >>> 2;
      const store32 = this.store32;
      for (let w = 0; w < words; w++) store32[d + w] = src[s + w]!;
      i = words << 2;
    }
    for (; i < length; i++) store8[at + i] = source[i]!;
  }
}
