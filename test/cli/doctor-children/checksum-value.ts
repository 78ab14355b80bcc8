/**
 * A full-size value that proves itself whole: bytes [0, 8) a seq, then a filler derived from
 * it, and the last 8 bytes FNV-1a 64 of everything before them. A value cut short, or mixing
 * two writes, fails the check.
 */
import { fnv1a64 } from '../../../src/layout/fnv1a.js';

export function checksummedValue(seq: number, size: number): Uint8Array {
  const value = new Uint8Array(size);
  const view = new DataView(value.buffer);
  view.setBigUint64(0, BigInt(seq), true);
  for (let j = 8; j < size - 8; j++) value[j] = (seq * 31 + j) & 0xff;
  view.setBigUint64(size - 8, fnv1a64(value.subarray(0, size - 8)), true);
  return value;
}

/** True when `value` is `size` bytes and its last 8 bytes are FNV-1a 64 of the rest. */
export function checksumHolds(value: Uint8Array, size: number): boolean {
  if (value.length !== size) return false;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return view.getBigUint64(size - 8, true) === fnv1a64(value.subarray(0, size - 8));
}
