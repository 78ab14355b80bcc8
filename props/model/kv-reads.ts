/** Model-test steps that read: the get variants, epochs, slot snapshots and the key list. */
import { hex, unhex } from '../lib/layout.js';
import { equal, expectPeer, expectThrows, fail, type Real } from './checks.js';
import { note } from './reach.js';
import type { Side, SlotModel } from './slot-model.js';
import { KeyStep, Step, type KeySource } from './step.js';

export type GetVariant = 'get' | 'getString' | 'getInto' | 'rawView';

export class GetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly variant: GetVariant, readonly targetSize: number) {
    super(side, source);
  }

  protected describe(): string {
    if (this.side === 'c') return `get(${this.shownKey})`;
    return `${this.variant}(${this.shownKey}${this.variant === 'getInto' ? `, ${this.targetSize}B target` : ''})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const index = this.valid ? m.find(this.bytes) : -1;
    const expected = index >= 0 ? m.valueAt(index) : undefined;
    if (expected !== undefined) note('get: key present');
    if (this.side === 'c') {
      const answer = await r.peer.send({ op: 'get', key_hex: this.keyHex });
      if (expected === undefined) return expectPeer(what, answer, -1, 'ENOENT');
      expectPeer(what, answer, 0);
      return equal(what, unhex(String(answer['value_hex'])), expected);
    }
    const store = r.store;
    switch (this.variant) {
      case 'get':
        if (!this.valid) return expectThrows(what, () => store.get(this.key), ['EINVAL']);
        return equal(what, store.get(this.key), expected);
      case 'getString':
        if (!this.valid) return expectThrows(what, () => store.getString(this.key), ['EINVAL']);
        return equal(what, store.getString(this.key), expected && new TextDecoder().decode(expected));
      case 'getInto': {
        const target = new Uint8Array(this.targetSize).fill(0xa5);
        if (!this.valid) return expectThrows(what, () => store.getInto(this.key, target), ['EINVAL']);
        if (expected !== undefined && expected.length > target.length) {
          expectThrows(what, () => store.getInto(this.key, target), ['EMSGSIZE']);
        } else {
          equal(what, store.getInto(this.key, target), expected?.length ?? -1);
          if (expected !== undefined) equal(`${what} bytes`, target.subarray(0, expected.length), expected);
        }
        return equal(`${what}: bytes past the value untouched`, target.subarray(expected?.length ?? 0).every((b) => b === 0xa5), true);
      }
      case 'rawView': {
        if (!this.valid) return expectThrows(what, () => store.rawView(this.key), ['EINVAL']);
        const view = store.rawView(this.key);
        if (expected === undefined) return equal(what, view, undefined);
        if (view === undefined) return fail(`${what}: undefined, model expects ${hex(expected)}`);
        equal(`${what} bytes`, view.bytes, expected);
        equal(`${what} epoch`, view.epoch, m.slots[index]!.epoch);
        return equal(`${what} stillValid()`, view.stillValid(), true);
      }
    }
  }
}

/** has + getEpoch (ours) or get_epoch (C): the exact slot epoch, 0 when missing. */
export class EpochCmd extends KeyStep {
  protected describe(): string {
    return `${this.side === 'ts' ? 'has+getEpoch' : 'get_epoch'}(${this.shownKey})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (!this.valid) {
      expectThrows(`${what} has`, () => r.store.has(this.key), ['EINVAL']);
      return expectThrows(`${what} getEpoch`, () => r.store.getEpoch(this.key), ['EINVAL']);
    }
    const index = m.find(this.bytes);
    const epoch = index < 0 ? 0n : m.slots[index]!.epoch;
    if (index >= 0 && epoch === 0n) fail(`${what}: the model has a present key with epoch 0`);
    if (this.side === 'ts') {
      equal(`${what} has`, r.store.has(this.key), index >= 0);
      return equal(`${what} getEpoch`, r.store.getEpoch(this.key), epoch);
    }
    const answer = await r.peer.send({ op: 'get_epoch', key_hex: this.keyHex });
    expectPeer(what, answer, 0);
    equal(what, answer['epoch'], String(epoch));
  }
}

/** slotSnapshot (ours) or slot (C): the slot index and fields of the first copy. */
export class InspectCmd extends KeyStep {
  protected describe(): string {
    return `${this.side === 'ts' ? 'slotSnapshot' : 'slot'}(${this.shownKey})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (!this.valid) return expectThrows(what, () => r.store.slotSnapshot(this.key), ['EINVAL']);
    const index = m.find(this.bytes);
    const s = index >= 0 ? m.slots[index]! : undefined;
    if (this.side === 'ts') {
      const snap = r.store.slotSnapshot(this.key);
      if (s === undefined) return equal(what, snap, undefined);
      // Only the fields the model knows, picked from the snapshot (new fields may be added).
      const pick = (o: object | undefined, keys: string[]): object | undefined =>
        o && Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]));
      const expected = {
          index,
          key: this.key,
          hash: s.hash,
          epoch: s.epoch,
          valueOffset: index * m.geo.maxValueSize,
          valueLength: s.len,
          typeFlag: s.typeFlag,
          userFlag: 0,
          watcherMask: s.watcherMask,
          ctime: s.ctime,
          atime: s.atime,
          bloom: s.bloom,
        };
      return equal(what, pick(snap, Object.keys(expected)), expected);
    }
    const answer = await r.peer.send({ op: 'slot', key_hex: this.keyHex });
    if (s === undefined) return expectPeer(what, answer, -1, 'ENOENT');
    expectPeer(what, answer, 0);
    const { index: i, hash, epoch, val_off, val_len, type_flag } = answer;
    equal(what, { i, hash, epoch, val_off, val_len, type_flag }, {
      i: index,
      hash: String(s.hash),
      epoch: String(s.epoch),
      val_off: index * m.geo.maxValueSize,
      val_len: s.len,
      type_flag: s.typeFlag,
    });
  }
}

export class KeysCmd extends Step {
  protected describe(): string {
    return this.side === 'ts' ? 'keys()' : 'list';
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const expected = m.list();
    if (this.side === 'ts') {
      const keys = r.store.keys();
      return equal(this.toString(), keys, expected.map((k) => new TextDecoder().decode(k)));
    }
    const answer = await r.peer.send({ op: 'list' });
    expectPeer(this.toString(), answer, 0);
    equal(this.toString(), answer['keys_hex'], expected.map(hex));
  }
}
