import { contested, SplinterError } from '../errors.js';
import type { KvContext } from './context.js';
import { locateKey, slotHoldsKey } from './probe.js';
import { tryLock, unlock } from './seqlock.js';

/** Encodes and finds a key that must exist: its slot index, else ENOENT. */
export function requireSlot(ctx: KvContext, keyText: string, what: string): number {
  ctx.key.encode(keyText);
  const index = locateKey(ctx.m, ctx.key);
  if (index < 0) throw new SplinterError('ENOENT', `${what} "${keyText}": no such key`);
  return index;
}

/**
 * The one find → lock → check loop of the store: takes the seqlock of the slot holding the
 * current key (encoded by the caller), retrying within the budget while the slot is busy or the
 * key left between the find and the CAS (C's unset takes no lock). `found` is the slot the caller
 * located already, or -1 to locate it here. Returns the slot index, -1 when the key is missing;
 * EAGAIN when the slot stays busy.
 */
export function lockKey(ctx: KvContext, keyText: string, what: string, found = -1): number {
  const m = ctx.m;
  let index = found;
  let retrying = false;
  for (;;) {
    if (index < 0) index = locateKey(m, ctx.key);
    if (index < 0) return -1;
    const slotByte = m.slotByte(index);
    const epochW = m.epochW32(slotByte);
    if (tryLock(m.u32, epochW)) {
      if (slotHoldsKey(m, slotByte, ctx.key)) return index;
      unlock(m.u32, m.u64, epochW);
    }
    // The budget starts at the first retry: the common uncontested call never reads the clock.
    if (!retrying) {
      retrying = true;
      ctx.backoff.reset();
    }
    if (!ctx.backoff.next()) throw contested(what, keyText, ctx.backoff.budgetMs);
    index = -1;
  }
}

/** Encodes an existing key and takes its seqlock (lockKey): the slot index; ENOENT when missing, EAGAIN when it stays busy. */
export function lockExistingKey(ctx: KvContext, keyText: string, what: string): number {
  ctx.key.encode(keyText);
  const index = lockKey(ctx, keyText, what);
  if (index < 0) throw new SplinterError('ENOENT', `${what} "${keyText}": no such key`);
  return index;
}

/** Waits, within the budget, until a key's slot epoch is even (for operations that take no lock). */
export function awaitEvenEpoch(ctx: KvContext, index: number, keyText: string, what: string): void {
  const m = ctx.m;
  const epochW = m.epochW32(m.slotByte(index));
  ctx.backoff.reset();
  while ((Atomics.load(m.u32, epochW) & 1) !== 0) {
    if (!ctx.backoff.next()) throw contested(what, keyText, ctx.backoff.budgetMs);
  }
}
