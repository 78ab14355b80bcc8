/**
 * FNV-1a 64 over bytes, computed in two 32-bit halves so the hot path does no BigInt
 * arithmetic. prime = 2^40 + 0x1b3, so h × prime = h × 0x1b3 + (h << 40); the low half
 * is multiplied in 16-bit limbs so every intermediate stays a small integer.
 */
export const FNV_OFFSET_HI = 0xcbf29ce4 | 0;
export const FNV_OFFSET_LO = 0x84222325 | 0;
const FNV_PRIME_LOW = 0x1b3;

/**
 * Result slots of the last hash, reused so hashing allocates nothing. Signed int32 halves:
 * they compare directly with Int32Array reads of the stored hash and never box.
 */
export interface HashHalves {
  hi: number;
  lo: number;
}

/** Hashes `bytes[0..length)` into `out` (signed int32 halves). */
export function fnv1a64Into(bytes: Uint8Array, length: number, out: HashHalves): void {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  for (let i = 0; i < length; i++) {
    lo ^= bytes[i]!;
    const low16 = (lo & 0xffff) * FNV_PRIME_LOW;
    const high16 = (lo >>> 16) * FNV_PRIME_LOW + (low16 >>> 16);
    hi = (Math.imul(hi, FNV_PRIME_LOW) + (high16 >>> 16) + (lo << 8)) | 0;
    lo = (low16 & 0xffff) | (high16 << 16);
  }
  out.hi = hi;
  out.lo = lo;
}

/**
 * Hashes a key given as a string of ASCII characters (1..0x7f, each its own UTF-8 byte) into
 * `out`, and writes its bytes into `words` as int32 words in little-endian order, the last word
 * completed with zeros (the key's NUL and padding). One pass, no byte buffer: most keys are
 * ASCII. Returns false, having written part of `words`, at the first character that is not
 * (the caller encodes such a key as UTF-8 and hashes the bytes instead).
 */
export function fnv1a64AsciiWords(key: string, words: Int32Array, out: HashHalves): boolean {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  let word = 0;
  const length = key.length;
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80 || c === 0) return false;
    lo ^= c;
    const low16 = (lo & 0xffff) * FNV_PRIME_LOW;
    const high16 = (lo >>> 16) * FNV_PRIME_LOW + (low16 >>> 16);
    hi = (Math.imul(hi, FNV_PRIME_LOW) + (high16 >>> 16) + (lo << 8)) | 0;
    lo = (low16 & 0xffff) | (high16 << 16);
    word |= c << ((i & 3) << 3);
    if ((i & 3) === 3) {
      words[i >>> 2] = word;
      word = 0;
    }
  }
  words[length >>> 2] = word;
  out.hi = hi;
  out.lo = lo;
  return true;
}

/** The u64 a pair of int32 halves stands for. */
export function halvesToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** FNV-1a 64 as a bigint (for snapshots and tests; not for hot paths). */
export function fnv1a64(bytes: Uint8Array): bigint {
  const out: HashHalves = { hi: 0, lo: 0 };
  fnv1a64Into(bytes, bytes.length, out);
  return halvesToBigInt(out.hi, out.lo);
}

/** (hi·2^32 + lo) mod n for 1 ≤ n < 2^32 (halves as signed or unsigned 32-bit): the slot a probe starts at. */
export function homeSlot(hi: number, lo: number, n: number): number {
  if ((n & (n - 1)) === 0) return lo & (n - 1); // a power of two: the low bits (no 64-bit modulo)
  lo >>>= 0;
  let r = (hi >>> 0) % n;
  r = (r * 65536 + (lo >>> 16)) % n;
  r = (r * 65536 + (lo & 0xffff)) % n;
  // `| 0` keeps the result a small integer (a store has < 2^25 slots): a float here slows every probe from it.
  return r <= 0x7fffffff ? r | 0 : r;
}
