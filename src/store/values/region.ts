/**
 * A slot's value region: the part of the arena a slot owns (a fresh store points each slot's
 * val_off there, docs/spec/FORMAT.md §4), brought back into use when C relocated the value
 * elsewhere, and the zeroing the mop mode asks around a value.
 */
import { HEADER, SCRUB_LINE, SLOT, SPL_SYS_AUTO_SCRUB, SPL_SYS_HYBRID_SCRUB } from '../../layout/constants.js';
import type { StoreMemory } from '../backing/memory.js';

/**
 * Makes a slot we hold use its own value region again, moving the first `keepLength` bytes
 * of a value that C relocated (docs/spec/FORMAT.md §9 Q3), so no write of ours lands in another
 * slot's bytes. Returns the home offset, or -1 when the value is too long to move home.
 */
export function claimHomeRegion(m: StoreMemory, index: number, slotByte: number, keepLength: number): number {
  const home = m.homeOffset(index);
  const w = (slotByte + SLOT.val_off) >>> 2;
  const offset = m.u32[w]!; // we hold the slot: no writer of ours moves it
  if (offset !== home) {
    if (keepLength > m.maxValueSize) return -1;
    if (keepLength > 0 && offset <= m.arenaSize - keepLength) {
      m.u8.copyWithin(m.arenaStart + home, m.arenaStart + offset, m.arenaStart + offset + keepLength);
    }
    Atomics.store(m.u32, w, home);
  }
  return home;
}

/**
 * Zeroes what the mop mode says around a new value of `length` bytes: C zeroes from the region
 * start, then copies the value over the first `length` bytes, so zeroing only the tail leaves
 * the same bytes for less work.
 */
export function scrub(m: StoreMemory, regionStart: number, length: number): void {
  const flags = m.u8[HEADER.core_flags]!; // a mode change racing a set may apply either way, as in C
  let end = 0;
  if ((flags & SPL_SYS_HYBRID_SCRUB) !== 0) end = Math.min((length + SCRUB_LINE - 1) & -SCRUB_LINE, m.maxValueSize);
  else if ((flags & SPL_SYS_AUTO_SCRUB) !== 0) end = m.maxValueSize;
  if (end > length) zeroBytes(m, regionStart + length, regionStart + end);
}

/** Zeroes store bytes [from, to): whole words where both ends are aligned and the span is short (fill() is a call). */
export function zeroBytes(m: StoreMemory, from: number, to: number): void {
  if (to - from > 128) {
    m.u8.fill(0, from, to);
  } else if (((from | to) & 3) === 0) {
    const i32 = m.i32;
    for (let w = from >>> 2; w < to >>> 2; w++) i32[w] = 0;
  } else {
    const u8 = m.u8;
    for (let i = from; i < to; i++) u8[i] = 0;
  }
}
