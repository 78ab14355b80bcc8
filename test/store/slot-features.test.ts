/** Slot features (docs/spec/FORMAT.md §7): named types and integer ops, times, labels, system slots, retrain, tandem keys, embeddings. */
import t from 'tap';
import { IntOp, SlotType, Store } from '../../src/index.js';
import { throwsCode } from '../helpers/assert.js';
import { copyFixture } from '../helpers/fixtures.js';
import { promoteToU64 } from '../../src/store/values/biguint.js';

const u64 = (n: bigint): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, n, true);
  return bytes;
};

t.test('setNamedType: BIGUINT promotion in place, like strtoull(s, 0, 0) or little-endian bytes', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 32 });
  const cases: Array<[string, Uint8Array | string, bigint]> = [
    ['dec', '42', 42n],
    ['hex', '0x10', 16n],
    ['HEX', '0XfF', 255n],
    ['oct', '010', 8n],
    ['zero', '0', 0n],
    ['prefix', '12abc', 12n],
    ['bad-octal', '09', 0n],
    ['0x-alone', '0x', 0n],
    ['raw', new Uint8Array([5, 1]), 0x105n],
    ['letters', 'ab', 0x6261n],
  ];
  for (const [key, value, expected] of cases) {
    store.set(key, value);
    const before = store.slotSnapshot(key)!;
    store.setNamedType(key, SlotType.BIGUINT);
    const after = store.slotSnapshot(key)!;
    t.equal(store.getBigUint(key), expected, `${key}: ${JSON.stringify(typeof value === 'string' ? value : [...value])} → ${expected}`);
    t.equal(after.valueLength, 8, `${key}: now 8 bytes`);
    t.equal(after.valueOffset, before.valueOffset, `${key}: promoted where it lives (no relocation, docs/spec/FORMAT.md §9 Q3)`);
    t.equal(after.epoch, before.epoch + 2n, `${key}: one seqlock write`);
  }
  t.equal(store.headerSnapshot().valBrk, 0, 'val_brk never moves');
  store.set('json', '{}');
  store.setNamedType('json', SlotType.JSON | SlotType.VOID);
  t.equal(store.slotSnapshot('json')!.typeFlag, 9, 'the mask replaces the type');
  store.setNamedType('json', SlotType.VARTEXT);
  t.equal(store.slotSnapshot('json')!.typeFlag, 128, 'replaced again, not ORed');
  t.equal(store.getString('json'), '{}', 'other types leave the value alone');
  const long = '123456789';
  store.set('long', long);
  store.setNamedType('long', SlotType.BIGUINT);
  t.equal(store.getString('long'), long, 'a value of 8+ bytes is not converted');
  throwsCode(t, () => store.setNamedType('nokey', 4), 'ENOENT', 'missing key');
  throwsCode(t, () => store.setNamedType('dec', 256), 'EINVAL', 'mask over a byte');
  const tiny = Store.createShared({ slots: 2, maxValueSize: 4 });
  tiny.set('n', '1');
  throwsCode(t, () => tiny.setNamedType('n', SlotType.BIGUINT), 'EMSGSIZE', 'BIGUINT in a store of 4-byte values');
  t.equal(tiny.slotSnapshot('n')!.epoch, 2n, 'refused before taking the slot');
});

t.test('promoteToU64 follows strtoull for any length (saturating), though set values promote only under 8 bytes', async (t) => {
  const enc = (s: string) => new TextEncoder().encode(s);
  t.equal(promoteToU64(enc('99999999999999999999')), 0xffffffffffffffffn, 'saturates');
  t.equal(promoteToU64(enc('18446744073709551615')), 0xffffffffffffffffn, 'the largest u64');
  t.equal(promoteToU64(enc('7\0junk')), 7n, 'stops at NUL');
  t.equal(promoteToU64(new Uint8Array(0)), 0n, 'empty');
});

t.test('integerOp: AND OR XOR NOT INC DEC on a u64, wrapping', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 16 });
  store.set('c', u64(0xffn));
  store.setNamedType('c', SlotType.BIGUINT);
  const epoch = store.epoch;
  const steps: Array<[IntOp, bigint, bigint]> = [
    [IntOp.INC, 1n, 0x100n],
    [IntOp.OR, 0xf000000000000000n, 0xf000000000000100n],
    [IntOp.XOR, 0xf0n, 0xf0000000000001f0n],
    [IntOp.DEC, 2n, 0xf0000000000001een],
    [IntOp.NOT, 0n, 0x0ffffffffffffe11n],
    [IntOp.AND, 0xffffffff0000ffffn, 0x0fffffff0000fe11n],
    [IntOp.INC, 0xffffffffffffffffn, 0x0fffffff0000fe10n],
  ];
  for (const [op, operand, expected] of steps) {
    store.integerOp('c', op, operand);
    t.equal(store.getBigUint('c'), expected, `op ${op} ${operand}`);
  }
  store.set('zero', u64(0n));
  store.setNamedType('zero', SlotType.BIGUINT);
  store.integerOp('zero', IntOp.DEC, 1n);
  t.equal(store.getBigUint('zero'), 0xffffffffffffffffn, '0 − 1 wraps');
  t.equal(store.epoch, epoch + BigInt(steps.length) + 3n, 'each op (and the set and naming) moves the global epoch once');
  store.set('text', 'not a number');
  throwsCode(t, () => store.integerOp('text', IntOp.INC, 1n), 'EPROTOTYPE', 'not BIGUINT');
  throwsCode(t, () => store.getBigUint('text'), 'EPROTOTYPE', 'getBigUint of text');
  throwsCode(t, () => store.integerOp('nokey', IntOp.INC, 1n), 'ENOENT', 'missing key');
  throwsCode(t, () => store.integerOp('c', 6 as IntOp, 1n), 'EINVAL', 'op 6');
  throwsCode(t, () => store.integerOp('c', IntOp.INC, -1n), 'EINVAL', 'negative operand');
  throwsCode(t, () => store.integerOp('c', IntOp.INC, 1n << 64n), 'EINVAL', 'operand over 64 bits');
  t.equal(store.getBigUint('nokey'), undefined);
});

t.test('values C relocated (Q3) are moved home before we write, and no other value is lost', async (t) => {
  const store = Store.open(copyFixture(t, 'quirk-biguint-relocation-8x16'));
  t.teardown(() => store.close());
  const relocated = ['n', 'h', 'r'];
  t.same(
    relocated.map((key) => store.slotSnapshot(key)!.valueOffset),
    [0, 8, 16],
    'C put n, h and r at val_brk 0, 8, 16: inside slots 0 and 1’s regions',
  );
  const others = (store.keys() as string[]).filter((key) => !relocated.includes(key));
  const before = new Map(store.keys().map((key) => [key, store.get(key)!]));
  store.integerOp('n', IntOp.INC, 1n);
  t.equal(store.getBigUint('n'), 44n, '43 + 1');
  for (const key of relocated) {
    const slot = store.slotSnapshot(key)!;
    t.equal(slot.valueOffset, slot.index * 16, `${key} is back in its own region`);
  }
  t.equal(store.getBigUint('h'), 16n, 'h kept its value');
  t.equal(store.getBigUint('r'), 0x105n, 'r kept its value');
  for (const key of others) t.same(store.get(key), before.get(key), `${key} unchanged`);
  store.purge();
  t.same([store.getBigUint('n'), store.getBigUint('h'), store.getBigUint('r')], [44n, 16n, 0x105n], 'purge keeps every value');
});

t.test('setSlotTime: ctime/atime = time − offset, no epoch change', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 8 });
  store.set('k', 'v');
  const epoch = store.getEpoch('k');
  store.setSlotTime('k', 'ctime', 1700000000n);
  store.setSlotTime('k', 'atime', 1700000100n, 40n);
  t.match(store.slotSnapshot('k'), { ctime: 1700000000n, atime: 1700000060n, epoch });
  store.setSlotTime('k', 'atime', 1n, 2n);
  t.equal(store.slotSnapshot('k')!.atime, 0xffffffffffffffffn, 'wraps as a u64');
  throwsCode(t, () => store.setSlotTime('k', 'mtime' as 'ctime', 1n), 'EINVAL', 'mtime');
  throwsCode(t, () => store.setSlotTime('nokey', 'ctime', 1n), 'ENOENT', 'missing key');
  throwsCode(t, () => store.setSlotTime('k', 'ctime', -5n), 'EINVAL', 'negative time');
});

t.test('labels, enumerateMatches and label → group bindings', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 8 });
  store.set('a', '1');
  store.set('b', '2');
  store.set('c', '3');
  const epoch = store.epoch;
  store.setLabel('a', 0b101n);
  store.setLabel('b', 0b100n);
  store.setLabel('c', 1n << 63n);
  store.unsetLabel('a', 0b001n);
  t.equal(store.epoch, epoch + 4n, 'each label change moves the global epoch');
  t.equal(store.getEpoch('a'), 2n, 'but not the slot epoch (no seqlock)');
  const keysWith = (mask: bigint) => store.enumerateMatches(mask).map((m) => m.key).sort();
  t.same(keysWith(0b100n), ['a', 'b']);
  t.same(keysWith(1n << 63n), ['c']);
  t.same(keysWith(0b101n), [], 'every bit of the mask must be there');
  t.same(store.enumerateMatches(0n).length, 3, 'mask 0 matches every key');
  t.same(store.enumerateMatches(0b100n)[0], { key: store.enumerateMatches(0b100n)[0]!.key, epoch: 2n }, 'with epochs');
  store.watchLabelRegister(0b100n, 9);
  store.set('a', 'x');
  store.set('b', 'y');
  t.equal(store.getSignalCount(9), 2n, 'writes to labelled keys pulse the bound group');
  store.watchLabelUnregister(0b100n);
  store.set('a', 'z');
  t.equal(store.getSignalCount(9), 2n, 'unbound: no more pulses');
  throwsCode(t, () => store.setLabel('a', -1n), 'EINVAL', 'negative mask');
  throwsCode(t, () => store.setLabel('nokey', 1n), 'ENOENT', 'missing key');
  throwsCode(t, () => store.watchLabelRegister(1n, 64), 'EINVAL', 'group 64');
  throwsCode(t, () => store.watchRegister('a', -1), 'EINVAL', 'group -1');
  throwsCode(t, () => store.watchRegister('nokey', 1), 'ENOENT', 'watchRegister of a missing key');
  throwsCode(t, () => store.getSignalCount(64), 'EINVAL', 'getSignalCount(64)');
});

t.test('setAsSystem, bumpSlot, retrainSlot', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 32 });
  store.set('sys', '0');
  store.setAsSystem('sys');
  t.match(store.slotSnapshot('sys'), { typeFlag: SlotType.BINARY, valueLength: 32, epoch: 2n }, 'BINARY, full length, no epoch change');
  t.equal(store.get('sys')!.length, 32);
  throwsCode(t, () => store.setAsSystem('nokey'), 'ENOENT', 'setAsSystem of a missing key');
  store.set('w', 'v');
  store.watchRegister('w', 2);
  const global = store.epoch;
  store.bumpSlot('w');
  t.equal(store.getEpoch('w'), 4n, 'bump: slot epoch +2');
  t.equal(store.epoch, global, 'no global epoch change');
  t.equal(store.getSignalCount(2), 1n, 'the bump pulsed (the set came before the registration)');
  store.retrainSlot('w');
  t.equal(store.getEpoch('w'), 6n, 'retrain moves the epoch on to the next even value (C stores 4)');
  t.equal(store.epoch, global + 1n, 'retrain moves the global epoch');
  t.equal(store.getSignalCount(2), 2n, 'and pulses');
  throwsCode(t, () => store.bumpSlot('nokey'), 'ENOENT', 'bump of a missing key');
  throwsCode(t, () => store.retrainSlot('nokey'), 'ENOENT', 'retrain of a missing key');
  const slot = store.slotSnapshot('w')!;
  new Uint32Array(store.buffer!, 5440 + slot.index * 128 + 8, 1)[0] = 7; // a writer died inside
  const stuck = Store.attach(store.buffer!, { contentionBudgetMs: 1 });
  throwsCode(t, () => stuck.get('w'), 'EAGAIN', 'stuck odd');
  throwsCode(t, () => stuck.bumpSlot('w'), 'EAGAIN', 'bump of a stuck slot');
  throwsCode(t, () => stuck.setSlotTime('w', 'ctime', 1n), 'EAGAIN', 'setSlotTime of a stuck slot');
  stuck.retrainSlot('w');
  t.equal(stuck.getString('w'), 'v', 'retrain frees a slot left odd by a dead writer');
});

t.test('tandem keys', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 16 });
  store.setTandem('car', ['base', 'order one', new Uint8Array([2])]);
  t.same(store.keys().sort(), ['car', 'car.1', 'car.2']);
  t.equal(store.getString('car.1'), 'order one');
  store.unsetTandem('car', 3);
  t.same(store.keys(), []);
  store.setTandem('x', ['only']);
  store.unsetTandem('x', 5);
  t.same(store.keys(), [], 'missing orders are skipped');
  throwsCode(t, () => store.setTandem('k'.repeat(62), ['a', 'b']), 'EINVAL', 'base.1 over 63 bytes');
  t.equal(store.has('k'.repeat(62)), false, 'nothing written when an order key is too long');
  throwsCode(t, () => store.setTandem('y', ['ok', 'x'.repeat(17)]), 'EMSGSIZE', 'an order too long');
  t.equal(store.has('y'), false, 'nothing written when a value is too long');
  throwsCode(t, () => store.setTandem('y', []), 'EINVAL', 'no values');
  throwsCode(t, () => store.unsetTandem('y', 0), 'EINVAL', 'orders 0');
});

t.test('embeddings', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 16, embeddings: true });
  t.equal(store.embeddings, true);
  t.equal(store.buffer!.byteLength, 5440 + 4 * 3200 + 4 * 16, '3200-byte slots');
  store.set('doc', 'text');
  const vector = Float32Array.from({ length: 768 }, (_, i) => i / 7);
  const global = store.epoch;
  store.setEmbedding('doc', vector);
  t.same(store.getEmbedding('doc'), vector);
  t.equal(store.getEpoch('doc'), 4n, 'slot epoch moves');
  t.equal(store.epoch, global + 1n, 'global epoch moves');
  store.retrainSlot('doc');
  t.same(store.getEmbedding('doc'), new Float32Array(768), 'retrain zeroes it');
  store.setEmbedding('doc', vector);
  store.unset('doc');
  store.set('doc', 'again');
  t.same(store.getEmbedding('doc'), new Float32Array(768), 'a new key starts with a zero embedding');
  t.equal(store.getEmbedding('nokey'), undefined);
  throwsCode(t, () => store.setEmbedding('nokey', vector), 'ENOENT', 'missing key');
  throwsCode(t, () => store.setEmbedding('doc', new Float32Array(767)), 'EINVAL', '767 floats');
  throwsCode(t, () => store.setEmbedding('doc', [1, 2] as unknown as Float32Array), 'EINVAL', 'not a Float32Array');
  const plain = Store.createShared({ slots: 4, maxValueSize: 16 });
  plain.set('doc', 'x');
  throwsCode(t, () => plain.setEmbedding('doc', vector), 'ENOTSUP', 'store without embeddings');
  throwsCode(t, () => plain.getEmbedding('doc'), 'ENOTSUP', 'getEmbedding without embeddings');
});
