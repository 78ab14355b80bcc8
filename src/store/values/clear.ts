/**
 * Emptying slots (docs/spec/FORMAT.md §7 unset and purge), with the deliberate differences of
 * docs/format.md: our unset takes the seqlock, and releases the epoch forward, never back to 2.
 */
import { HEADER, KEY_MAX, SLOT, SlotType, SPL_SYS_AUTO_SCRUB } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { lockKey } from '../keys/locate.js';
import type { StoreMemory } from '../backing/memory.js';
import { onlyOurMoves } from '../keys/reach.js';
import { claimHomeRegion, zeroBytes } from './region.js';
import { evacuateRelocated, VAL_BRK_W32 } from './relocation.js';
import { tryLock, unlock } from '../sync/seqlock.js';
import { type Key } from '../keys/key-text.js';
import { expiredNow, NO_DEADLINE } from '../slot/deadlines.js';

/**
 * Empties a slot we hold, leaving C's unset bytes (docs/spec/FORMAT.md §7) except the epoch, which our
 * release moves on to e + 2 where C resets it to 2 (docs/format.md, deliberate differences).
 * `scrubAll` zeroes the value and key whatever the mop mode (doctor clearing a dead writer's slot).
 */
export function clearLocked(m: StoreMemory, index: number, slotByte: number, scrubAll = false): void {
  const { u8, u32, u64 } = m;
  const w = slotByte >>> 2;
  // hash 0 first: a finder that still matches the slot meets the odd epoch, and a reader that copied before fails its epoch check.
  // Plain stores of two 32-bit halves: a half-cleared hash matches no key (the key bytes are still this key's), and the
  // release add below publishes both before the slot is even again.
  u32[w] = 0;
  u32[w + 1] = 0;
  const home = claimHomeRegion(m, index, slotByte, 0);
  // Plain load: a mode change racing an unset may apply either way, as in C (and as in scrub).
  if (scrubAll || (u8[HEADER.core_flags]! & SPL_SYS_AUTO_SCRUB) !== 0) {
    zeroBytes(m, m.arenaStart + home, m.arenaStart + home + m.maxValueSize);
    zeroBytes(m, slotByte + SLOT.key, slotByte + SLOT.key + KEY_MAX);
  } else {
    u8[slotByte + SLOT.key] = 0;
  }
  // Plain stores while the slot is held odd: every reader of these fields validates with the slot epoch, and the release add below publishes them.
  // The u64 fields go as 32-bit halves: a half-zeroed word is never seen by a reader that accepts its copy, and a
  // watch or label registration (an atomic OR outside the lock) lands in each half before or after its zeroing; a mask spanning
  // both halves may keep one, where one 64-bit store keeps all or none: either way it raced the key's removal.
  u8[slotByte + SLOT.type_flag] = SlotType.VOID;
  u8[slotByte + SLOT.user_flag] = 0;
  u32[w + (SLOT.val_len >>> 2)] = 0;
  // watcher_mask, ctime, atime, bloom: eight words, written out (in a loop every store reloaded the array's base and length).
  const meta = w + (SLOT.watcher_mask >>> 2);
  u32[meta] = 0;
  u32[meta + 1] = 0;
  u32[meta + 2] = 0;
  u32[meta + 3] = 0;
  u32[meta + 4] = 0;
  u32[meta + 5] = 0;
  u32[meta + 6] = 0;
  u32[meta + 7] = 0;
  if (m.embeddings) u8.fill(0, slotByte + SLOT.embedding, slotByte + m.slotSize);
  // Released forward to e + 2, not reset to 2 as C does: no reader's epoch can come back (docs/format.md).
  unlock(u32, u64, (slotByte + SLOT.epoch) >>> 2);
}

/** unset: empties the key's slot; returns the removed length, undefined when missing. */
export function unsetKey(ctx: KvContext, keyText: Key): number | undefined {
  const m = ctx.m;
  ctx.key.encodeTransient(keyText); // a key removed need not be remembered
  if (m.u32[VAL_BRK_W32] !== ctx.seenValBrk) evacuateRelocated(ctx);
  // Unlike C (docs/spec/FORMAT.md §9 Q7) we take the seqlock, so no writer of ours is inside while we clear.
  const index = lockKey(ctx, keyText, 'unset');
  if (index < 0) return undefined;
  const slotByte = m.slotByte(index);
  const length = m.u32[(slotByte + SLOT.val_len) >>> 2]!; // plain: we hold the slot, and every writer of it takes the lock
  // A key past its deadline is removed all the same, but was missing already to readers of ours.
  const expired = expiredNow(ctx, index, slotByte);
  ctx.deadlines?.write(index, 0, 0, NO_DEADLINE); // the key goes, and its deadline with it
  clearLocked(m, index, slotByte);
  // The slot was the first copy on the key's path, and writers of ours leave no other: with no C set
  // ever in this store, the key is missing now (until an insert moves the global epoch). Otherwise a
  // copy C left past this slot (docs/spec/FORMAT.md §9 Q1) is what readers see next: not marked.
  const key = ctx.key;
  if (onlyOurMoves(m, key.expectedEpoch)) key.entry.slot = -1;
  ctx.writeListener.afterWrite(index, false);
  return expired ? undefined : length;
}

/** purge: zero what no value uses, slot by slot, skipping slots a writer holds. */
export function purge(ctx: KvContext): void {
  const m = ctx.m;
  evacuateRelocated(ctx);
  for (let index = 0; index < m.slots; index++) {
    const slotByte = m.slotByte(index);
    if (!tryLock(m.u32, m.epochW32(slotByte))) continue;
    const live = Atomics.load(m.u64, slotByte >>> 3) !== 0n;
    const length = live ? Atomics.load(m.u32, (slotByte + SLOT.val_len) >>> 2) : 0;
    const home = claimHomeRegion(m, index, slotByte, length);
    if (home >= 0 && length < m.maxValueSize) m.u8.fill(0, m.arenaStart + home + length, m.arenaStart + home + m.maxValueSize);
    unlock(m.u32, m.u64, m.epochW32(slotByte));
  }
  ctx.writeListener.afterWrite(-1, false); // every slot epoch moved: wake waiters once
}
