/** Model-test steps on tandem keys: setTandem and unsetTandem. */
import { isSplinterError } from '../../src/index.js';
import { hex, utf8 } from '../lib/layout.js';
import { equal, expectPeer, expectThrows, fail, type Real } from './checks.js';
import { showPayload, type Payload } from './display.js';
import { validKey } from './keys.js';
import { note, ran } from './reach.js';
import { TYPE_BIGUINT, type Side, type SlotModel } from './slot-model.js';
import { KeyStep, type KeySource } from './step.js';

const tandemKey = (base: string, order: number): string => (order === 0 ? base : `${base}.${order}`);

/**
 * setTandem(base, values) / set_tandem: base = values[0], base.1 = values[1], … as sets, one
 * by one. Ours checks every key (EINVAL) and value (EMSGSIZE) first; then a full store stops
 * it half-way (ENOSPC) with the earlier orders written; C stops at the first failing order.
 * A base whose orders are not all keys ours accepts is never sent to C.
 */
export class TandemSetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly values: Payload[]) {
    super(side, source);
  }
  protected describe(): string {
    return `setTandem(${this.shownKey}, [${this.values.map(showPayload).join(', ')}])`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const keys = this.values.map((_, order) => tandemKey(this.key, order));
    const keysOk = keys.every(validKey);
    const lengthsOk = this.values.every((v) => v.bytes.length >= 1 && v.bytes.length <= m.geo.maxValueSize);
    const side = keysOk ? this.side : 'ts';
    if (side === 'ts') {
      const call = (): void => r.store.setTandem(this.key, this.values.map((v) => v.bytes));
      if (!keysOk || !lengthsOk) {
        note('setTandem: refused before writing');
        return expectThrows(what, call, [keysOk ? 'EMSGSIZE' : 'EINVAL']);
      }
      let failed: string | undefined;
      try {
        call();
      } catch (error) {
        if (!isSplinterError(error) || (error.code !== 'ENOSPC' && error.code !== 'EPROTOTYPE')) throw error;
        failed = error.code; // resolved below against the model
      }
      for (const [order, key] of keys.entries()) {
        const bytes = utf8(key);
        const index = m.placeForSet('ts', bytes);
        if (index < 0) {
          if (failed !== 'ENOSPC') fail(`${what}: order ${order} has no slot in the model, but ours threw ${failed ?? 'nothing'}, not ENOSPC`);
          note('setTandem: ENOSPC half-way (ours)');
          return;
        }
        const fresh = m.slots[index]!.hash === 0n;
        // An order that is a BIGUINT key takes only 8 bytes, as set (docs/api.md, "Decisions"): it stops there.
        if (!fresh && m.slots[index]!.typeFlag & TYPE_BIGUINT && this.values[order]!.bytes.length !== 8) {
          if (failed !== 'EPROTOTYPE') fail(`${what}: order ${order} is a BIGUINT key, but ours threw ${failed ?? 'nothing'}, not EPROTOTYPE`);
          note('EPROTOTYPE: setTandem ours stops at a BIGUINT order');
          return;
        }
        m.set(index, bytes, this.values[order]!.bytes);
        if (fresh) m.oursAfterInsert(bytes, this.values[order]!.bytes);
      }
      if (failed !== undefined) fail(`${what}: ours threw ${failed}, the model writes every order`);
      ran('setTandem', 'ts');
      return;
    }
    const answer = await r.peer.send({ op: 'set_tandem', key_hex: this.keyHex, values_hex: this.values.map((v) => hex(v.bytes)) });
    for (const [order, key] of keys.entries()) {
      const bytes = utf8(key);
      const len = this.values[order]!.bytes.length;
      const index = len >= 1 && len <= m.geo.maxValueSize ? m.placeForSet('c', bytes) : -1;
      if (index < 0) {
        const errno = len === 0 ? 'EINVAL' : len > m.geo.maxValueSize ? 'EMSGSIZE' : 'ENOSPC';
        note(`setTandem: C stops at a failing order (${errno})`);
        expectPeer(what, answer, -1, errno);
        return equal(`${what} failed_order`, answer['failed_order'], order);
      }
      m.set(index, bytes, this.values[order]!.bytes);
    }
    expectPeer(what, answer, 0);
    ran('setTandem', 'c');
  }
}

/** unsetTandem(base, orders) / unset_tandem: unsets base and base.1 … base.(orders−1); missing ones are skipped. */
export class TandemUnsetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly orders: number) {
    super(side, source);
  }
  protected describe(): string {
    return `unsetTandem(${this.shownKey}, ${this.orders})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const keys = Array.from({ length: this.orders }, (_, order) => tandemKey(this.key, order));
    const keysOk = keys.every(validKey);
    const side = keysOk ? this.side : 'ts';
    if (side === 'ts') {
      const call = (): void => r.store.unsetTandem(this.key, this.orders);
      if (!keysOk) return expectThrows(what, call, ['EINVAL']);
      call();
    } else {
      expectPeer(what, await r.peer.send({ op: 'unset_tandem', key_hex: this.keyHex, orders: this.orders }), 0);
    }
    let removed = 0;
    for (const key of keys) {
      const index = m.find(utf8(key));
      if (index >= 0) {
        m.unset(index, side);
        removed++;
      }
    }
    if (removed > 1) note('unsetTandem: several orders removed');
    ran('unsetTandem', side);
  }
}
