/**
 * C's lock-free writes done by hand on one of our stores' memory, as docs/spec/FORMAT.md §7 describes
 * them (not as our library does them): for SharedArrayBuffer and file stores, where the C peer
 * cannot attach. Tests use them to bring a slot epoch back the way only C does.
 */
import { HEADER, KEY_MAX, SLOT } from '../../src/layout/constants.js';
import type { Store } from '../../src/index.js';

const VOID = 1;

/** C's unset of the slot readers find for `key`: hash 0 first, clears, epoch 0, then +2 (it ends at 2). */
export function cUnset(store: Store, key: string): void {
  const index = store.slotSnapshot(key)!.index;
  const m = store.memory;
  const at = m.slotByte(index);
  Atomics.store(m.u64, at >>> 3, 0n);
  if ((Atomics.load(m.u8, HEADER.core_flags) & 1) !== 0) {
    const region = m.arenaStart + Atomics.load(m.u32, (at + SLOT.val_off) >>> 2);
    m.u8.fill(0, region, region + m.maxValueSize);
    m.u8.fill(0, at + SLOT.key, at + SLOT.key + KEY_MAX);
  } else {
    m.u8[at + SLOT.key] = 0;
  }
  Atomics.store(m.u8, at + SLOT.type_flag, VOID);
  Atomics.store(m.u64, (at + SLOT.epoch) >>> 3, 0n);
  Atomics.store(m.u32, (at + SLOT.val_len) >>> 2, 0);
  for (const field of [SLOT.ctime, SLOT.atime, SLOT.watcher_mask, SLOT.bloom]) Atomics.store(m.u64, (at + field) >>> 3, 0n);
  Atomics.store(m.u8, at + SLOT.user_flag, 0);
  Atomics.add(m.u64, (at + SLOT.epoch) >>> 3, 2n);
}

/** C's retrain_slot: epoch stored 3, embedding zeroed, epoch stored 4, global epoch +1. */
export function cRetrain(store: Store, key: string): void {
  const m = store.memory;
  const at = m.slotByte(store.slotSnapshot(key)!.index);
  Atomics.store(m.u64, (at + SLOT.epoch) >>> 3, 3n);
  if (m.embeddings) m.u8.fill(0, at + SLOT.embedding, at + m.slotSize);
  Atomics.store(m.u64, (at + SLOT.epoch) >>> 3, 4n);
  Atomics.add(m.u64, HEADER.epoch >>> 3, 1n);
}

/** The u64 epoch of slot `index`, whether or not it holds a key. */
export function slotEpoch(store: Store, index: number): bigint {
  const m = store.memory;
  return Atomics.load(m.u64, (m.slotByte(index) + SLOT.epoch) >>> 3);
}
