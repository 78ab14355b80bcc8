import { contested, SplinterError } from '../errors.js';
import type { KvContext } from './context.js';
import { locateKey, slotHoldsKey } from './probe.js';
import { tryLock, unlock } from './seqlock.js';

/** Encodes and finds a key that must exist: its slot byte offset, else ENOENT. */
export function requireSlot(ctx: KvContext, keyText: string, what: string): number {
  ctx.key.encode(keyText);
  const index = locateKey(ctx.m, ctx.key);
  if (index < 0) throw new SplinterError('ENOENT', `${what} "${keyText}": no such key`);
  return index;
}

/**
 * Finds an existing key and takes its seqlock, retrying a busy slot within the budget:
 * returns the slot index; ENOENT when missing, EAGAIN when it stays busy.
 */
export function lockExistingKey(ctx: KvContext, keyText: string, what: string): number {
  const m = ctx.m;
  ctx.key.encode(keyText);
  ctx.backoff.reset();
  for (;;) {
    const index = locateKey(m, ctx.key);
    if (index < 0) throw new SplinterError('ENOENT', `${what} "${keyText}": no such key`);
    const slotByte = m.slotByte(index);
    if (tryLock(m.u32, m.epochW32(slotByte))) {
      // The key may have been unset (C takes no lock to unset) between the find and the CAS.
      if (slotHoldsKey(m, slotByte, ctx.key)) return index;
      unlock(m.u32, m.u64, m.epochW32(slotByte));
    }
    if (!ctx.backoff.next()) throw contested(what, keyText, ctx.backoff.budgetMs);
  }
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
