/** Reading a store like a collection (docs/api.md, "Decisions"): count, entries, iteration, JSON helpers, integerOp's result. */
import t from 'tap';
import { IntOp, SlotType, Store } from '../../src/index.js';
import { throwsCode } from '../helpers/assert.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

t.test('count() is the number of keys, as keys() lists them', async (t) => {
  const store = Store.createShared({ slots: 64, maxValueSize: 32 });
  t.teardown(() => store.close());
  t.equal(store.count(), 0, 'empty');
  for (let i = 0; i < 40; i++) store.set(`k${i}`, String(i));
  t.equal(store.count(), 40);
  store.unset('k3');
  store.unset('k17');
  t.equal(store.count(), 38, 'unset keys are not counted');
  t.equal(store.count(), store.keys().length, 'the same as keys().length');
  store.close();
  throwsCode(t, () => store.count(), 'ECLOSED', 'after close');
});

t.test('entries() and for…of give [key, value] pairs in slot order', async (t) => {
  const store = Store.createShared({ slots: 32, maxValueSize: 32 });
  t.teardown(() => store.close());
  const data = { a: 'one', b: 'two', c: 'three' };
  for (const [key, value] of Object.entries(data)) store.set(key, value);
  const order = store.keys();
  const seen = [...store.entries()].map(([key, value]) => [key, text(value)]);
  t.same(seen, order.map((key) => [key, data[key as keyof typeof data]]), 'entries(), in the order of keys()');
  const iterated: string[] = [];
  for (const [key, value] of store) iterated.push(`${key}=${text(value)}`);
  t.same(iterated, order.map((key) => `${key}=${data[key as keyof typeof data]}`), 'for…of the store');
  t.same(new Map([...store].map(([k, v]) => [k, text(v)])), new Map(Object.entries(data)), 'new Map(store) works');

  const iterator = store.entries();
  const first = iterator.next();
  t.equal(first.done, false);
  const rest = order.filter((key) => key !== first.value![0]);
  store.unset(rest[0]!);
  store.set(rest[1]!, 'changed');
  t.same([...iterator].map(([key, value]) => [key, text(value)]), [[rest[1], 'changed']], 'values are read as iteration reaches them; keys unset meanwhile are skipped');
});

t.test('setJSON / getJSON use the JSON slot type', async (t) => {
  const store = Store.createShared({ slots: 32, maxValueSize: 64 });
  t.teardown(() => store.close());
  store.setJSON('job', { id: 42, tags: ['gpu'] });
  t.same(store.getJSON('job'), { id: 42, tags: ['gpu'] });
  t.equal(store.slotSnapshot('job')!.typeFlag, SlotType.JSON, 'the slot is named JSON');
  t.equal(store.getString('job'), '{"id":42,"tags":["gpu"]}', 'stored as JSON text, readable by anyone');
  const epoch = store.getEpoch('job');
  store.setJSON('job', [1, 2]);
  t.equal(store.getEpoch('job'), epoch + 2n, 'rewriting a JSON key is one write');
  t.equal(store.getJSON('missing'), undefined, 'a missing key');
  store.set('plain', '{"a":1}');
  throwsCode(t, () => store.getJSON('plain'), 'EPROTOTYPE', 'a slot not named JSON');
  store.setNamedType('plain', SlotType.JSON);
  t.same(store.getJSON('plain'), { a: 1 }, 'once named JSON');
  store.set('bad', 'not json');
  store.setNamedType('bad', SlotType.JSON);
  throwsCode(t, () => store.getJSON('bad'), 'EPROTOTYPE', 'named JSON but not JSON text');
  throwsCode(t, () => store.setJSON('x', undefined), 'EINVAL', 'undefined');
  throwsCode(t, () => store.setJSON('x', 1n), 'EINVAL', 'a bigint');
  const loop: Record<string, unknown> = {};
  loop['self'] = loop;
  throwsCode(t, () => store.setJSON('x', loop), 'EINVAL', 'a cycle');
  throwsCode(t, () => store.setJSON('x', 'y'.repeat(100)), 'EMSGSIZE', 'too long');
  t.equal(store.has('x'), false, 'refusals write nothing');
  store.setBigUint('n', 5n);
  store.setJSON('n', { now: 'json' });
  t.same(store.getJSON('n'), { now: 'json' }, 'a BIGUINT key becomes JSON');
  t.equal(store.slotSnapshot('n')!.typeFlag, SlotType.JSON);
  store.setBigUint('m', 5n);
  throwsCode(t, () => store.setJSON('m', 'y'.repeat(100)), 'EMSGSIZE', 'too long for a BIGUINT key');
  t.equal(store.slotSnapshot('m')!.typeFlag, SlotType.BIGUINT, 'which keeps its type');
  t.equal(store.getBigUint('m'), 5n, 'and its value');
});

t.test('integerOp returns the new value; setNamedType takes a SlotType or a raw byte', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 16 });
  t.teardown(() => store.close());
  store.set('n', '41');
  store.setNamedType('n', SlotType.BIGUINT);
  t.equal(store.integerOp('n', IntOp.INC, 1n), 42n, 'INC');
  t.equal(store.integerOp('n', IntOp.DEC, 50n), 2n ** 64n - 8n, 'DEC wraps');
  t.equal(store.integerOp('n', IntOp.NOT), 7n, 'NOT');
  t.equal(store.getBigUint('n'), 7n, 'the value returned is the value stored');
  store.setNamedType('n', SlotType.BIGUINT | SlotType.VARTEXT);
  t.equal(store.slotSnapshot('n')!.typeFlag, 4 | 128, 'a mask of several bits');
});
