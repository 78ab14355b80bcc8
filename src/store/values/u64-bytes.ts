import { describe, SplinterError } from '../../errors.js';
import { U64_MAX } from '../../layout/constants.js';

/** A u64 stored little-endian at any byte offset (arena values need not be 8-byte aligned). */
export function readU64LE(u8: Uint8Array, at: number): bigint {
  const lo = (u8[at]! | (u8[at + 1]! << 8) | (u8[at + 2]! << 16) | (u8[at + 3]! << 24)) >>> 0;
  const hi = (u8[at + 4]! | (u8[at + 5]! << 8) | (u8[at + 6]! << 16) | (u8[at + 7]! << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function writeU64LE(u8: Uint8Array, at: number, value: bigint): void {
  const lo = Number(value & 0xffffffffn);
  const hi = Number((value >> 32n) & 0xffffffffn);
  for (let i = 0; i < 4; i++) {
    u8[at + i] = (lo >>> (8 * i)) & 0xff;
    u8[at + 4 + i] = (hi >>> (8 * i)) & 0xff;
  }
}

/** A caller's u64: a bigint from 0n to U64_MAX, or a safe integer ≥ 0; EINVAL otherwise. */
export function toU64(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value >= 0n && value <= U64_MAX) return value;
  } else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value);
  }
  throw new SplinterError('EINVAL', `${what} must be a u64 (a bigint from 0n to ${U64_MAX}n, or a safe integer ≥ 0), received ${describe(value)}`);
}
