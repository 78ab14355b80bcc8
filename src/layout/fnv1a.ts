/**
 * FNV-1a 64 over bytes, computed in two 32-bit halves so the hot path does no BigInt
 * arithmetic. prime = 2^40 + 0x1b3, so h × prime = h × 0x1b3 + (h << 40).
 */
export const FNV_OFFSET_HI = 0xcbf29ce4;
export const FNV_OFFSET_LO = 0x84222325;
const FNV_PRIME_LOW = 0x1b3;
const TWO_POW_32 = 4294967296;

/** Result slots of the last hash, reused so hashing allocates nothing. */
export interface HashHalves {
  hi: number;
  lo: number;
}

/** Hashes `bytes[0..length)` into `out` (unsigned 32-bit halves). */
export function fnv1a64Into(bytes: Uint8Array, length: number, out: HashHalves): void {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  for (let i = 0; i < length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    const low = lo * FNV_PRIME_LOW; // < 2^41: exact in a double
    const carry = Math.floor(low / TWO_POW_32);
    hi = (Math.imul(hi, FNV_PRIME_LOW) + carry + (lo << 8)) >>> 0;
    lo = low >>> 0;
  }
  out.hi = hi;
  out.lo = lo;
}

/** FNV-1a 64 as a bigint (for snapshots and tests; not for hot paths). */
export function fnv1a64(bytes: Uint8Array): bigint {
  const out: HashHalves = { hi: 0, lo: 0 };
  fnv1a64Into(bytes, bytes.length, out);
  return (BigInt(out.hi) << 32n) | BigInt(out.lo);
}

/** (hi·2^32 + lo) mod n for 1 ≤ n < 2^32, exact in doubles: the slot a probe starts at. */
export function homeSlot(hi: number, lo: number, n: number): number {
  let r = hi % n;
  r = (r * 65536 + (lo >>> 16)) % n;
  return (r * 65536 + (lo & 0xffff)) % n;
}
