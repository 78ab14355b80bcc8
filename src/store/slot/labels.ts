/** Labels: a 64-bit bloom mask per slot, and the header table binding label bits to signal groups. */
import { BLOOM_WATCH_NONE, HEADER, SLOT, SPLINTER_BLOOM_BITS, U64_MAX } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { readStoredKey } from '../keys/list.js';
import { requireSlot } from '../keys/locate.js';
import { bumpGlobalEpoch } from '../sync/seqlock.js';
import { checkGroup } from './signals.js';
import { toU64 } from '../values/u64-bytes.js';
import { type Key } from '../keys/key-text.js';

/** set_label / unset_label: OR or AND-NOT the mask into the key's labels; the global epoch moves. No seqlock, no pulse. */
export function changeLabels(ctx: KvContext, keyText: Key, mask: bigint, on: boolean): void {
  const what = on ? 'setLabel' : 'unsetLabel';
  const bits = toU64(mask, `${what} mask`);
  const m = ctx.m;
  const index = requireSlot(ctx, keyText, what);
  const at = (m.slotByte(index) + SLOT.bloom) >>> 3;
  if (on) Atomics.or(m.u64, at, bits);
  else Atomics.and(m.u64, at, ~bits & U64_MAX);
  bumpGlobalEpoch(m.u32, m.globalEpochW32);
  ctx.writeListener.afterWrite(index, true);
}

/** watch_label_register: every label bit in `mask` pulses `group` from now on (or none, with undefined). */
export function bindLabels(ctx: KvContext, mask: bigint, group: number | undefined): void {
  const bits = toU64(mask, 'label mask');
  const value = group === undefined ? BLOOM_WATCH_NONE : checkGroup(group, 'watchLabelRegister');
  for (let b = 0; b < SPLINTER_BLOOM_BITS; b++) {
    if ((bits >> BigInt(b)) & 1n) Atomics.store(ctx.m.u8, HEADER.bloom_watches + b, value);
  }
}

export interface LabelMatch {
  /** A string when the key is UTF-8, else its bytes. */
  key: Key;
  epoch: bigint;
}

/** enumerate_matches: keys whose labels include every bit of `mask`, in slot order, with their epochs. */
export function enumerateMatches(ctx: KvContext, mask: bigint): LabelMatch[] {
  const bits = toU64(mask, 'enumerateMatches mask');
  const m = ctx.m;
  const matches: LabelMatch[] = [];
  for (let index = 0; index < m.slots; index++) {
    const slotByte = m.slotByte(index);
    const hash = Atomics.load(m.u64, slotByte >>> 3);
    if (hash === 0n) continue;
    if ((Atomics.load(m.u64, (slotByte + SLOT.bloom) >>> 3) & bits) !== bits) continue;
    const key = readStoredKey(ctx, index);
    const epoch = Atomics.load(m.u64, (slotByte + SLOT.epoch) >>> 3);
    // A slot emptied while we read it is left out rather than reported with a half-cleared key.
    if (Atomics.load(m.u64, slotByte >>> 3) === hash) matches.push({ key, epoch });
  }
  return matches;
}
