/**
 * C moves a short value it names BIGUINT to `val_brk`, a bump pointer that starts inside slot
 * 0's value region (docs/spec/FORMAT.md §9 Q3), so a key's value can live in another slot's region.
 * Before any write of ours into a value region, every such value is moved back to its own
 * slot's region, so no write of ours lands on another key's value. val_brk only grows, so
 * this costs one load per write until C relocates again.
 */
import { HEADER, SLOT } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { tryLock, unlock } from '../sync/seqlock.js';

export const VAL_BRK_W32 = HEADER.val_brk >>> 2;
const ATTEMPTS = 64;

export function evacuateRelocated(ctx: KvContext): void {
  const m = ctx.m;
  const brk = m.u32[VAL_BRK_W32]!;
  if (brk === ctx.seenValBrk) return;
  const moving: Array<{ index: number; slotByte: number; offset: number; bytes: Uint8Array }> = [];
  let complete = true;
  for (let index = 0; index < m.slots; index++) {
    const slotByte = m.slotByte(index);
    const offsetW = (slotByte + SLOT.val_off) >>> 2;
    if (m.u32[offsetW] === m.homeOffset(index)) continue;
    let locked = false;
    for (let attempt = 0; attempt < ATTEMPTS && !locked; attempt++) locked = tryLock(m.u32, m.epochW32(slotByte));
    if (!locked) {
      complete = false; // a writer is inside: try again at our next write
      continue;
    }
    const offset = m.u32[offsetW]!;
    const length = m.u32[(slotByte + SLOT.val_len) >>> 2]!;
    const live = m.i32[slotByte >>> 2] !== 0 || m.i32[(slotByte >>> 2) + 1] !== 0;
    if (live && (length > m.maxValueSize || offset > m.arenaSize - length)) {
      unlock(m.u32, m.u64, m.epochW32(slotByte)); // cannot move home: left where C put it
      continue;
    }
    const start = m.arenaStart + offset;
    moving.push({ index, slotByte, offset, bytes: live ? m.u8.slice(start, start + length) : new Uint8Array(0) });
  }
  // Every value is copied out before any is written home: a home region may hold another's value.
  for (const { index, slotByte, bytes } of moving) {
    const home = m.homeOffset(index);
    m.u8.set(bytes, m.arenaStart + home);
    Atomics.store(m.u32, (slotByte + SLOT.val_off) >>> 2, home);
  }
  for (const { slotByte } of moving) unlock(m.u32, m.u64, m.epochW32(slotByte));
  if (complete) ctx.seenValBrk = brk;
}
