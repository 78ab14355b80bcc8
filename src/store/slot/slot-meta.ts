/** Slot metadata of docs/spec/FORMAT.md §7: times, the system flag, retrain. */
import { describe, SplinterError } from '../../errors.js';
import { SLOT, SlotType, U64_MAX } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { awaitEvenEpoch, requireSlot } from '../keys/locate.js';
import { slotHoldsKey } from '../keys/probe.js';
import { pulseSlot } from './pulse.js';
import { bumpGlobalEpoch } from '../sync/seqlock.js';
import { toU64 } from '../values/u64-bytes.js';
import { keyName, type Key } from '../keys/key-text.js';

export type SlotTime = 'ctime' | 'atime';

/** set_slot_time: ctime or atime = time − offset (u64, wrapping); clients own these fields. No epoch change. */
export function setSlotTime(ctx: KvContext, keyText: Key, which: SlotTime, time: bigint | number, offset: bigint | number = 0n): void {
  const m = ctx.m;
  if (which !== 'ctime' && which !== 'atime') {
    throw new SplinterError('EINVAL', `setSlotTime takes 'ctime' or 'atime', received ${describe(which)}`);
  }
  const value = (toU64(time, 'time') - toU64(offset, 'offset')) & U64_MAX;
  const index = requireSlot(ctx, keyText, 'setSlotTime');
  awaitEvenEpoch(ctx, index, keyText, 'setSlotTime');
  const field = which === 'ctime' ? SLOT.ctime : SLOT.atime;
  Atomics.store(m.u64, (m.slotByte(index) + field) >>> 3, value);
}

/**
 * set_as_system: marks a key's slot BINARY with val_len = maxValueSize, as C does: the slot
 * is found by scanning from slot 0 (not from the key's home slot) and no epoch moves.
 */
export function setAsSystem(ctx: KvContext, keyText: Key): void {
  const m = ctx.m;
  ctx.key.encode(keyText);
  for (let index = 0; index < m.slots; index++) {
    const slotByte = m.slotByte(index);
    if (slotHoldsKey(m, slotByte, ctx.key)) {
      Atomics.store(m.u8, slotByte + SLOT.type_flag, SlotType.BINARY);
      Atomics.store(m.u32, (slotByte + SLOT.val_len) >>> 2, m.maxValueSize);
      return;
    }
  }
  throw new SplinterError('ENOENT', `setAsSystem "${keyName(keyText)}": no such key`);
}

/**
 * retrain_slot, moving forward: stores the current epoch made odd (readers back off while the
 * embedding is cleared), moves the global epoch, then stores the next even epoch. C stores 3
 * then 4; ours never brings an epoch back to a value a reader may hold (docs/format.md).
 * Stored, not CAS'd: this is how a slot stuck odd by a writer that died inside its seqlock is freed.
 */
export function retrainSlot(ctx: KvContext, keyText: Key): void {
  const m = ctx.m;
  const index = requireSlot(ctx, keyText, 'retrainSlot');
  const slotByte = m.slotByte(index);
  const epoch64 = (slotByte + SLOT.epoch) >>> 3;
  const held = Atomics.load(m.u64, epoch64) | 1n; // odd: an even epoch becomes e + 1, a stuck odd one stays
  Atomics.store(m.u64, epoch64, held);
  if (m.embeddings) m.u8.fill(0, slotByte + SLOT.embedding, slotByte + m.slotSize);
  bumpGlobalEpoch(m.u32, m.globalEpochW32); // before the release, so a reader that sees the new epoch sees it moved
  Atomics.store(m.u64, epoch64, (held + 1n) & U64_MAX); // wraps to 0 only after 2^64 writes
  pulseSlot(m, slotByte);
  ctx.writeListener.afterWrite(index, true);
}
