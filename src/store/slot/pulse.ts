import { HEADER, SIGNAL_GROUP_STRIDE, SLOT, SPLINTER_MAX_GROUPS, U32_MAX } from '../../layout/constants.js';
import type { StoreMemory } from '../backing/memory.js';

/** Adds 1 to signal group `group`'s u64 counter, in halves (the carry lands once per 2^32 pulses). */
export function addSignal(m: StoreMemory, group: number): void {
  const w = (HEADER.signal_groups + group * SIGNAL_GROUP_STRIDE) >>> 2;
  if (Atomics.add(m.u32, w, 1) === U32_MAX) Atomics.add(m.u32, w + 1, 1);
}

function pulseBits(m: StoreMemory, word: number, base: number, viaLabels: boolean): void {
  while (word !== 0) {
    const bit = 31 - Math.clz32(word & -word);
    word &= word - 1;
    if (!viaLabels) {
      addSignal(m, base + bit);
    } else {
      const group = Atomics.load(m.u8, HEADER.bloom_watches + base + bit);
      if (group < SPLINTER_MAX_GROUPS) addSignal(m, group);
    }
  }
}

/**
 * "Pulse" of docs/spec/FORMAT.md §7: +1 on every group in the slot's watcher_mask and on the group
 * each of its labels is bound to. Zero masks (the common case) cost four loads.
 */
export function pulseSlot(m: StoreMemory, slotByte: number): void {
  const i32 = m.i32;
  const w = (slotByte + SLOT.watcher_mask) >>> 2;
  const b = (slotByte + SLOT.bloom) >>> 2;
  // Plain loads: a registration racing this write may or may not see it pulse, as with C's relaxed loads.
  const watchLo = i32[w]!;
  const watchHi = i32[w + 1]!;
  const bloomLo = i32[b]!;
  const bloomHi = i32[b + 1]!;
  if ((watchLo | watchHi | bloomLo | bloomHi) === 0) return;
  pulseBits(m, watchLo, 0, false);
  pulseBits(m, watchHi, 32, false);
  pulseBits(m, bloomLo, 0, true);
  pulseBits(m, bloomHi, 32, true);
}
