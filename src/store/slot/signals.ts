/** Signal groups (docs/spec/FORMAT.md §7): which slots pulse which of the 64 group counters. */
import { describe, SplinterError } from '../../errors.js';
import { HEADER, SIGNAL_GROUP_STRIDE, SLOT, SPLINTER_MAX_GROUPS, U64_MAX } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { lockExistingKey, requireSlot } from '../keys/locate.js';
import type { StoreMemory } from '../backing/memory.js';
import { pulseSlot } from './pulse.js';
import { unlock } from '../sync/seqlock.js';
import { type Key } from '../keys/key-text.js';

export function checkGroup(group: unknown, what: string): number {
  if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group >= SPLINTER_MAX_GROUPS) {
    throw new SplinterError('EINVAL', `${what}: a signal group is an integer 0..${SPLINTER_MAX_GROUPS - 1}, received ${describe(group)}`);
  }
  return group;
}

/** watch_register / watch_unregister: this key's writes pulse `group` (or stop). */
export function setWatcherBit(ctx: KvContext, keyText: Key, group: number, on: boolean): void {
  const what = on ? 'watchRegister' : 'watchUnregister';
  checkGroup(group, what);
  const m = ctx.m;
  const index = requireSlot(ctx, keyText, what);
  const at = (m.slotByte(index) + SLOT.watcher_mask) >>> 3;
  const bit = 1n << BigInt(group);
  if (on) Atomics.or(m.u64, at, bit);
  else Atomics.and(m.u64, at, ~bit & U64_MAX);
}

/** pulse_keygroup: pulses the key's groups without writing it. */
export function pulseKeygroup(ctx: KvContext, keyText: Key): void {
  const m = ctx.m;
  const index = requireSlot(ctx, keyText, 'pulseKeygroup');
  pulseSlot(m, m.slotByte(index));
  ctx.writeListener.afterWrite(index, false);
}

/** bump_slot: takes the seqlock, pulses, releases: watchers of the key wake, the value is unchanged. */
export function bumpSlot(ctx: KvContext, keyText: Key): void {
  const m = ctx.m;
  const index = lockExistingKey(ctx, keyText, 'bumpSlot');
  const slotByte = m.slotByte(index);
  pulseSlot(m, slotByte);
  unlock(m.u32, m.u64, m.epochW32(slotByte));
  ctx.writeListener.afterWrite(index, false);
}

export function signalCount(m: StoreMemory, group: number): bigint {
  checkGroup(group, 'getSignalCount');
  return Atomics.load(m.u64, (HEADER.signal_groups + group * SIGNAL_GROUP_STRIDE) >>> 3);
}
