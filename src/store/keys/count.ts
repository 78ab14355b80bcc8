/** How many keys a store holds, without decoding any: one pass over the slot table. */
import { SLOT } from '../../layout/constants.js';
import type { StoreMemory } from '../backing/memory.js';

/** Slots with a hash and a non-empty value (what `keys()` lists, C's copies included); O(slots). */
export function countKeys(m: StoreMemory): number {
  const i32 = m.i32;
  const step = m.slotSize >>> 2;
  const lengthWord = SLOT.val_len >>> 2;
  let count = 0;
  // Plain loads, as list does: a count is a moment's answer, and a slot changing meanwhile may count either way.
  for (let index = 0, w = m.slotsStart >>> 2; index < m.slots; index++, w += step) {
    if ((i32[w]! | i32[w + 1]!) !== 0 && i32[w + lengthWord] !== 0) count++;
  }
  return count;
}
