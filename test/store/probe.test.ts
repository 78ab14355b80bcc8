/**
 * Finding keys through a handle's memory of where they were (probe.ts locateKey): whatever
 * another writer does meanwhile (ours in another handle, or the C peer), a read never
 * returns a key's old place, an old value, or a stale "missing".
 */
import fs from 'node:fs';
import t from 'tap';
import { Store } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer, peerBinary } from '../helpers/peer.js';

const hex = (text: string): string => Buffer.from(text).toString('hex');

/** Two handles on one store: each has its own memory of key places, so each is a foreign writer to the other. */
function twoHandles(t: Test, slots: number, maxValueSize: number): [Store, Store, string] {
  const name = shmName(t);
  const a = Store.create(name, { slots, maxValueSize });
  const b = Store.open(name);
  t.teardown(() => {
    a.close();
    b.close();
  });
  return [a, b, name];
}

t.test('a key another writer creates is seen at once, after a remembered miss', async (t) => {
  const [a, b] = twoHandles(t, 16, 32);
  t.equal(a.get('late'), undefined);
  t.equal(a.has('late'), false);
  t.equal(a.getEpoch('late'), 0n);
  b.set('late', 'here');
  t.equal(a.getString('late'), 'here');
  t.equal(a.has('late'), true);
  t.equal(a.getEpoch('late'), 2n);
});

t.test('a key another writer unsets is gone at once (an unset moves no global epoch)', async (t) => {
  const [a, b] = twoHandles(t, 16, 32);
  a.set('k', 'v');
  t.equal(a.getString('k'), 'v');
  const epoch = a.epoch;
  b.unset('k');
  t.equal(a.epoch, epoch, 'the global epoch did not move');
  t.equal(a.get('k'), undefined);
  t.equal(a.has('k'), false);
  t.equal(a.getEpoch('k'), 0n);
  t.throws(() => a.append('k', 'x'), { code: 'ENOENT' });
});

t.test('a key unset and set again in an earlier hole is read from its new place', async (t) => {
  // k0 and k4 share home slot 2 of a 4-slot store; k4 first lands past k0, in slot 3.
  const [a, b] = twoHandles(t, 4, 16);
  a.set('k0', 'zero');
  a.set('k4', 'old');
  t.equal(a.slotSnapshot('k4')!.index, 3);
  t.equal(a.getString('k4'), 'old');
  b.unset('k0');
  b.unset('k4');
  b.set('k4', 'new');
  t.equal(b.slotSnapshot('k4')!.index, 2, 'the other handle put k4 in the hole at its home');
  t.equal(a.getString('k4'), 'new');
  t.equal(a.slotSnapshot('k4')!.index, 2);
});

t.test('this handle\'s own writes keep what it remembers; another handle\'s writes are seen', async (t) => {
  const [a, b] = twoHandles(t, 64, 16);
  for (let i = 0; i < 40; i++) a.set(`key${i}`, `a${i}`);
  for (let i = 0; i < 40; i++) t.equal(a.getString(`key${i}`), `a${i}`);
  for (let i = 0; i < 40; i += 3) b.set(`key${i}`, `b${i}`);
  for (let i = 0; i < 40; i++) t.equal(a.getString(`key${i}`), i % 3 === 0 ? `b${i}` : `a${i}`);
  for (let i = 0; i < 40; i += 2) a.unset(`key${i}`);
  for (let i = 0; i < 40; i++) t.equal(b.has(`key${i}`), i % 2 !== 0, `key${i} as the other handle sees it`);
});

t.test('C writes a second copy ahead of the one this handle found (docs/spec/FORMAT.md §9 Q1): the new one is read', { skip: !fs.existsSync(peerBinary) && 'no C peer built' }, async (t) => {
  const name = shmName(t);
  const store = Store.create(name, { slots: 4, maxValueSize: 16 });
  t.teardown(() => store.close());
  store.set('k0', 'zero');
  store.set('k4', 'old');
  t.equal(store.getString('k4'), 'old', 'k4 found in slot 3 and remembered');
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  await peer.ready;
  t.equal((await peer.send({ op: 'unset', key: 'k0' })).rc, 4, 'C unset k0 (4 bytes), opening a hole at k4\'s home');
  t.equal((await peer.send({ op: 'set', key: 'k4', value_hex: hex('new') })).rc, 0);
  t.equal(store.keys().filter((k) => k === 'k4').length, 2, 'C stored k4 twice');
  t.equal(store.getString('k4'), 'new', 'the copy C readers see, not the remembered one');
  t.equal(store.slotSnapshot('k4')!.index, 2);
  t.equal(store.getEpoch('k4'), store.slotSnapshot('k4')!.epoch);
});
