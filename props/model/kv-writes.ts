/** Model-test steps that write keys and values: set, unset, append, the mop mode and purge. */
import { hex, KEY_MAX_BYTES } from '../lib/layout.js';
import { equal, expectPeer, expectThrows, type Real } from './checks.js';
import { showPayload, type Payload } from './display.js';
import { note } from './reach.js';
import { TYPE_BIGUINT, type Side, type SlotModel } from './slot-model.js';
import { KeyStep, Step, type KeySource } from './step.js';

export class SetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly value: Payload) {
    super(side, source);
  }

  protected describe(): string {
    return `set(${this.shownKey}, ${showPayload(this.value)})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const len = this.value.bytes.length;
    const lengthOk = len >= 1 && len <= r.geo.maxValueSize;
    const what = this.toString();
    if (this.side === 'ts') {
      const call = (): void => {
        r.store.set(this.key, this.value.text ?? this.value.bytes);
      };
      if (!this.valid || !lengthOk) {
        note(this.valid ? 'set: refused length (EMSGSIZE / EINVAL)' : 'EINVAL: key refused (64+ bytes, NUL, lone surrogate)');
        expectThrows(what, call, [...(lengthOk ? [] : ['EMSGSIZE' as const]), ...(this.valid ? [] : ['EINVAL' as const])]);
        return;
      }
      const index = m.placeForSet('ts', this.bytes);
      if (index < 0) {
        note('ENOSPC: ours');
        return expectThrows(what, call, ['ENOSPC']);
      }
      const fresh = m.slots[index]!.hash === 0n;
      // Ours: a BIGUINT slot takes only 8 bytes that are not text (docs/api.md, "Decisions"); nothing is written.
      if (!fresh && m.slots[index]!.typeFlag & TYPE_BIGUINT && (this.value.text !== undefined || len !== 8)) {
        note('EPROTOTYPE: set ours on a BIGUINT slot');
        return expectThrows(what, call, ['EPROTOTYPE']);
      }
      call();
      this.noteSet(m, index);
      m.set(index, this.bytes, this.value.bytes);
      if (fresh && m.oursAfterInsert(this.bytes, this.value.bytes).length > 0) note('set: ours moves a key past a hole into it (other copies removed)');
      return;
    }
    const answer = await r.peer.send({ op: 'set', key_hex: this.keyHex, value_hex: hex(this.value.bytes) });
    if (!lengthOk) note('set: refused length (EMSGSIZE / EINVAL)');
    if (len === 0) return expectPeer(what, answer, -1, 'EINVAL');
    if (!lengthOk) return expectPeer(what, answer, -1, 'EMSGSIZE');
    const index = m.placeForSet('c', this.bytes);
    if (index < 0) {
      note('ENOSPC: C');
      return expectPeer(what, answer, -1, 'ENOSPC');
    }
    expectPeer(what, answer, 0);
    this.noteSet(m, index);
    m.set(index, this.bytes, this.value.bytes);
  }

  private noteSet(m: SlotModel, index: number): void {
    const v = this.value.bytes;
    if (this.bytes.length > [...this.key].length) note('set: multi-byte UTF-8 key');
    if (this.bytes.length === 0) note('set: the empty key');
    if (this.bytes.length === KEY_MAX_BYTES) note('set: 63-byte key');
    if (index !== m.probePath(this.bytes)[0]) note('set: key placed past its home slot (collision)');
    const first = m.find(this.bytes);
    if (this.side === 'c' && first >= 0 && first !== index) note('set: C duplicates a key past a hole (Q1)');
    if (this.side === 'ts' && index === first && m.copies(this.bytes).length > 1) note('set: ours updates the first copy of a C duplicate');
    if (v.length === 1) note('set: 1-byte value');
    if (v.length === m.geo.maxValueSize) note('set: maxValueSize value');
    if (v.some((b) => b === 0 || b >= 0x80)) note('set: binary value (NUL or high bytes)');
  }
}

export class UnsetCmd extends KeyStep {
  protected describe(): string {
    return `unset(${this.shownKey})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (!this.valid) return expectThrows(what, () => r.store.unset(this.key), ['EINVAL']);
    const index = m.find(this.bytes);
    if (this.side === 'ts') {
      const removed = r.store.unset(this.key);
      equal(what, removed, index < 0 ? undefined : m.slots[index]!.len);
    } else {
      const answer = await r.peer.send({ op: 'unset', key_hex: this.keyHex });
      if (index < 0) expectPeer(what, answer, -1, 'ENOENT');
      else expectPeer(what, answer, m.slots[index]!.len);
    }
    if (index >= 0) {
      if (m.copies(this.bytes).length > 1) note('unset: a stale C duplicate becomes visible');
      if (m.mop === 0) note('unset: with mop off (stale key bytes stay)');
      if (m.slots[index]!.embedding.some((b) => b !== 0)) note('unset: zeroes a set embedding');
      m.unset(index, this.side);
    }
  }
}

/** 'fill' appends exactly what the value still has room for, 'overflow' one byte more. */
export type AppendSizing = 'as-is' | 'fill' | 'overflow';

export class AppendCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly data: Payload, readonly sizing: AppendSizing) {
    super(side, source);
  }

  protected describe(): string {
    const size = this.sizing === 'as-is' ? showPayload(this.data) : `${this.sizing} to the limit with ${showPayload(this.data)}`;
    return `append(${this.shownKey}, ${size})`;
  }

  /** The data actually appended: sized from the model for 'fill' / 'overflow'. */
  private dataFor(m: SlotModel, index: number): Payload {
    if (this.sizing === 'as-is' || index < 0) return this.data;
    const room = m.geo.maxValueSize - m.slots[index]!.len + (this.sizing === 'overflow' ? 1 : 0);
    if (room <= 0) return this.data;
    const source = this.data.bytes.length > 0 ? this.data.bytes : new Uint8Array([0x5a]);
    return { bytes: Uint8Array.from({ length: room }, (_, i) => source[i % source.length]!) };
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const index = this.valid ? m.find(this.bytes) : -1;
    const data = this.dataFor(m, index);
    const len = data.bytes.length;
    const tooLong = index >= 0 && m.slots[index]!.len + len > m.geo.maxValueSize;
    if (this.side === 'ts') {
      const call = (): number => r.store.append(this.key, data.text ?? data.bytes);
      if (len === 0 || !this.valid) return expectThrows(what, call, ['EINVAL']);
      if (index < 0) return expectThrows(what, call, ['ENOENT']);
      // Ours appends nothing to a BIGUINT slot (docs/api.md, "Decisions"), checked before locking.
      if (m.slots[index]!.typeFlag & TYPE_BIGUINT) {
        note('EPROTOTYPE: append ours on a BIGUINT slot');
        return expectThrows(what, call, ['EPROTOTYPE']);
      }
      // Ours refuses before taking the seqlock: the slot epoch does not move (C's does).
      if (tooLong) {
        note('append: EMSGSIZE ours');
        return expectThrows(what, call, ['EMSGSIZE']);
      }
      equal(what, call(), m.append(index, data.bytes));
      if (m.slots[index]!.len === m.geo.maxValueSize) note('append: exactly to maxValueSize');
      return;
    }
    const answer = await r.peer.send({ op: 'append', key_hex: this.keyHex, value_hex: hex(data.bytes) });
    if (len === 0) return expectPeer(what, answer, -2, 'EINVAL');
    if (index < 0) return expectPeer(what, answer, -1, 'ENOENT');
    if (tooLong) {
      note('append: EMSGSIZE C');
      expectPeer(what, answer, -1, 'EMSGSIZE');
      return m.refusedAppendC(index);
    }
    expectPeer(what, answer, 0);
    equal(`${what} new_len`, answer['new_len'], m.append(index, data.bytes));
    if (m.slots[index]!.len === m.geo.maxValueSize) note('append: exactly to maxValueSize');
  }
}

/** set_mop(mode) then get_mop; mode 3 is refused (EINVAL / rc -1). */
export class MopCmd extends Step {
  constructor(side: Side, readonly mode: 0 | 1 | 2 | 3) {
    super(side);
  }

  protected describe(): string {
    return `setMop(${this.mode})+getMop`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const mode = this.mode;
    if (this.side === 'ts') {
      if (mode === 3) expectThrows(what, () => r.store.setMop(mode as never), ['EINVAL']);
      else r.store.setMop(mode);
    } else {
      const answer = await r.peer.send({ op: 'set_mop', mode });
      expectPeer(what, answer, mode === 3 ? -1 : 0, mode === 3 ? 'EINVAL' : undefined);
    }
    if (mode !== 3) m.setMop(mode);
    if (this.side === 'ts') return equal(what, r.store.getMop(), m.mop);
    const answer = await r.peer.send({ op: 'get_mop' });
    equal(what, answer['mode'], m.mop);
  }
}

export class PurgeCmd extends Step {
  protected describe(): string {
    return 'purge';
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    if (this.side === 'ts') r.store.purge();
    else expectPeer(this.toString(), await r.peer.send({ op: 'purge' }), 0);
    note('purge');
    m.purge();
  }
}
