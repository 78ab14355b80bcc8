/**
 * Conditional sets (beyond docs/spec/API.md): a set that writes only while the key is at an
 * expected slot epoch, or only while it is absent. The epoch compare is the seqlock's own CAS,
 * from the expected even epoch to odd: of two writers expecting the same epoch (ours or C's
 * set, which takes the slot by the same CAS) exactly one takes the slot; the other finds it moved.
 */
import { SplinterError } from '../../errors.js';
import type { KvContext } from '../handle/context.js';
import { checkValueLength, KEEP_TYPE, publish, setValue, writeHeld } from './kv.js';
import { locateKey, slotHoldsKey } from '../keys/probe.js';
import { evacuateRelocated, VAL_BRK_W32 } from './relocation.js';
import { unlock } from '../sync/seqlock.js';
import { holdsU64, isU64Value, notU64 } from './u64-slot.js';
import { keyName, type Key } from '../keys/key-text.js';

/** When a conditional set writes: at one slot epoch (`ifEpoch`), or only when the key is missing (`ifAbsent`). */
export type SetCondition = { ifEpoch: bigint } | { ifAbsent: true };

const U32 = 0x1_0000_0000n;

/** Writes under `condition`; true when written, false (nothing written, the epoch unmoved) when it did not hold. */
export function setConditionally(ctx: KvContext, keyText: Key, source: Uint8Array, length: number, type: number, condition: SetCondition): boolean {
  if ('ifAbsent' in condition) return setValue(ctx, keyText, source, length, type, true);
  return setIfEpoch(ctx, keyText, source, length, type, condition.ifEpoch);
}

/**
 * The set of a key whose slot epoch is `expected` now: false when the key is missing, at another
 * epoch, or held by a writer (its epoch is odd, and will be past `expected` when it leaves).
 * @throws {SplinterError} EMSGSIZE; EINVAL for a negative epoch; EPROTOTYPE for a BIGUINT slot and a value that is no u64.
 */
export function setIfEpoch(ctx: KvContext, keyText: Key, source: Uint8Array, length: number, type: number, expected: bigint): boolean {
  const m = ctx.m;
  if (expected < 0n || expected >= U32 * U32) throw new SplinterError('EINVAL', `set "${keyName(keyText)}": ifEpoch is a u64 slot epoch, received ${expected}`);
  checkValueLength(m, length);
  const value = ctx.copier.apart(source, length);
  ctx.key.encode(keyText);
  if (m.u32[VAL_BRK_W32] !== ctx.seenValBrk) evacuateRelocated(ctx);
  if ((expected & 1n) !== 0n) return false; // an odd epoch is a writer's, never a resting key's
  const index = locateKey(m, ctx.key);
  if (index < 0) return false;
  const slotByte = m.slotByte(index);
  const refused = type === KEEP_TYPE && !isU64Value(ctx, value, length);
  // Checked before the CAS too (a plain hint), so a refused set does not move the epoch.
  if (refused && holdsU64(m, slotByte)) throw notU64('set', keyText, length, value === ctx.valueScratch);
  const epochW = m.epochW32(slotByte);
  const low = Number(expected % U32);
  // The high word moves only on a carry out of an odd low word, 2^32 moves apart: read before the CAS, it stands with it.
  if (Atomics.load(m.u32, epochW + 1) !== Number(expected / U32)) return false;
  if (Atomics.compareExchange(m.u32, epochW, low, low + 1) !== low) return false;
  // C's unset takes no lock: the key may have left between the find and the CAS.
  if (!slotHoldsKey(m, slotByte, ctx.key)) {
    unlock(m.u32, m.u64, epochW);
    return false;
  }
  if (refused && holdsU64(m, slotByte)) {
    unlock(m.u32, m.u64, epochW); // renamed BIGUINT meanwhile: the rare refusal that moves the epoch
    throw notU64('set', keyText, length, value === ctx.valueScratch);
  }
  writeHeld(ctx, index, slotByte, value, length, type, true);
  publish(ctx, index, slotByte);
  return true;
}
