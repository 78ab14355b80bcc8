/**
 * Model-test steps on labels and the signal bus (docs/spec/FORMAT.md §7): labels, label
 * bindings, watch registrations, pulses, signal counts and label matches.
 */
import type { SplinterErrorCode } from '../../src/index.js';
import type { PeerAnswer } from '../../test/helpers/peer.js';
import { BLOOM_BITS, hex, MAX_GROUPS, U64_MAX } from '../lib/layout.js';
import { equal, expectPeer, expectThrows, type Real } from './checks.js';
import { note, ran } from './reach.js';
import { NO_GROUP, type Side, type SlotModel } from './slot-model.js';
import { FeatureStep, Step, type KeySource } from './step.js';

/** setLabel / unsetLabel: bloom OR / AND NOT mask, global epoch +1; no seqlock, no pulse. */
export class LabelCmd extends FeatureStep {
  protected get op(): 'setLabel' | 'unsetLabel' {
    return this.on ? 'setLabel' : 'unsetLabel';
  }
  constructor(side: Side, source: KeySource, readonly mask: bigint, readonly on: boolean) {
    super(side, source);
  }
  protected describe(): string {
    return `${this.op}(${this.shownKey}, 0x${this.mask.toString(16)})`;
  }
  protected callOurs(r: Real): unknown {
    return this.on ? r.store.setLabel(this.key, this.mask) : r.store.unsetLabel(this.key, this.mask);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: this.on ? 'set_label' : 'unset_label', mask: String(this.mask) };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    const s = m.slots[index]!;
    s.bloom = this.on ? s.bloom | this.mask : s.bloom & ~this.mask & U64_MAX;
    m.globalEpoch = (m.globalEpoch + 1n) & U64_MAX;
  }
}

/** pulseKeygroup / pulse_keygroup: pulse only. */
export class PulseCmd extends FeatureStep {
  protected readonly op = 'pulseKeygroup';
  protected describe(): string {
    return `pulseKeygroup(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.pulseKeygroup(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'pulse_keygroup' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    m.pulse(index);
  }
}

/** watchRegister / watchUnregister: watcher_mask OR / AND NOT bit g; group 64: ours EINVAL, C -2 EINVAL. */
export class WatchCmd extends FeatureStep {
  protected get op(): 'watchRegister' | 'watchUnregister' {
    return this.on ? 'watchRegister' : 'watchUnregister';
  }
  constructor(side: Side, source: KeySource, readonly group: number, readonly on: boolean) {
    super(side, source);
  }
  protected describe(): string {
    return `${this.op}(${this.shownKey}, ${this.group})`;
  }
  protected override argumentError(): SplinterErrorCode | undefined {
    return this.group >= MAX_GROUPS ? 'EINVAL' : undefined;
  }
  protected callOurs(r: Real): unknown {
    return this.on ? r.store.watchRegister(this.key, this.group) : r.store.watchUnregister(this.key, this.group);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: this.on ? 'watch_register' : 'watch_unregister', group: this.group };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    const s = m.slots[index]!;
    const bit = 1n << BigInt(this.group);
    s.watcherMask = this.on ? s.watcherMask | bit : s.watcherMask & ~bit & U64_MAX;
  }
}

/**
 * watchLabelRegister(mask, g): bloom_watches[b] = g for each bit b of mask. 'none': ours
 * watchLabelUnregister, C group 255. Group 64: ours refuses (EINVAL), C stores 64 ("no group").
 */
export class WatchLabelCmd extends Step {
  constructor(side: Side, readonly mask: bigint, readonly group: number | 'none') {
    super(side);
  }
  protected describe(): string {
    return this.group === 'none' && this.side === 'ts'
      ? `watchLabelUnregister(0x${this.mask.toString(16)})`
      : `watchLabelRegister(0x${this.mask.toString(16)}, ${this.group === 'none' ? 255 : this.group})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    let value = this.group === 'none' ? NO_GROUP : this.group;
    if (this.side === 'ts') {
      if (this.group === 'none') r.store.watchLabelUnregister(this.mask);
      else if (this.group >= MAX_GROUPS) {
        note('EINVAL: watchLabelRegister ours');
        return expectThrows(what, () => r.store.watchLabelRegister(this.mask, this.group as number), ['EINVAL']);
      } else r.store.watchLabelRegister(this.mask, this.group);
    } else {
      expectPeer(what, await r.peer.send({ op: 'watch_label_register', mask: String(this.mask), group: value }), 0);
      value &= 0xff;
    }
    ran('watchLabelRegister', this.side);
    for (let b = 0; b < BLOOM_BITS; b++) if ((this.mask >> BigInt(b)) & 1n) m.bloomWatches[b] = value;
  }
}

/** getSignalCount / get_signal_count: the model's counter; group 64: ours EINVAL, C -2 EINVAL. */
export class SignalCountCmd extends Step {
  constructor(side: Side, readonly group: number) {
    super(side);
  }
  protected describe(): string {
    return `getSignalCount(${this.group})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (this.side === 'ts') {
      if (this.group >= MAX_GROUPS) return expectThrows(what, () => r.store.getSignalCount(this.group), ['EINVAL']);
      equal(what, r.store.getSignalCount(this.group), m.signals[this.group]);
    } else {
      const answer = await r.peer.send({ op: 'get_signal_count', group: this.group });
      if (this.group >= MAX_GROUPS) return expectPeer(what, answer, -2, 'EINVAL');
      expectPeer(what, answer, 0);
      equal(what, answer['count'], String(m.signals[this.group]));
    }
    if (m.signals[this.group]! > 0n) note('getSignalCount: a non-zero count');
    ran('getSignalCount', this.side);
  }
}

/** enumerateMatches / enumerate_matches: slots with a hash whose bloom holds every bit of mask, slot order, with epochs. */
export class EnumerateCmd extends Step {
  constructor(side: Side, readonly mask: bigint) {
    super(side);
  }
  protected describe(): string {
    return `enumerateMatches(0x${this.mask.toString(16)})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const expected = m.slots.flatMap((s, index) =>
      s.hash !== 0n && (s.bloom & this.mask) === this.mask ? [{ index, keyBytes: m.keyBytesAt(index), epoch: s.epoch }] : [],
    );
    if (expected.length > 0 && this.mask !== 0n) note('enumerateMatches: a label match');
    if (this.side === 'ts') {
      const matches = r.store.enumerateMatches(this.mask);
      equal(what, matches, expected.map((e) => ({ key: new TextDecoder().decode(e.keyBytes), epoch: e.epoch })));
    } else {
      const answer = await r.peer.send({ op: 'enumerate_matches', mask: String(this.mask) });
      expectPeer(what, answer, 0);
      const got = (answer['matches'] as Array<Record<string, unknown>>).map((x) => ({ index: x['index'], key_hex: x['key_hex'], epoch: String(x['epoch']) }));
      equal(what, got, expected.map((e) => ({ index: e.index, key_hex: hex(e.keyBytes), epoch: String(e.epoch) })));
    }
    ran('enumerateMatches', this.side);
  }
}
