/**
 * No torn value across unset and re-insert (the epoch ABA): our writers never bring a slot
 * epoch back, and our readers also catch C's resets (unset to 2, retrain to 4) through the
 * global epoch (docs/format.md "Concurrency"). On each kind of backing; the C peer's own
 * unset and set on a /dev/shm store at the end.
 */
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { SLOT } from '../../src/layout/constants.js';
import { tryLock, unlock } from '../../src/store/sync/seqlock.js';
import type { Test } from '../helpers/assert.js';
import { cRetrain, cUnset, slotEpoch } from '../helpers/c-writes.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

type Make = (t: Test) => Store;

const GEOMETRY = { slots: 16, maxValueSize: 64 };
const backings: Record<string, Make> = {
  shared: () => Store.createShared(GEOMETRY),
  shm: (t) => Store.create(shmName(t), GEOMETRY),
  file: (t) => Store.create(path.join(tempDir(t), 's.spl'), GEOMETRY),
};

const decoded = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

/**
 * A getInto target that runs `during` once, when the copy has written `atByte` bytes: a writer
 * in the middle of a read, deterministically. (Values under 16 bytes are copied byte by byte.)
 */
function interruptedTarget(size: number, atByte: number, during: () => void): Uint8Array {
  const bytes = new Uint8Array(size);
  let fired = false;
  return new Proxy(bytes, {
    get: (target, property) => {
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set: (target, property, value) => {
      if (!fired && property === String(atByte)) {
        fired = true;
        during();
      }
      return Reflect.set(target, property, value);
    },
  });
}

for (const [kind, make] of Object.entries(backings)) {
  t.test(`${kind}: unset then re-insert never brings a slot epoch back`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('k', 'first');
    store.set('k', 'second');
    t.equal(store.getEpoch('k'), 4n, 'two writes: epoch 4');
    const index = store.slotSnapshot('k')!.index;
    const view = store.rawView('k')!;
    t.equal(decoded(view.bytes), 'second');
    t.equal(store.unset('k'), 6);
    t.equal(slotEpoch(store, index), 6n, 'our unset releases forward: 4 → 5 → 6 (C resets to 2)');
    store.set('k', 'other!');
    t.equal(store.slotSnapshot('k')!.index, index, 're-inserted into the same slot');
    t.equal(store.getEpoch('k'), 8n, 'the insert continues from 6');
    t.equal(view.stillValid(), false, 'the view taken at epoch 4 is no longer valid');
    t.equal(decoded(view.bytes), 'other!', '(its bytes are the new value)');
    t.equal(store.getString('k'), 'other!');
    // Cycles of set, set, unset: every epoch the key is seen at is new.
    const seen = new Set<bigint>([2n, 4n, 8n]);
    for (let cycle = 0; cycle < 5; cycle++) {
      store.set('k', `a${cycle}`);
      for (const epoch of [store.getEpoch('k')]) {
        t.notOk(seen.has(epoch), `cycle ${cycle}: epoch ${epoch} is new`);
        seen.add(epoch);
      }
      store.unset('k');
      t.notOk(seen.has(slotEpoch(store, index)), `cycle ${cycle}: the emptied slot's epoch is new`);
      seen.add(slotEpoch(store, index));
    }
  });

  t.test(`${kind}: our readers catch C's unset and re-insert (epoch back to 4)`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('k', 'first');
    store.set('k', 'second');
    const view = store.rawView('k')!;
    const snapshot = store.slotSnapshot('k')!;
    cUnset(store, 'k');
    t.equal(slotEpoch(store, snapshot.index), 2n, "C's unset leaves epoch 2");
    store.set('k', 'third');
    t.equal(store.getEpoch('k'), 4n, 'the insert continues from 2: epoch 4 again, as the view saw');
    t.equal(view.stillValid(), false, 'the view is not valid: the global epoch moved');
    t.equal(store.getString('k'), 'third', 'a new read gets the new value');
    t.equal(store.rawView('k')!.stillValid(), true, 'and a new view is valid');
  });

  t.test(`${kind}: a getInto interrupted by C's unset and a re-insert does not return torn bytes`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('k', 'AAAAAAAA');
    store.set('k', 'BBBBBBBB'); // epoch 4
    const target = interruptedTarget(8, 4, () => {
      cUnset(store, 'k');
      store.set('k', 'CCCCCCCC'); // epoch 2 → 4: the reader's epoch check alone passes
    });
    t.equal(store.getEpoch('k'), 4n);
    t.equal(store.getInto('k', target), 8);
    t.equal(decoded(target.slice()), 'CCCCCCCC', 'the torn copy BBBBCCCC was refused and the read retried');
    t.equal(store.getEpoch('k'), 4n, 'the slot is back at the epoch the first attempt saw');
  });

  t.test(`${kind}: our readers catch C's retrain after a write (epoch back to 4)`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    store.set('k', 'AAAAAAAA');
    store.set('k', 'BBBBBBBB'); // epoch 4
    const target = interruptedTarget(8, 4, () => {
      store.set('k', 'CCCCCCCC'); // epoch 6
      cRetrain(store, 'k'); // epoch 3, then 4
    });
    t.equal(store.getInto('k', target), 8);
    t.equal(decoded(target.slice()), 'CCCCCCCC', 'the torn copy BBBBCCCC was refused');
  });

  t.test(`${kind}: a reader of a key at epoch 10 ignores global moves too few for a climb back`, async (t) => {
    const store = make(t);
    t.teardown(() => store.close());
    for (let i = 0; i < 5; i++) store.set('k', `v${i}xxxxxx`); // epoch 10: a C climb back needs 4 global moves
    let other = 0;
    const target = interruptedTarget(8, 4, () => {
      for (; other < 3; other++) store.set(`other/${other}`, 'x');
    });
    t.equal(store.getInto('k', target), 8);
    t.equal(decoded(target.slice()), 'v4xxxxxx');
    t.equal(other, 3, 'three global moves during the copy: accepted at epoch 10');
  });
}

t.test('an epoch C stores over a held slot never confuses our writers', async (t) => {
  const store = Store.createShared(GEOMETRY);
  t.teardown(() => store.close());
  const m = store.memory;
  store.set('k', 'v');
  store.set('k', 'v'); // epoch 4
  const index = store.slotSnapshot('k')!.index;
  const w = m.epochW32(m.slotByte(index));
  t.ok(tryLock(m.u32, w), 'held: epoch 5');
  Atomics.store(m.u64, w >>> 1, 2n); // C's unset, which takes no lock, finished under us
  unlock(m.u32, m.u64, w);
  t.equal(slotEpoch(store, index), 2n, "C's even epoch stands (adding 1 would leave the slot odd for good)");
  t.ok(tryLock(m.u32, w), 'held again: epoch 3');
  Atomics.store(m.u64, w >>> 1, 3n); // C's retrain, half-way
  unlock(m.u32, m.u64, w);
  t.equal(slotEpoch(store, index), 4n, 'an odd epoch is released as ours');
  // Our retrain moves forward from whatever it finds, odd or even, in range or at the top of the low word.
  store.retrainSlot('k');
  t.equal(slotEpoch(store, index), 6n, 'retrain of epoch 4: 6 (C: 4)');
  Atomics.store(m.u64, w >>> 1, 7n); // a writer died inside
  store.retrainSlot('k');
  t.equal(slotEpoch(store, index), 8n, 'retrain of a slot stuck at 7: 8');
  Atomics.store(m.u64, w >>> 1, 0xffffffffn);
  store.retrainSlot('k');
  t.equal(slotEpoch(store, index), 0x1_0000_0000n, 'retrain of a slot stuck at 2^32 − 1 carries into the high word');
  store.set('k', 'after');
  t.equal(slotEpoch(store, index), 0x1_0000_0002n, 'and writers continue from there');
  t.equal(store.getString('k'), 'after');
  Atomics.store(m.u64, w >>> 1, 10n);
  cUnset(store, 'k');
  store.set('k', 'again');
  t.equal(store.getEpoch('k'), 4n, 'after a C reset to 2 our insert continues from 2');
  t.equal(store.getString('k'), 'again');
  t.equal(SLOT.epoch, 8, '(the epoch is the u64 at slot offset 8)');
});

t.test("shm: the C peer's own unset and set bring the epoch back; our readers refuse the old view", async (t) => {
  const name = shmName(t);
  const store = Store.create(name, GEOMETRY);
  t.teardown(() => store.close());
  const peer = Peer.open(name);
  t.teardown(async () => {
    await peer.close();
  });
  await peer.ready;
  store.set('k', 'first');
  store.set('k', 'second');
  const view = store.rawView('k')!;
  const index = store.slotSnapshot('k')!.index;
  t.equal((await peer.send({ op: 'unset', key: 'k' })).rc, 6, 'C unset');
  t.equal(slotEpoch(store, index), 2n, 'C leaves epoch 2');
  t.equal((await peer.send({ op: 'set', key: 'k', value_hex: Buffer.from('third').toString('hex') })).rc, 0, 'C set');
  t.equal(store.getEpoch('k'), 4n, 'epoch 4 again');
  t.equal(view.stillValid(), false, 'the old view is refused: the global epoch moved');
  t.equal(store.getString('k'), 'third');
  // And our unset on the same store moves forward where C's went back.
  t.equal(store.unset('k'), 5);
  t.equal(slotEpoch(store, index), 6n, 'our unset: 4 → 6');
  t.equal((await peer.send({ op: 'set', key: 'k', value_hex: Buffer.from('fourth').toString('hex') })).rc, 0);
  t.equal(store.getEpoch('k'), 8n, "C's insert continues from our 6");
});
