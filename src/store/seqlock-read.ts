import type { KvContext } from './kv.js';
import { contested } from './kv.js';
import { locateKey } from './probe.js';

/**
 * The seqlock read of docs/spec/FORMAT.md §6 for readers off the hot path (getBigUint, getEmbedding,
 * rawView): find the key, load an even epoch, let `read` copy what it needs, and accept the
 * result only if the epoch is unchanged and the slot still holds the key's hash. `stable`
 * (usable later too, e.g. as a view's stillValid) says whether that still holds: `read` throws
 * an error about the slot's bytes only after `stable()` confirms they were not mid-write.
 * Returns undefined when the key is missing; EAGAIN when the slot stays busy.
 */
export function readKeySlot<T>(
  ctx: KvContext,
  keyText: string,
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
    const slotByte = m.slotByte(index);
    const epochW = m.epochW32(slotByte);
    const before = Atomics.load(m.u32, epochW);
    if ((before & 1) === 0) {
      const stable = (): boolean =>
        Atomics.load(m.u32, epochW) === before && m.i32[slotByte >>> 2] === hashLo && m.i32[(slotByte >>> 2) + 1] === hashHi;
      const result = read(index, slotByte, stable);
      if (stable()) return result;
    }
    if (!ctx.backoff.next()) throw contested(what, keyText, ctx.backoff.budgetMs);
  }
}
