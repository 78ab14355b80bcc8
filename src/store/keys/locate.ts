import { contested, SplinterError } from '../../errors.js';
import type { KvContext } from '../handle/context.js';
import { locateKey, slotHoldsKey } from './probe.js';
import { tryLock, unlock } from '../sync/seqlock.js';
import { keyName, type Key } from './key-text.js';

/** Encodes and finds a key that must exist: its slot index, else ENOENT. */
export function requireSlot(ctx: KvContext, keyText: Key, what: string): number {
  ctx.key.encode(keyText);
  const index = locateKey(ctx.m, ctx.key);
  if (index < 0) throw new SplinterError('ENOENT', `${what} "${keyName(keyText)}": no such key`);
  return index;
}

/** lockIfHolding's answers. */
const LOCKED = 0;
const BUSY = 1;
const GONE = 2;

/**
 * One attempt at a slot: LOCKED when we now hold it and it holds the current key; BUSY when a
 * writer is inside (or took it first); GONE, released again, when it no longer holds the key
 * (C's unset takes no lock: the key may leave between a find and the CAS).
 */
function lockIfHolding(ctx: KvContext, slotByte: number): number {
  const m = ctx.m;
  const epochW = m.epochW32(slotByte);
  if (!tryLock(m.u32, epochW)) return BUSY;
  if (slotHoldsKey(m, slotByte, ctx.key)) return LOCKED;
  unlock(m.u32, m.u64, epochW);
  return GONE;
}

/**
 * The store's find → lock → check loop: takes the seqlock of the slot holding the current key
 * (encoded by the caller), finding it again after each busy or emptied attempt, within the
 * budget. `found` is the slot the caller located already, or -1 to locate it here. Returns the
 * slot index, -1 when the key is missing; EAGAIN when the slot stays busy.
 */
export function lockKey(ctx: KvContext, keyText: Key, what: string, found = -1): number {
  let index = found;
  let retrying = false;
  for (;;) {
    if (index < 0) index = locateKey(ctx.m, ctx.key);
    if (index < 0) return -1;
    if (lockIfHolding(ctx, ctx.m.slotByte(index)) === LOCKED) return index;
    // The budget starts at the first retry: the common uncontested call never reads the clock.
    if (!retrying) {
      retrying = true;
      ctx.backoff.reset();
    }
    if (!ctx.backoff.next()) throw contested(what, keyName(keyText), ctx.backoff.budgetMs);
    index = -1;
  }
}

/** Takes one given slot if it still holds the current key, retrying while busy within the budget; false when it does not, or stays busy. */
export function lockSlotHoldingKey(ctx: KvContext, slotByte: number): boolean {
  ctx.backoff.reset();
  for (;;) {
    const answer = lockIfHolding(ctx, slotByte);
    if (answer !== BUSY) return answer === LOCKED;
    if (!ctx.backoff.next()) return false;
  }
}

/** Encodes an existing key and takes its seqlock (lockKey): the slot index; ENOENT when missing, EAGAIN when it stays busy. */
export function lockExistingKey(ctx: KvContext, keyText: Key, what: string): number {
  ctx.key.encode(keyText);
  const index = lockKey(ctx, keyText, what);
  if (index < 0) throw new SplinterError('ENOENT', `${what} "${keyName(keyText)}": no such key`);
  return index;
}

/** Waits, within the budget, until a key's slot epoch is even (for operations that take no lock). */
export function awaitEvenEpoch(ctx: KvContext, index: number, keyText: Key, what: string): void {
  const m = ctx.m;
  const epochW = m.epochW32(m.slotByte(index));
  ctx.backoff.reset();
  while ((Atomics.load(m.u32, epochW) & 1) !== 0) {
    if (!ctx.backoff.next()) throw contested(what, keyName(keyText), ctx.backoff.budgetMs);
  }
}
