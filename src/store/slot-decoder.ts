/**
 * The one decoder of a slot's fields (docs/spec/FORMAT.md §3), for the library's snapshots
 * (snapshot.ts, read from the mapped store under the readers' check) and the CLI's raw scan
 * (cli/scan.ts, read from a copy of the file's bytes). Field names are those of SlotSnapshot
 * (docs/spec/API.md), the camel-cased C fields with val_off and val_len spelled out.
 */
import { SLOT } from '../layout/constants.js';

/** Typed views of the bytes a slot is decoded from (a StoreMemory, or views over a copy). */
export interface SlotWords {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
}

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

/** Views over a byte copy of slots (copied again when it does not start 8-byte aligned). */
export function slotWordsOf(bytes: Uint8Array): SlotWords {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const { buffer, byteOffset, byteLength } = aligned;
  return {
    u8: aligned,
    u32: new Uint32Array(buffer, byteOffset, byteLength >>> 2),
    u64: new BigUint64Array(buffer, byteOffset, Math.floor(byteLength / 8)),
  };
}

/** Decodes the slot at byte `slotByte` of `w`; each field atomic on its own (the caller checks the set). */
export function decodeSlot<Key>(w: SlotWords, slotByte: number, index: number, key: Key): DecodedSlot<Key> {
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
