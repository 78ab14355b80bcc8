/** The event bus dirty mask (docs/spec/FORMAT.md §2): one bit per slot index mod 1024, set by writers, never cleared by the library. */
import { DIRTY_MASK_WORDS, HEADER } from '../../layout/constants.js';
import type { StoreMemory } from '../backing/memory.js';

const OWNER_FD_W32 = HEADER.owner_fd >>> 2;
const DIRTY_W32 = HEADER.dirty_mask >>> 2;

/** When a process has armed the event bus (owner_fd ≠ -1), marks the slot dirty for it. */
export function markDirty(m: StoreMemory, index: number): void {
  if (m.i32[OWNER_FD_W32] === -1) return; // plain load: arming is rare and racy in C too
  const bit = index & 1023;
  Atomics.or(m.u32, DIRTY_W32 + (bit >>> 5), 1 << (bit & 31));
}

/** The 16 dirty-mask words. */
export function dirtyWords(m: StoreMemory): bigint[] {
  return Array.from({ length: DIRTY_MASK_WORDS }, (_, i) => Atomics.load(m.u64, (HEADER.dirty_mask >>> 3) + i));
}
