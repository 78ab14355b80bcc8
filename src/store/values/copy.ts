/**
 * Byte copies between the store and callers' arrays without allocating: 4 bytes at a time
 * through Int32Array views when both sides are 4-byte aligned (Int32, not Float64: a float
 * view could canonicalise NaN bit patterns), byte by byte otherwise. The word view of the
 * caller's last array is remembered by identity, so reusing an array (the common case)
 * allocates nothing and reads neither `.buffer` nor `.byteOffset` (both are slow calls).
 */
/**
 * True for a real Uint8Array (a Buffer too). A Proxy around one passes `instanceof`, but its
 * length, buffer and offset getters throw a TypeError; it is refused with EINVAL instead.
 */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && ArrayBuffer.isView(value);
}

/** The memory of every store handle of this thread (a buffer holds one store from its start). */
const storeBuffers = new WeakSet<ArrayBufferLike>();

/** True when `bytes` view the memory of a store handle of this thread (any handle, any store). */
export function inStoreMemory(bytes: Uint8Array): boolean {
  return storeBuffers.has(bytes.buffer);
}

/** Sources up to this long are copied by apart() without looking where they lie. */
const SMALL_COPY = 64;

export class Copier {
  private userArray: Uint8Array | undefined;
  private userWords: Int32Array = new Int32Array(0);
  /** Word index of the user array's first byte, or -1 when it does not start on a 4-byte boundary. */
  private userWordStart = -1;
  private readonly scratchWords: Int32Array;
  /** The word view remember() chose for the current copy. */
  private words: Int32Array = this.userWords;
  /** The last caller array found outside the store's memory (a typed array's buffer and offset never change). */
  private apartArray: Uint8Array | undefined;
  /** Where apart() copies short sources. */
  private readonly small = new Uint8Array(SMALL_COPY);
  private readonly smallWords = new Int32Array(this.small.buffer);

  /** Two views of the same store bytes, both starting at its first byte, and the handle's scratch (always remembered). */
  constructor(
    private readonly store8: Uint8Array,
    private readonly store32: Int32Array,
    private readonly scratch: Uint8Array,
  ) {
    this.scratchWords = new Int32Array(scratch.buffer, scratch.byteOffset, scratch.length >>> 2);
    storeBuffers.add(store8.buffer);
  }

  /** Points `words` at the view of `bytes`; returns its first word index, or -1 when unaligned. */
  private remember(bytes: Uint8Array): number {
    if (bytes === this.scratch) {
      this.words = this.scratchWords; // kept apart from the user's array: get and getInto in turn allocate nothing
      return 0;
    }
    if (bytes === this.small) {
      this.words = this.smallWords;
      return 0;
    }
    if (bytes !== this.userArray) {
      const offset = bytes.byteOffset;
      this.userArray = bytes;
      this.userWords = new Int32Array(bytes.buffer, 0, bytes.buffer.byteLength >>> 2);
      this.userWordStart = (offset & 3) === 0 ? offset >>> 2 : -1;
    }
    this.words = this.userWords;
    return this.userWordStart;
  }

  /**
   * `source`, or a copy of its first `length` bytes when they may lie in a store's memory (a raw
   * view, or a subarray of one, from this handle or another): a write zeroes, moves and
   * overwrites store bytes before and while it copies, which would change such a source under
   * it. An array seen apart before costs one comparison; a short one is copied rather than
   * looked at (`.buffer` of a small array allocates, which costs more than copying 64 bytes).
   */
  apart(source: Uint8Array, length: number): Uint8Array {
    if (source === this.apartArray || source === this.scratch) return source;
    if (length <= SMALL_COPY) {
      const small = this.small;
      for (let i = 0; i < length; i++) small[i] = source[i]!;
      return small;
    }
    // Any store's memory, not only this handle's: two handles on one store map the same bytes at two buffers.
    if (inStoreMemory(source)) return source.slice(0, length);
    this.apartArray = source;
    return source;
  }

  /** store[from, from+length) → target[0, length). */
  out(target: Uint8Array, from: number, length: number): void {
    const store8 = this.store8;
    let i = 0;
    if (length >= 16 && (from & 3) === 0) {
      const d = this.remember(target);
      if (d >= 0) {
        const words = length >>> 2;
        const dst = this.words;
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
        const src = this.words;
        const d = at >>> 2;
        const store32 = this.store32;
        for (let w = 0; w < words; w++) store32[d + w] = src[s + w]!;
        i = words << 2;
      }
    }
    for (; i < length; i++) store8[at + i] = source[i]!;
  }
}
