import {
  BLOOM_WATCH_NONE,
  CORE_FLAGS_INITIAL,
  HEADER,
  SLOT,
  SlotType,
  SPLINTER_MAGIC,
  SPLINTER_MAX_GROUPS,
  SPLINTER_VER,
} from '../../layout/constants.js';
import type { StoreMemory } from '../backing/memory.js';

/**
 * Writes a fresh store image (docs/spec/FORMAT.md §4) over zeroed bytes. The magic is written last,
 * so a concurrent opener that sees it sees an initialised store.
 */
export function initialiseStore(m: StoreMemory): void {
  const { u8, u32, i32, u64 } = m;
  u32[HEADER.version >>> 2] = SPLINTER_VER;
  u32[HEADER.slots >>> 2] = m.slots;
  u32[HEADER.max_val_sz >>> 2] = m.maxValueSize;
  u64[HEADER.epoch >>> 3] = 1n;
  u8[HEADER.core_flags] = CORE_FLAGS_INITIAL;
  u32[HEADER.val_sz >>> 2] = m.totalSize;
  u8.fill(BLOOM_WATCH_NONE, HEADER.bloom_watches, HEADER.bloom_watches + SPLINTER_MAX_GROUPS);
  i32[HEADER.owner_fd >>> 2] = -1;
  for (let i = 0; i < m.slots; i++) {
    const s = m.slotByte(i);
    u32[(s + SLOT.val_off) >>> 2] = m.homeOffset(i);
    u8[s + SLOT.type_flag] = SlotType.VOID;
  }
  Atomics.store(u32, HEADER.magic >>> 2, SPLINTER_MAGIC);
}
