/**
 * The reads of docs/spec/FORMAT.md §7 (get, and the copies into a caller's array or a string):
 * the seqlock read of docs/spec/FORMAT.md §6, each copy accepted through sync/read-check.ts, every
 * offset bounds-checked.
 */
import { contested, describe, SplinterError } from '../../errors.js';
import { DEADLINES_PRESENT_BYTE, SLOT } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { isBytes } from './copy.js';
import type { StoreMemory } from '../backing/memory.js';
import { locateKey } from '../keys/probe.js';
import { copyStillValid } from '../sync/read-check.js';
import { expiredNow } from '../slot/deadlines.js';
import { readKeySlot } from '../sync/seqlock-read.js';
import { keyName, type Key } from '../keys/key-text.js';

const utf8Decoder = new TextDecoder();

/** True when a value of `length` bytes at arena offset `offset` cannot be a sound value of this store. */
export function valueOutOfBounds(m: StoreMemory, offset: number, length: number): boolean {
  return length > m.maxStoredLength || length > m.arenaSize || offset > m.arenaSize - length;
}

export function outOfArena(m: StoreMemory, index: number, offset: number, length: number): SplinterError {
  return new SplinterError(
    'ECORRUPT',
    `slot ${index} points its value at arena offset ${offset} + ${length} bytes; values are at most ${m.maxValueSize} bytes inside the ${m.arenaSize}-byte arena`,
  );
}

/**
 * The seqlock read of a value (docs/spec/FORMAT.md §6): copy into `into` (or, with `copy`, into a new
 * array left in `ctx.lastCopy`) between two equal, even epoch loads, and check that the slot
 * still holds the key. Returns the length, -1 when missing. Every caller passes a Uint8Array,
 * so this code stays specialised for one shape.
 */
function readValue(ctx: KvContext, keyText: Key, into: Uint8Array, what: string, copy = false): number {
  const m = ctx.m;
  const u32 = m.u32;
  const key = ctx.key;
  key.encode(keyText);
  const e = key.entry;
  let retrying = false;
  for (;;) {
    const index = locateKey(m, key);
    if (index < 0) return -1;
    // locateKey loaded the global epoch (before the slot epoch below) and left it here: the copy is checked against it.
    const globalBefore = key.expectedEpoch;
    const slotByte = m.slotByte(index);
    const before = Atomics.load(u32, (slotByte + SLOT.epoch) >>> 2);
    if ((before & 1) === 0) {
      // Plain loads, once each: the bound check and the copy use these locals, the epoch check validates them.
      const offset = u32[(slotByte + SLOT.val_off) >>> 2]!;
      const length = u32[(slotByte + SLOT.val_len) >>> 2]!;
      if (valueOutOfBounds(m, offset, length)) {
        if (copyStillValid(m, slotByte, before, e.hashLo, e.hashHi, globalBefore)) throw outOfArena(m, index, offset, length);
      } else {
        let copied = true;
        if (copy) ctx.lastCopy = m.u8.slice(m.arenaStart + offset, m.arenaStart + offset + length);
        else if (length <= into.length) ctx.copier.out(into, m.arenaStart + offset, length);
        else if (copyStillValid(m, slotByte, before, e.hashLo, e.hashHi, globalBefore)) {
          throw new SplinterError('EMSGSIZE', `${what} "${keyName(keyText)}": the value is ${length} bytes, the target holds ${into.length}`);
        } else copied = false;
        // A key past its deadline is missing to every reader of ours, keeper or not (slot/deadlines.ts).
        // The flag byte first, inline and plain (it only ever turns 0 → 1; a read racing that turn races the deadline's write): with no deadlines this is the whole cost.
        if (copied && copyStillValid(m, slotByte, before, e.hashLo, e.hashHi, globalBefore)) {
          return m.u8[DEADLINES_PRESENT_BYTE] !== 0 && expiredNow(ctx, index, slotByte) ? -1 : length;
        }
      }
    }
    if (!retrying) {
      retrying = true;
      ctx.backoff.reset();
    }
    if (!ctx.backoff.next()) throw contested(what, keyName(keyText), ctx.backoff.budgetMs);
  }
}

export function getCopy(ctx: KvContext, keyText: Key): Uint8Array | undefined {
  // `into` is unused when copying; passing the scratch keeps every call of readValue the same shape.
  if (readValue(ctx, keyText, ctx.valueScratch, 'get', true) < 0) {
    ctx.lastCopy = undefined; // an expired key's copy is dropped
    return undefined;
  }
  const copy = ctx.lastCopy!;
  ctx.lastCopy = undefined;
  return copy;
}

export function getInto(ctx: KvContext, keyText: Key, target: Uint8Array): number {
  if (!isBytes(target) && !forwardsBytes(target)) {
    throw new SplinterError('EINVAL', `getInto needs a Uint8Array target, received ${describe(target)}`);
  }
  return readValue(ctx, keyText, target, 'getInto');
}

/**
 * A Proxy around a Uint8Array whose traps forward to it (a caller that watches each byte written,
 * as the ABA tests do) is a target like the array; one with no such traps throws a TypeError at
 * its first getter, and is refused.
 */
function forwardsBytes(target: unknown): boolean {
  if (!(target instanceof Uint8Array)) return false;
  try {
    const { length, byteOffset, buffer } = target; // the getters the copy reads
    return Number.isSafeInteger(length) && Number.isSafeInteger(byteOffset) && buffer !== undefined;
  } catch {
    return false;
  }
}

export function getString(ctx: KvContext, keyText: Key): string | undefined {
  const length = readValue(ctx, keyText, ctx.valueScratch, 'getString');
  return length < 0 ? undefined : utf8Decoder.decode(ctx.valueScratch.subarray(0, length));
}

/**
 * The value as UTF-8 text and the slot's type byte, read in one seqlock section, so the type
 * is the one written with this text (getJSON); undefined when the key is missing.
 */
export function getStringAndType(ctx: KvContext, keyText: Key, what: string): { text: string; type: number } | undefined {
  const m = ctx.m;
  const read = readKeySlot(ctx, keyText, what, (index, slotByte, stable) => {
    // Atomic as C's type_flag is; the epoch check of readKeySlot pairs it with the value below.
    const type = Atomics.load(m.u8, slotByte + SLOT.type_flag);
    // Plain loads, once each: the bound check and the copy use these locals, the epoch check validates them.
    const offset = m.u32[(slotByte + SLOT.val_off) >>> 2]!;
    const length = m.u32[(slotByte + SLOT.val_len) >>> 2]!;
    if (valueOutOfBounds(m, offset, length)) {
      if (stable()) throw outOfArena(m, index, offset, length);
      return { length: 0, type };
    }
    ctx.copier.out(ctx.valueScratch, m.arenaStart + offset, length);
    return { length, type };
  });
  if (read === undefined) return undefined;
  return { text: utf8Decoder.decode(ctx.valueScratch.subarray(0, read.length)), type: read.type };
}
