/**
 * The one decoder of a slot's fields (docs/spec/FORMAT.md §3), for the library's snapshots
 * (snapshot.ts, read from the mapped store under the readers' check) and the CLI's raw scan
 * (cli/scan.ts, read from a copy of the file's bytes). Field names are those of SlotSnapshot
 * (docs/spec/API.md), the camel-cased C fields with val_off and val_len spelled out.
 */
import { SLOT } from '../../layout/constants.js';
import type { StoreWords } from './words.js';

/** A slot's fields, its index and its key (a string, or the raw key bytes). */
export interface DecodedSlot<Key> {
  index: number;
  key: Key;
  hash: bigint;
  epoch: bigint;
  /** val_off: where the value starts, relative to the arena start. */
  valueOffset: number;
  /** val_len: the value's live length. */
  valueLength: number;
  typeFlag: number;
  userFlag: number;
  watcherMask: bigint;
  ctime: bigint;
  atime: bigint;
  bloom: bigint;
}

/** Decodes the slot at byte `slotByte` of `w`; each field atomic on its own (the caller checks the set). */
export function decodeSlot<Key>(w: StoreWords, slotByte: number, index: number, key: Key): DecodedSlot<Key> {
  const { u8, u32, u64 } = w;
  return {
    index,
    key,
    hash: Atomics.load(u64, (slotByte + SLOT.hash) >>> 3),
    epoch: Atomics.load(u64, (slotByte + SLOT.epoch) >>> 3),
    valueOffset: Atomics.load(u32, (slotByte + SLOT.val_off) >>> 2),
    valueLength: Atomics.load(u32, (slotByte + SLOT.val_len) >>> 2),
    typeFlag: Atomics.load(u8, slotByte + SLOT.type_flag),
    userFlag: Atomics.load(u8, slotByte + SLOT.user_flag),
    watcherMask: Atomics.load(u64, (slotByte + SLOT.watcher_mask) >>> 3),
    ctime: Atomics.load(u64, (slotByte + SLOT.ctime) >>> 3),
    atime: Atomics.load(u64, (slotByte + SLOT.atime) >>> 3),
    bloom: Atomics.load(u64, (slotByte + SLOT.bloom) >>> 3),
  };
}
