/**
 * The one decoder of the header's fields (docs/spec/FORMAT.md §2), for the library's
 * headerSnapshot (read from the mapped store) and the CLI's raw scan (read from a copy of the
 * file's bytes). Field names are those of HeaderSnapshot (docs/spec/API.md), the camel-cased C fields.
 */
import { HEADER, SPLINTER_BLOOM_BITS } from '../../layout/constants.js';
import type { StoreWords } from './words.js';

export interface HeaderSnapshot {
  magic: number;
  version: number;
  slots: number;
  maxValueSize: number;
  epoch: bigint;
  coreFlags: number;
  userFlags: number;
  parseFailures: bigint;
  lastFailureEpoch: bigint;
  /** Beyond docs/spec/API.md: the rest of the header, for operators. */
  valBrk: number;
  valSz: number;
  ownerFd: number;
  ownerPid: number;
  /** bloom_watches: for each label bit, the signal group it pulses (255 = none). */
  labelGroups: number[];
}

/** Decodes the header at the start of `w`; each field atomic on its own, not as a set. */
export function decodeHeader(w: StoreWords): HeaderSnapshot {
  const { u8, u32, u64 } = w;
  return {
    magic: Atomics.load(u32, HEADER.magic >>> 2),
    version: Atomics.load(u32, HEADER.version >>> 2),
    slots: Atomics.load(u32, HEADER.slots >>> 2),
    maxValueSize: Atomics.load(u32, HEADER.max_val_sz >>> 2),
    epoch: Atomics.load(u64, HEADER.epoch >>> 3),
    coreFlags: Atomics.load(u8, HEADER.core_flags),
    userFlags: Atomics.load(u8, HEADER.user_flags),
    parseFailures: Atomics.load(u64, HEADER.parse_failures >>> 3),
    lastFailureEpoch: Atomics.load(u64, HEADER.last_failure_epoch >>> 3),
    valBrk: Atomics.load(u32, HEADER.val_brk >>> 2),
    valSz: Atomics.load(u32, HEADER.val_sz >>> 2),
    // owner_fd and owner_pid are C ints: -1 is "none".
    ownerFd: Atomics.load(u32, HEADER.owner_fd >>> 2) | 0,
    ownerPid: Atomics.load(u32, HEADER.owner_pid >>> 2) | 0,
    labelGroups: Array.from({ length: SPLINTER_BLOOM_BITS }, (_, b) => Atomics.load(u8, HEADER.bloom_watches + b)),
  };
}
