/**
 * Model-test steps on slot features (docs/slot-features.md, docs/spec/FORMAT.md §7): named
 * types, integer operations, slot times, the system flag, retrain and bump.
 */
import type { IntOp } from '../../src/index.js';
import type { PeerAnswer } from '../../test/helpers/peer.js';
import { U64_MAX } from '../lib/layout.js';
import { equal, expectPeer, expectThrows, type Real } from './checks.js';
import { note } from './reach.js';
import { TYPE_BINARY, TYPE_BIGUINT, type Side, type SlotModel } from './slot-model.js';
import { FeatureStep, type KeySource } from './step.js';

export const TYPE_MASKS = [1, 2, 4, 8, 16, 4 | 8, 4 | 16, 128] as const;

/**
 * setNamedType / set_named_type: type_flag = mask, slot epoch +2, global +1, no pulse. Naming
 * a value shorter than 8 bytes BIGUINT: ours promotes it in place (val_off and val_brk stay),
 * C relocates it to val_brk (Q3). The model only knows the in-place promotion, so such a
 * step always runs on OUR side; the peer names BIGUINT only values of 8 bytes or more.
 */
export class NamedTypeCmd extends FeatureStep {
  protected readonly op = 'setNamedType';
  constructor(side: Side, source: KeySource, readonly mask: number) {
    super(side, source);
  }
  protected describe(): string {
    return `setNamedType(${this.shownKey}, ${this.mask})`;
  }
  protected override sideFor(m: SlotModel, index: number): Side {
    return index >= 0 && this.mask & TYPE_BIGUINT && m.slots[index]!.len < 8 ? 'ts' : this.side;
  }
  protected callOurs(r: Real): unknown {
    return r.store.setNamedType(this.key, this.mask);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'set_named_type', mask: this.mask };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    if (this.mask & TYPE_BIGUINT && m.slots[index]!.len < 8) note('setNamedType: ours promotes a short value in place');
    m.setNamedType(index, this.mask);
  }
}

export const INT_OPS = ['AND', 'OR', 'XOR', 'NOT', 'INC', 'DEC'] as const;

/** integerOp / integer_op on the u64 at the value's start: slot epoch +2, global +1; EPROTOTYPE when not BIGUINT. */
export class IntegerOpCmd extends FeatureStep {
  protected readonly op = 'integerOp';
  constructor(side: Side, source: KeySource, readonly intOp: number, readonly operand: bigint) {
    super(side, source);
  }
  protected describe(): string {
    return `integerOp(${this.shownKey}, ${INT_OPS[this.intOp]}, ${this.operand}n)`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.integerOp(this.key, this.intOp as IntOp, this.operand);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'integer_op', int_op: this.intOp, operand: String(this.operand) };
  }
  protected override async apply(m: SlotModel, r: Real): Promise<void> {
    const index = this.valid ? m.find(this.bytes) : -1;
    if (index >= 0 && (m.slots[index]!.typeFlag & TYPE_BIGUINT) === 0) {
      // Refused before the seqlock, by both sides (docs/spec/FORMAT.md §7): nothing moves.
      note(`EPROTOTYPE: integerOp ${this.side}`);
      if (this.side === 'ts') {
        expectThrows(this.toString(), () => this.callOurs(r), ['EPROTOTYPE']);
        return;
      }
      const answer = await r.peer.send({ ...this.peerCommand(), key_hex: this.keyHex });
      return expectPeer(this.toString(), answer, -1, 'EPROTOTYPE');
    }
    return super.apply(m, r);
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    if (m.slots[index]!.len < 8) note('integerOp: on a BIGUINT slot whose value is now shorter than 8 bytes');
    m.integerOp(index, this.intOp, this.operand);
  }
}

/** getBigUint (ours: EPROTOTYPE when not BIGUINT, undefined when missing) / get_biguint (C: value and type_flag). */
export class GetBigUintCmd extends FeatureStep {
  protected readonly op = 'getBigUint';
  protected describe(): string {
    return `${this.side === 'ts' ? 'getBigUint' : 'get_biguint'}(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.getBigUint(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'get_biguint' };
  }
  protected override async apply(m: SlotModel, r: Real): Promise<void> {
    if (this.side === 'ts' && this.valid) {
      const index = m.find(this.bytes);
      if (index < 0) return equal(this.toString(), r.store.getBigUint(this.key), undefined);
      if ((m.slots[index]!.typeFlag & TYPE_BIGUINT) === 0) {
        note('EPROTOTYPE: getBigUint ours');
        return expectThrows(this.toString(), () => this.callOurs(r), ['EPROTOTYPE']);
      }
    }
    return super.apply(m, r);
  }
  protected present(m: SlotModel, index: number, result: unknown, answer?: PeerAnswer): void {
    const s = m.slots[index]!;
    if (answer === undefined) return equal(this.toString(), result, m.u64At(index));
    expectPeer(this.toString(), answer, 0);
    equal(this.toString(), { value: answer['value'], type_flag: answer['type_flag'] }, { value: String(m.u64At(index)), type_flag: s.typeFlag });
  }
}

/** setSlotTime / set_slot_time: ctime or atime = time − offset (wrapping); no epoch moves. A bad field: ours EINVAL, C -2 ENOTSUP. */
export class SlotTimeCmd extends FeatureStep {
  protected readonly op = 'setSlotTime';
  constructor(side: Side, source: KeySource, readonly which: 'ctime' | 'atime' | 'mtime', readonly time: bigint, readonly offset: bigint) {
    super(side, source);
  }
  protected describe(): string {
    return `setSlotTime(${this.shownKey}, ${this.which}, ${this.time}n, ${this.offset}n)`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.setSlotTime(this.key, this.which as 'ctime', this.time, this.offset);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'set_slot_time', mode: this.which === 'ctime' ? 0 : this.which === 'atime' ? 1 : 2, time: String(this.time), offset: String(this.offset) };
  }
  protected override async apply(m: SlotModel, r: Real): Promise<void> {
    if (this.which === 'mtime') {
      note(`bad slot time field: ${this.side}`);
      if (this.side === 'ts') return expectThrows(this.toString(), () => this.callOurs(r), ['EINVAL']);
      const answer = await r.peer.send({ ...this.peerCommand(), key_hex: this.keyHex });
      // C checks the mode after finding the key (docs/spec/FORMAT.md §7): a missing key is ENOENT first.
      return m.find(this.bytes) < 0 ? expectPeer(this.toString(), answer, -1, 'ENOENT') : expectPeer(this.toString(), answer, -2, 'ENOTSUP');
    }
    return super.apply(m, r);
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    const value = (this.time - this.offset) & U64_MAX;
    if (this.which === 'ctime') m.slots[index]!.ctime = value;
    else m.slots[index]!.atime = value;
  }
}

/** setAsSystem / set_as_system: found scanning from slot 0; type BINARY, val_len = maxValueSize, no epoch moves. */
export class SystemCmd extends FeatureStep {
  protected readonly op = 'setAsSystem';
  protected describe(): string {
    return `setAsSystem(${this.shownKey})`;
  }
  protected override find(m: SlotModel): number {
    const index = m.findFromZero(this.bytes);
    if (index >= 0 && index !== m.find(this.bytes)) note('setAsSystem: slot 0 scan finds another copy than the probe');
    return index;
  }
  protected callOurs(r: Real): unknown {
    return r.store.setAsSystem(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'set_as_system' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    m.slots[index]!.typeFlag = TYPE_BINARY;
    m.slots[index]!.len = m.geo.maxValueSize;
  }
}

/** retrainSlot / retrain_slot: slot epoch stored 3 then 4 (C) or moved on to the next even value (ours), global +1, pulse. */
export class RetrainCmd extends FeatureStep {
  protected readonly op = 'retrainSlot';
  protected describe(): string {
    return `retrainSlot(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.retrainSlot(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'retrain_slot' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    if (m.slots[index]!.embedding.some((b) => b !== 0)) note('retrainSlot: zeroes a set embedding');
    m.retrain(index, answer ? 'c' : 'ts');
  }
}

/** bumpSlot / bump_slot: seqlock taken and released (slot epoch +2), pulse; no global epoch change. */
export class BumpCmd extends FeatureStep {
  protected readonly op = 'bumpSlot';
  protected describe(): string {
    return `bumpSlot(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.bumpSlot(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'bump_slot' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    m.slots[index]!.epoch = (m.slots[index]!.epoch + 2n) & U64_MAX;
    m.pulse(index);
  }
}
