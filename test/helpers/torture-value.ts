/**
 * The torture value encoding shared with the C peer (test/peer/README.md, "Torture").
 * For a sequence number `seq` (u64) in a store whose max value size is M (M ≥ 16):
 *
 *   len = 16 + (seq × 7 mod 2^64) mod (M − 15)
 *   [0, 8)        seq, little-endian
 *   [8, len − 8)  byte j (absolute index) = (seq × 31 + j) & 0xFF
 *   [len − 8, len) FNV-1a 64 of [0, len − 8), little-endian
 *
 * A u64 is handled as two unsigned 32-bit halves, so encoding and verifying allocate
 * nothing (no BigInt on the hot path); `seq` as a plain number is accepted when it is a
 * safe integer (< 2^53), which is what the tests use.
 */
import { fnv1a64Into, homeSlot, type HashHalves } from '../../src/layout/fnv1a.js';

const TWO_POW_32 = 4294967296;
/** The smallest max value size the encoding works with (8 bytes of seq + 8 of checksum). */
export const TORTURE_MIN_VALUE_SIZE = 16;

/** The reason a buffer failed verification ('ok' when it passed). */
export type TortureVerdict = 'ok' | 'length' | 'seq-length' | 'filler' | 'checksum';

/** What `verifyTorture` found; reuse one instance across calls (it is overwritten). */
export interface TortureCheck {
  verdict: TortureVerdict;
  /** The seq read from bytes [0, 8): high and low 32-bit halves. */
  seqHi: number;
  seqLo: number;
  /** The seq as a number: exact when it is below 2^53 (always true for the tests' seqs). */
  seq: number;
}

export function newTortureCheck(): TortureCheck {
  return { verdict: 'ok', seqHi: 0, seqLo: 0, seq: 0 };
}

function checkMaxValueSize(maxValueSize: number): void {
  if (!Number.isInteger(maxValueSize) || maxValueSize < TORTURE_MIN_VALUE_SIZE || maxValueSize > 0xffffffff) {
    throw new RangeError(`the torture encoding needs a max value size of 16..2^32-1, received ${maxValueSize}`);
  }
}

function splitSeq(seq: number): [number, number] {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`a torture seq must be a safe integer ≥ 0, received ${seq}`);
  return [Math.floor(seq / TWO_POW_32), seq >>> 0];
}

/** The value length seq (hi, lo) implies in a store of max value size M. */
export function tortureLengthHalves(seqHi: number, seqLo: number, maxValueSize: number): number {
  // seq × 7 mod 2^64 in halves (lo × 7 < 2^35 is exact in a double), then mod (M − 15).
  const low = seqLo * 7;
  const carry = Math.floor(low / TWO_POW_32);
  const hi = (Math.imul(seqHi, 7) + carry) >>> 0;
  const lo = low >>> 0;
  return TORTURE_MIN_VALUE_SIZE + homeSlot(hi, lo, maxValueSize - 15);
}

/** The value length `seq` implies in a store of max value size M. */
export function tortureLength(seq: number, maxValueSize: number): number {
  checkMaxValueSize(maxValueSize);
  const [hi, lo] = splitSeq(seq);
  return tortureLengthHalves(hi, lo, maxValueSize);
}

function writeU32LE(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 24) & 0xff;
}

function readU32LE(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

const scratchHash: HashHalves = { hi: 0, lo: 0 };

/**
 * Writes the value for seq (hi, lo) into `buf` (at least M bytes) and returns its length.
 * Allocates nothing.
 */
export function encodeTortureHalves(seqHi: number, seqLo: number, maxValueSize: number, buf: Uint8Array): number {
  const length = tortureLengthHalves(seqHi, seqLo, maxValueSize);
  if (buf.length < length) throw new RangeError(`a torture value of ${length} bytes does not fit a ${buf.length}-byte buffer`);
  writeU32LE(buf, 0, seqLo);
  writeU32LE(buf, 4, seqHi);
  // (seq × 31 + j) & 0xFF depends only on the low byte of seq × 31, i.e. on seqLo.
  const base = Math.imul(seqLo, 31);
  const end = length - 8;
  for (let j = 8; j < end; j++) buf[j] = (base + j) & 0xff;
  fnv1a64Into(buf, end, scratchHash);
  writeU32LE(buf, end, scratchHash.lo);
  writeU32LE(buf, end + 4, scratchHash.hi);
  return length;
}

/** Writes the value for `seq` (a safe integer) into `buf` and returns its length. */
export function encodeTorture(seq: number, maxValueSize: number, buf: Uint8Array): number {
  checkMaxValueSize(maxValueSize);
  const [hi, lo] = splitSeq(seq);
  return encodeTortureHalves(hi, lo, maxValueSize, buf);
}

/** A fresh copy of the value for `seq` (for tests that are not on a hot path). */
export function tortureValue(seq: number, maxValueSize: number): Uint8Array {
  const buf = new Uint8Array(maxValueSize);
  return buf.slice(0, encodeTorture(seq, maxValueSize, buf));
}

/**
 * Checks `buf[0..length)` as a torture value, the way the C peer's torture_read does:
 * length in 16..M and equal to the length its seq implies, the filler, the checksum.
 * Fills `out` (seq and verdict) and returns true when the value is intact. Allocates nothing.
 */
export function verifyTorture(buf: Uint8Array, length: number, maxValueSize: number, out: TortureCheck): boolean {
  out.seqHi = 0;
  out.seqLo = 0;
  out.seq = 0;
  if (length < TORTURE_MIN_VALUE_SIZE || length > maxValueSize || length > buf.length) {
    out.verdict = 'length';
    return false;
  }
  const lo = readU32LE(buf, 0);
  const hi = readU32LE(buf, 4);
  out.seqLo = lo;
  out.seqHi = hi;
  out.seq = hi * TWO_POW_32 + lo;
  if (tortureLengthHalves(hi, lo, maxValueSize) !== length) {
    out.verdict = 'seq-length';
    return false;
  }
  const base = Math.imul(lo, 31);
  const end = length - 8;
  for (let j = 8; j < end; j++) {
    if (buf[j] !== ((base + j) & 0xff)) {
      out.verdict = 'filler';
      return false;
    }
  }
  fnv1a64Into(buf, end, scratchHash);
  // The halves may come back signed or unsigned: compare them as unsigned 32-bit.
  if (readU32LE(buf, end) !== scratchHash.lo >>> 0 || readU32LE(buf, end + 4) !== scratchHash.hi >>> 0) {
    out.verdict = 'checksum';
    return false;
  }
  out.verdict = 'ok';
  return true;
}
