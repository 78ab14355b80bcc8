/** Named slot types and integer operations on BIGUINT values (docs/spec/FORMAT.md §7 set_named_type, integer_op). */
import { describe, SplinterError } from '../../errors.js';
import { IntOp, SLOT, SlotType, U64_MAX } from '../../layout/constants.js';
import { setConditionally, type SetCondition } from './compare-set.js';
import type { KvContext } from '../handle/context.js';
import { outOfArena } from './read.js';
import { claimHomeRegion } from './region.js';
import { lockExistingKey, requireSlot } from '../keys/locate.js';
import { setValue } from './kv.js';
import { evacuateRelocated } from './relocation.js';
import { readKeySlot } from '../sync/seqlock-read.js';
import { bumpGlobalEpoch, unlock } from '../sync/seqlock.js';
import { readU64LE, toU64, writeU64LE } from './u64-bytes.js';
import { keyName, type Key } from '../keys/key-text.js';

const U64_BYTES = 8;
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/**
 * The u64 a short value becomes when it is named BIGUINT: text that starts with a digit is
 * parsed like C's strtoull(s, 0, 0) (0x… hex, 0… octal, else decimal; the longest valid
 * prefix; saturating at 2^64-1), anything else is its bytes read little-endian.
 */
export function promoteToU64(bytes: Uint8Array): bigint {
  const length = bytes.indexOf(0) >= 0 ? bytes.indexOf(0) : bytes.length;
  if (length === 0 || !isDigit(bytes[0]!)) {
    let n = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
    return n;
  }
  let base = 10n;
  let i = 0;
  const hexDigit = (b: number): number =>
    isDigit(b) ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
  if (bytes[0] === 0x30) {
    if ((bytes[1] === 0x78 || bytes[1] === 0x58) && i + 2 < length && hexDigit(bytes[2]!) >= 0) {
      base = 16n;
      i = 2;
    } else {
      base = 8n;
    }
  }
  let n = 0n;
  for (; i < length; i++) {
    const digit = base === 16n ? hexDigit(bytes[i]!) : isDigit(bytes[i]!) ? bytes[i]! - 0x30 : -1;
    if (digit < 0 || BigInt(digit) >= base) break;
    n = n * base + BigInt(digit);
    if (n > U64_MAX) return U64_MAX; // strtoull saturates with ERANGE
  }
  return n;
}

/** EINVAL unless `mask` is a type byte; EMSGSIZE when it names BIGUINT in a store whose values are under 8 bytes. Returns whether it names BIGUINT. */
function checkTypeMask(ctx: KvContext, keyText: Key, mask: number, what: string): boolean {
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xff) {
    throw new SplinterError('EINVAL', `${what} "${keyName(keyText)}": a type mask is a byte of SlotType bits (0..255), received ${describe(mask)}`);
  }
  const biguint = (mask & SlotType.BIGUINT) !== 0;
  if (biguint && ctx.m.maxValueSize < U64_BYTES) {
    throw new SplinterError(
      'EMSGSIZE',
      `${what} "${keyName(keyText)}": a BIGUINT value is 8 bytes, and this store's values are at most ${ctx.m.maxValueSize} bytes`,
    );
  }
  return biguint;
}

/**
 * set with a type: the value and the type byte `mask` in one write (one seqlock section, one
 * epoch move, one wake), as if set then setNamedType, with no moment between them. A value
 * shorter than 8 bytes named BIGUINT is promoted first, as setNamedType promotes it.
 */
export function setTypedValue(ctx: KvContext, keyText: Key, source: Uint8Array, length: number, mask: number, condition?: SetCondition): boolean {
  const biguint = checkTypeMask(ctx, keyText, mask, 'set');
  const write = (bytes: Uint8Array, size: number): boolean =>
    condition === undefined ? setValue(ctx, keyText, bytes, size, mask) : setConditionally(ctx, keyText, bytes, size, mask, condition);
  if (biguint && length >= 1 && length < U64_BYTES) {
    const promoted = new Uint8Array(U64_BYTES);
    writeU64LE(promoted, 0, promoteToU64(source.subarray(0, length)));
    return write(promoted, U64_BYTES);
  }
  return write(source, length);
}

/** set_named_type: replaces the slot's type; naming a short value BIGUINT promotes it in place. */
export function setNamedType(ctx: KvContext, keyText: Key, mask: number): void {
  const m = ctx.m;
  const biguint = checkTypeMask(ctx, keyText, mask, 'setNamedType');
  evacuateRelocated(ctx);
  const index = lockExistingKey(ctx, keyText, 'setNamedType');
  const slotByte = m.slotByte(index);
  const lengthW = (slotByte + SLOT.val_len) >>> 2;
  const length = m.u32[lengthW]!;
  if (biguint && length < U64_BYTES) {
    // C relocates the value into slot 0's region (docs/spec/FORMAT.md §9 Q3); we promote where it lives.
    const offset = m.u32[(slotByte + SLOT.val_off) >>> 2]!;
    if (offset > m.arenaSize - length) {
      unlock(m.u32, m.u64, m.epochW32(slotByte));
      throw outOfArena(m, index, offset, length);
    }
    const value = promoteToU64(m.u8.slice(m.arenaStart + offset, m.arenaStart + offset + length));
    const home = claimHomeRegion(m, index, slotByte, 0);
    writeU64LE(m.u8, m.arenaStart + home, value);
    m.u32[lengthW] = U64_BYTES;
  }
  Atomics.store(m.u8, slotByte + SLOT.type_flag, mask);
  bumpGlobalEpoch(m.u32, m.globalEpochW32); // before the release: readers see it with the new slot epoch
  unlock(m.u32, m.u64, m.epochW32(slotByte));
  ctx.writeListener.afterWrite(index, true);
}

const OPS: ReadonlySet<number> = new Set(Object.values(IntOp));

/** integer_op: AND, OR, XOR, NOT, INC, DEC on a BIGUINT value, wrapping at 2^64; returns the value written. */
export function integerOp(ctx: KvContext, keyText: Key, op: IntOp, operand: bigint | number = 0n): bigint {
  const m = ctx.m;
  if (!OPS.has(op)) throw new SplinterError('EINVAL', `integerOp takes IntOp 0..5 (AND OR XOR NOT INC DEC), received ${describe(op)}`);
  const by = toU64(operand, 'the integerOp operand');
  const notBigUint = (slotByte: number): SplinterError =>
    new SplinterError(
      'EPROTOTYPE',
      `integerOp "${keyName(keyText)}": the slot's type is ${m.u8[slotByte + SLOT.type_flag]}, it must include BIGUINT (4); use setNamedType first`,
    );
  // The type is checked before the seqlock is taken, as C does, so a refusal moves no epoch.
  const slotByteBefore = m.slotByte(requireSlot(ctx, keyText, 'integerOp'));
  if ((m.u8[slotByteBefore + SLOT.type_flag]! & SlotType.BIGUINT) === 0) throw notBigUint(slotByteBefore);
  evacuateRelocated(ctx);
  const index = lockExistingKey(ctx, keyText, 'integerOp');
  const slotByte = m.slotByte(index);
  if ((m.u8[slotByte + SLOT.type_flag]! & SlotType.BIGUINT) === 0) {
    unlock(m.u32, m.u64, m.epochW32(slotByte)); // renamed meanwhile: the rare refusal that moves the epoch
    throw notBigUint(slotByte);
  }
  // A value C relocated is brought home first, so the result is written in this slot's own bytes.
  let offset = claimHomeRegion(m, index, slotByte, U64_BYTES);
  if (offset < 0) offset = m.u32[(slotByte + SLOT.val_off) >>> 2]!;
  if (offset > m.arenaSize - U64_BYTES) {
    unlock(m.u32, m.u64, m.epochW32(slotByte));
    throw outOfArena(m, index, offset, U64_BYTES);
  }
  const at = m.arenaStart + offset;
  const value = readU64LE(m.u8, at);
  let result: bigint;
  switch (op) {
    case IntOp.AND:
      result = value & by;
      break;
    case IntOp.OR:
      result = value | by;
      break;
    case IntOp.XOR:
      result = value ^ by;
      break;
    case IntOp.NOT:
      result = ~value & U64_MAX;
      break;
    case IntOp.INC:
      result = (value + by) & U64_MAX;
      break;
    default:
      result = (value - by) & U64_MAX;
  }
  writeU64LE(m.u8, at, result);
  bumpGlobalEpoch(m.u32, m.globalEpochW32); // before the release: readers see it with the new slot epoch
  unlock(m.u32, m.u64, m.epochW32(slotByte));
  ctx.writeListener.afterWrite(index, true);
  return result;
}

/** The u64 integerOp works on (8 bytes at val_off), read under the seqlock; undefined when missing. */
export function getBigUint(ctx: KvContext, keyText: Key): bigint | undefined {
  const m = ctx.m;
  return readKeySlot(ctx, keyText, 'getBigUint', (index, slotByte, stable) => {
    const type = m.u8[slotByte + SLOT.type_flag]!;
    const offset = m.u32[(slotByte + SLOT.val_off) >>> 2]!;
    const inArena = offset <= m.arenaSize - U64_BYTES;
    const value = inArena ? readU64LE(m.u8, m.arenaStart + offset) : 0n;
    if ((type & SlotType.BIGUINT) === 0 && stable()) {
      throw new SplinterError('EPROTOTYPE', `getBigUint "${keyName(keyText)}": the slot's type is ${type}, not BIGUINT (4)`);
    }
    if (!inArena && stable()) throw outOfArena(m, index, offset, U64_BYTES);
    return value;
  });
}
