import { contested } from '../../errors.js';
import type { KvContext } from '../handle/context.js';
import { locateKey } from '../keys/probe.js';
import { copyStillValid } from './read-check.js';
import { expiredNow } from '../slot/deadlines.js';
import { keyName, type Key } from '../keys/key-text.js';

/**
 * The seqlock read of docs/spec/FORMAT.md §6 for readers off the hot path (getBigUint, getEmbedding,
 * rawView): find the key, load an even epoch, let `read` copy what it needs, and accept the
 * result only if it passes the readers' check (read-check.ts: hash, epoch, global epoch). `stable`
 * (usable later too, e.g. as a view's stillValid) says whether that still holds: `read` throws
 * an error about the slot's bytes only after `stable()` confirms they were not mid-write.
 * Returns undefined when the key is missing; EAGAIN when the slot stays busy.
 */
export function readKeySlot<T>(
  ctx: KvContext,
  keyText: Key,
  what: string,
  read: (index: number, slotByte: number, stable: () => boolean) => T,
): T | undefined {
  const m = ctx.m;
  ctx.key.encode(keyText);
  const hashLo = ctx.key.hashLo;
  const hashHi = ctx.key.hashHi;
  ctx.backoff.reset();
  for (;;) {
    const index = locateKey(m, ctx.key);
    if (index < 0) return undefined;
    // locateKey loaded the global epoch before the slot epoch below and left it here.
    const globalBefore = ctx.key.expectedEpoch;
    const slotByte = m.slotByte(index);
    const before = Atomics.load(m.u32, m.epochW32(slotByte));
    if ((before & 1) === 0) {
      const stable = (): boolean => copyStillValid(m, slotByte, before, hashLo, hashHi, globalBefore);
      const result = read(index, slotByte, stable);
      // A key past its deadline is missing to every reader of ours (slot/deadlines.ts).
      if (stable()) return expiredNow(ctx, index, slotByte) ? undefined : result;
    }
    if (!ctx.backoff.next()) throw contested(what, keyName(keyText), ctx.backoff.budgetMs);
  }
}
