/** What a subscription watches, each able to say cheaply whether it changed since last seen. */
import { HEADER, SIGNAL_GROUP_STRIDE } from '../layout/constants.js';
import type { KvContext } from '../store/handle/context.js';
import { locateKey } from '../store/keys/probe.js';
import type { Key } from '../store/keys/key-text.js';

export interface Tracker {
  /** True when the watched thing changed since the last call that returned true (or since creation). */
  changed(): boolean;
}

/**
 * A key's (slot, epoch) pair, found through the handle's validated memory of key places
 * (probe.ts locateKey): a look costs a few loads, and a key that moved, went away, or got an
 * earlier copy from C (docs/spec/FORMAT.md §9 Q1) is found where readers find it. A change is any
 * difference, backwards too (unset, retrain); an odd epoch (a writer inside) is not reported
 * until the writer leaves.
 */
export class KeyTracker implements Tracker {
  private slot = -1;
  private seenSlot = -1;
  private seenEpochLo = 0;
  private currentLo = 0;
  /** The slot the key was in when the last change reported found it gone (-1 when it is there, or was never). */
  leftSlot = -1;

  constructor(
    private readonly kv: KvContext,
    readonly key: Key,
  ) {
    this.sample();
    this.seenSlot = this.slot;
    this.seenEpochLo = this.currentLo;
  }

  private sample(): void {
    const m = this.kv.m;
    const codec = this.kv.key;
    codec.encode(this.key);
    const slot = locateKey(m, codec);
    this.slot = slot;
    this.currentLo = slot < 0 ? 0 : Atomics.load(m.u32, m.epochW32(m.slotByte(slot)));
  }

  changed(): boolean {
    this.sample();
    if (this.slot === this.seenSlot && this.currentLo === this.seenEpochLo) return false;
    if (this.slot >= 0 && (this.currentLo & 1) !== 0) return false; // a writer is inside: report when it leaves
    this.leftSlot = this.slot < 0 ? this.seenSlot : -1;
    this.seenSlot = this.slot;
    this.seenEpochLo = this.currentLo;
    return true;
  }

  /** The key's slot epoch now (0n when missing). */
  epoch(): bigint {
    const m = this.kv.m;
    return this.slot < 0 ? 0n : Atomics.load(m.u64, m.epochW32(m.slotByte(this.slot)) >>> 1);
  }
}

/** A signal group's counter. */
export class SignalTracker implements Tracker {
  private readonly word: number;
  private seen: bigint;

  constructor(
    private readonly kv: KvContext,
    group: number,
  ) {
    this.word = (HEADER.signal_groups + group * SIGNAL_GROUP_STRIDE) >>> 3;
    this.seen = this.count();
  }

  count(): bigint {
    return Atomics.load(this.kv.m.u64, this.word);
  }

  changed(): boolean {
    const now = this.count();
    if (now === this.seen) return false;
    this.seen = now;
    return true;
  }
}
