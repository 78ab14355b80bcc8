/**
 * Writes to BIGUINT keys (docs/api.md, "Decisions"): a BIGUINT slot holds a u64, so `set` takes
 * only its 8 bytes and `append` is refused (EPROTOTYPE, nothing written, no epoch moved);
 * `setBigUint` stores a number. C keeps the type and takes any value (checked on the peer).
 */
import t from 'tap';
import { IntOp, SlotType, Store } from '../../src/index.js';
import { throwsCode } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

const u64 = (n: bigint): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, n, true);
  return bytes;
};
const hex = (text: string): string => Buffer.from(text).toString('hex');

t.test('set of a string, or of bytes other than 8, on a BIGUINT key is EPROTOTYPE and writes nothing', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 32 });
  t.teardown(() => store.close());
  store.set('counter', '41');
  store.setNamedType('counter', SlotType.BIGUINT);
  const before = store.slotSnapshot('counter')!;
  const globalBefore = store.epoch;
  const refused = throwsCode(t, () => store.set('counter', '7'), 'EPROTOTYPE', "set('counter', '7')");
  t.match(refused?.message, /expected 8 bytes.*received a string of 1 bytes.*setBigUint/, 'the message says what is expected, what came, and what to use');
  throwsCode(t, () => store.set('counter', '12345678'), 'EPROTOTYPE', 'a string of exactly 8 bytes is text all the same');
  throwsCode(t, () => store.set('counter', new Uint8Array(4)), 'EPROTOTYPE', '4 bytes');
  throwsCode(t, () => store.set('counter', new Uint8Array(9)), 'EPROTOTYPE', '9 bytes');
  throwsCode(t, () => store.append('counter', 'x'), 'EPROTOTYPE', 'append text');
  throwsCode(t, () => store.append('counter', new Uint8Array(8)), 'EPROTOTYPE', 'append bytes');
  t.same(store.slotSnapshot('counter'), before, 'the slot is untouched: value, length, type, epoch');
  t.equal(store.epoch, globalBefore, 'no global epoch moved');
  t.equal(store.getBigUint('counter'), 41n, 'it still reads 41');

  store.set('counter', u64(7n));
  t.equal(store.getBigUint('counter'), 7n, '8 bytes are the u64, little-endian');
  t.equal(store.slotSnapshot('counter')!.typeFlag, SlotType.BIGUINT, 'and the type stays');
  t.equal(store.integerOp('counter', IntOp.INC, 1n), 8n);

  store.setNamedType('counter', SlotType.VOID);
  store.set('counter', 'text again');
  t.equal(store.getString('counter'), 'text again', 'renamed VOID, the key takes any value');
  store.set('other', 'abc');
  store.append('other', 'def');
  t.equal(store.getString('other'), 'abcdef', 'other types are not affected');
});

t.test('setBigUint stores a number and names the slot BIGUINT', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 32 });
  t.teardown(() => store.close());
  store.setBigUint('fresh', 7n);
  t.equal(store.getBigUint('fresh'), 7n, 'a new key');
  t.equal(store.slotSnapshot('fresh')!.typeFlag, SlotType.BIGUINT);
  store.set('text', 'hello');
  store.setBigUint('text', 2n ** 64n - 1n);
  t.equal(store.getBigUint('text'), 2n ** 64n - 1n, 'a key that held text');
  const epoch = store.getEpoch('fresh');
  store.setBigUint('fresh', 9);
  t.equal(store.getBigUint('fresh'), 9n, 'a safe integer number is taken too');
  t.equal(store.getEpoch('fresh'), epoch + 2n, 'on a BIGUINT key it is one write');
  throwsCode(t, () => store.setBigUint('fresh', -1n), 'EINVAL', 'a negative value');
  throwsCode(t, () => store.setBigUint('fresh', 2n ** 64n), 'EINVAL', 'a value past u64');
  throwsCode(t, () => store.setBigUint('fresh', 1.5), 'EINVAL', 'a fraction');
  t.equal(store.getBigUint('fresh'), 9n, 'refusals write nothing');
  const tiny = Store.createShared({ slots: 4, maxValueSize: 4 });
  t.teardown(() => tiny.close());
  throwsCode(t, () => tiny.setBigUint('k', 1n), 'EMSGSIZE', 'a store whose values are under 8 bytes');
  t.equal(tiny.has('k'), false);
});

t.test('the C peer: reads what we refused as it was, reads setBigUint; C itself keeps the type on set', async (t) => {
  const name = shmName(t);
  const store = Store.create(name, { slots: 16, maxValueSize: 32 });
  const peer = Peer.open(name);
  t.teardown(async () => {
    await peer.close();
    store.close();
    Store.unlink(name);
  });
  await peer.ready;
  store.setBigUint('counter', 41n);
  throwsCode(t, () => store.set('counter', '7'), 'EPROTOTYPE', 'our set of text');
  t.match(await peer.send({ op: 'get_biguint', key: 'counter' }), { rc: 0, value: '41', type_flag: SlotType.BIGUINT }, 'C reads the u64 we stored, BIGUINT');
  t.equal((await peer.send({ op: 'integer_op', key: 'counter', int_op: IntOp.INC, operand: 1 })).rc, 0, 'and can count on it');
  t.equal(store.getBigUint('counter'), 42n);

  // C's own set keeps the type and stores the text: the difference we do not make.
  t.equal((await peer.send({ op: 'set', key: 'counter', value_hex: hex('7') })).rc, 0);
  t.equal(store.slotSnapshot('counter')!.typeFlag, SlotType.BIGUINT, "after C's set the key is still BIGUINT");
  t.equal(store.getBigUint('counter'), 55n, "and reads as 55, '7' being 0x37 (the scrub zeroed the rest)");
  store.setBigUint('counter', 7n);
  t.match(await peer.send({ op: 'get_biguint', key: 'counter' }), { rc: 0, value: '7', type_flag: SlotType.BIGUINT }, 'setBigUint repairs it for both sides');
});
