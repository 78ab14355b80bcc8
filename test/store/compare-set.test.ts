/** Conditional sets: `set(key, value, { ifEpoch })` and `{ ifAbsent }`, the compare in the slot seqlock's own CAS. */
import t from 'tap';
import { SlotType, SplinterError, Store } from '../../src/index.js';
import { finishTsWorker, startTsWorker } from '../helpers/ts-worker.js';
import { Peer } from '../helpers/peer.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SplinterError ? error.code : String(error);
  }
  return undefined;
}

t.test('ifEpoch writes only at the epoch given, and a refused set moves no epoch', async (t) => {
  const store = Store.createShared({ slots: 64, maxValueSize: 64 });
  store.set('k', 'one');
  const epoch = store.getEpoch('k');
  const global = store.epoch;
  t.equal(store.set('k', 'stale', { ifEpoch: epoch - 2n }), false, 'an older epoch is refused');
  t.equal(store.set('k', 'odd', { ifEpoch: epoch + 1n }), false, 'an odd epoch is refused');
  t.equal(store.getString('k'), 'one');
  t.equal(store.getEpoch('k'), epoch, 'the slot epoch did not move');
  t.equal(store.epoch, global, 'the global epoch did not move');
  t.equal(store.set('k', 'two', { ifEpoch: epoch }), true, 'the current epoch writes');
  t.equal(store.getString('k'), 'two');
  t.equal(store.getEpoch('k'), epoch + 2n);
  t.equal(store.set('k', 'again', { ifEpoch: epoch }), false, 'the same epoch once more is stale');
  t.equal(store.set('missing', 'x', { ifEpoch: 0n }), false, 'a missing key is at no epoch');
  t.equal(store.has('missing'), false, 'and is not created');
  t.equal(store.set('k', '{"a":1}', { ifEpoch: epoch + 2n, type: SlotType.JSON }), true, 'a typed conditional set');
  t.equal(store.slotSnapshot('k')!.typeFlag, SlotType.JSON);
  store.close();
});

t.test('ifAbsent writes only a missing key; bad conditions are EINVAL', async (t) => {
  const store = Store.createShared({ slots: 64, maxValueSize: 64 });
  t.equal(store.set('n', 'first', { ifAbsent: true }), true);
  t.equal(store.set('n', 'second', { ifAbsent: true }), false);
  t.equal(store.getString('n'), 'first');
  t.equal(store.set('n', 'plain'), true, 'a plain set says it wrote');
  t.equal(code(() => store.set('n', 'x', { ifEpoch: 2n, ifAbsent: true })), 'EINVAL', 'both conditions at once');
  t.equal(code(() => store.set('n', 'x', { ifEpoch: 2 as unknown as bigint })), 'EINVAL', 'an epoch that is not a bigint');
  t.equal(code(() => store.set('n', 'x', { ifEpoch: -2n })), 'EINVAL', 'a negative epoch');
  t.equal(code(() => store.set('n', '', { ifEpoch: store.getEpoch('n') })), 'EMSGSIZE', 'an empty value');
  store.setBigUint('u', 5n);
  const before = store.getEpoch('u');
  t.equal(code(() => store.set('u', 'text', { ifEpoch: before })), 'EPROTOTYPE', 'text over a BIGUINT is refused as set refuses it');
  t.equal(store.getEpoch('u'), before, 'without moving its epoch');
  store.close();
});

t.test('four writers adding by compare-and-set lose no increment: of writers expecting one epoch, one wins', async (t) => {
  const store = Store.createShared({ slots: 64, maxValueSize: 64 });
  store.set('counter', '0');
  const rounds = 3000;
  const gate = new SharedArrayBuffer(4);
  const workers = Array.from({ length: 4 }, () =>
    startTsWorker(new URL('./children/cas-incrementer.ts', import.meta.url).href, { buffer: store.buffer, rounds, gate, writers: 4 }),
  );
  const results = (await Promise.all(workers.map(finishTsWorker))) as { won: number; lost: number }[];
  const won = results.reduce((sum, r) => sum + r.won, 0);
  t.equal(won, 4 * rounds);
  t.equal(store.getString('counter'), String(4 * rounds), 'every winning set was based on the value before it');
  t.equal(store.getEpoch('counter'), 2n + 2n * BigInt(4 * rounds), 'one epoch move of 2 per winning set, none for a losing one');
  t.ok(results.some((r) => r.lost > 0), `the writers raced: sets that lost ${results.map((r) => r.lost).join(', ')}`);
  store.close();
});

t.test('a C writer changing the key between the read and the set makes the set fail', async (t) => {
  const name = `cas-peer-${process.pid}`;
  const store = Store.create(name, { slots: 64, maxValueSize: 64 });
  t.teardown(() => Store.unlink(name));
  const peer = Peer.open(name);
  await peer.ready;
  store.set('k', 'ours');
  const epoch = store.getEpoch('k');
  t.equal((await peer.send({ op: 'set', key: 'k', value_hex: Buffer.from('theirs').toString('hex') })).rc, 0);
  t.equal(store.set('k', 'late', { ifEpoch: epoch }), false, 'the epoch the C set moved is stale');
  t.equal(store.getString('k'), 'theirs', "C's value stands");
  const now = store.getEpoch('k');
  t.equal(store.set('k', 'after', { ifEpoch: now }), true);
  const back = await peer.send({ op: 'get', key: 'k' });
  t.equal(Buffer.from(String(back.value_hex), 'hex').toString(), 'after', 'C reads the conditional write');
  t.equal(await peer.close(), 0);
  store.close();
});

t.test('a C writer incrementing under the seqlock while we add by compare-and-set: no increment of either is lost', async (t) => {
  const name = `cas-race-${process.pid}`;
  const store = Store.create(name, { slots: 64, maxValueSize: 64 });
  t.teardown(() => Store.unlink(name));
  store.setBigUint('counter', 0n);
  const peer = Peer.open(name);
  await peer.ready;
  const rounds = 3000;
  const gate = new SharedArrayBuffer(4);
  const worker = startTsWorker(new URL('./children/cas-incrementer.ts', import.meta.url).href, { name, rounds, gate, writers: 2, u64: true });
  // The main thread is the second arrival: C starts incrementing as the worker starts its sets.
  const arrived = new Int32Array(gate);
  Atomics.add(arrived, 0, 1);
  Atomics.notify(arrived, 0);
  let cIncrements = 0;
  let done = false;
  void worker.message.then(() => (done = true), () => (done = true));
  while (!done || cIncrements < 500) {
    const answer = await peer.send({ op: 'integer_op', key: 'counter', int_op: 4, operand: 1 });
    if (answer.rc === 0) cIncrements++;
  }
  const result = (await finishTsWorker(worker)) as { won: number; lost: number };
  t.equal(result.won, rounds);
  t.equal(store.getBigUint('counter'), BigInt(rounds + cIncrements), `${rounds} of ours and ${cIncrements} of C's, none lost`);
  t.ok(result.lost > 0, `C's increments landed between our reads and sets: ${result.lost} of our sets lost a race`);
  t.equal(await peer.close(), 0);
  store.close();
});
