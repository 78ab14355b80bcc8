import { contested } from '../../errors.js';
import { SLOT } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { readStoredKey } from '../keys/list.js';
import { outOfArena, valueOutOfBounds } from './read.js';
import { locateKey } from '../keys/probe.js';
import { copyStillValid, globalEpochNow } from '../sync/read-check.js';
import { readKeySlot } from '../sync/seqlock-read.js';
import { decodeSlot, type DecodedSlot } from '../format/slot-decoder.js';
import { keyName, keyOfBytes, type Key } from '../keys/key-text.js';

/** A slot's fields as the library reports them (docs/spec/API.md). */
/** `key`: a string when the key is UTF-8, else its bytes (docs/api.md, "Keys"). */
export interface SlotSnapshot extends DecodedSlot<Key> {}

/** Slot fields read under the readers' check (sync/read-check.ts). */
export function readSlotSnapshot(ctx: KvContext, index: number, keyText: Key | undefined): SlotSnapshot | undefined {
  const m = ctx.m;
  const { u32 } = m;
  const slotByte = m.slotByte(index);
  const epochW = m.epochW32(slotByte);
  ctx.backoff.reset();
  for (;;) {
    const globalBefore = globalEpochNow(m); // before the slot epoch: the snapshot is checked against both
    const before = Atomics.load(u32, epochW);
    if ((before & 1) === 0) {
      const key = keyText === undefined ? readStoredKey(ctx, index) : typeof keyText === 'string' ? keyText : keyOfBytes(keyText);
      const snapshot: SlotSnapshot = decodeSlot(m, slotByte, index, key);
      // Checked against the key's hash, or (a slot by index) the hash the snapshot read.
      const hashLo = keyText === undefined ? Number(BigInt.asIntN(32, snapshot.hash)) : ctx.key.hashLo;
      const hashHi = keyText === undefined ? Number(BigInt.asIntN(32, snapshot.hash >> 32n)) : ctx.key.hashHi;
      if (copyStillValid(m, slotByte, before, hashLo, hashHi, globalBefore)) return snapshot;
    }
    if (!ctx.backoff.next()) throw contested('slotSnapshot', keyText === undefined ? `slot ${index}` : keyName(keyText), ctx.backoff.budgetMs);
  }
}

export function slotSnapshotOfKey(ctx: KvContext, keyText: Key): SlotSnapshot | undefined {
  ctx.key.encode(keyText);
  const index = locateKey(ctx.m, ctx.key);
  return index < 0 ? undefined : readSlotSnapshot(ctx, index, keyText);
}

export interface RawView {
  /** The value's bytes inside the store: valid only while `stillValid()` says so. */
  readonly bytes: Uint8Array;
  readonly epoch: bigint;
  /** True while no writer has touched the slot since the view was taken. */
  stillValid(): boolean;
}

/** A zero-copy view of a value (C's get_raw_ptr), with the epoch to validate it against. */
export function rawView(ctx: KvContext, keyText: Key): RawView | undefined {
  const m = ctx.m;
  return readKeySlot(ctx, keyText, 'rawView', (index, slotByte, stable) => {
    const offset = m.u32[(slotByte + SLOT.val_off) >>> 2]!;
    const length = m.u32[(slotByte + SLOT.val_len) >>> 2]!;
    if (valueOutOfBounds(m, offset, length)) {
      if (stable()) throw outOfArena(m, index, offset, length);
      return undefined;
    }
    const start = m.arenaStart + offset;
    const epoch = Atomics.load(m.u64, (slotByte + SLOT.epoch) >>> 3);
    return { bytes: m.u8.subarray(start, start + length), epoch, stillValid: stable };
  });
}
