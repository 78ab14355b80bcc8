/**
 * Backpressure (issue #22): durable consumers named in `hold` gate a producer, which never
 * overwrites what they have not acknowledged: EAGAIN from append, `room()`, `whenRoom()` with its
 * timeout and signal, a consumer that is gone, the acks read once per limit (not per append), and
 * a C producer that ignores the gate, whose overwrites come as exact gaps.
 */
import t from 'tap';
import { Store } from '../../src/index.js';
import { StreamConsumer } from '../../src/stream/consumer.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';
import { gap, message, plain, stillPending, take, within } from './helpers.js';

function shared(t: Test): Store {
  const store = Store.createShared({ slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  return store;
}

t.test('a gated producer never overwrites what the consumer has not acknowledged', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4, hold: ['worker'] });
  t.same(log.holds, ['worker']);
  t.equal(log.room(), 4, 'a consumer that never acknowledged holds at seq 0: a capacity of room');
  for (let i = 1; i <= 4; i++) t.equal(log.append(`m${i}`), BigInt(i));
  t.equal(log.room(), 0);
  const held = throwsCode(t, () => log.append('m5'), 'EAGAIN', 'the fifth would overwrite seq 1, not acknowledged');
  t.match(held?.message, /consumer "worker" has not acknowledged/, 'the error names the consumer that holds');
  t.equal(log.head(), 4n, 'nothing was claimed by the refused appends');
  const worker = log.consumer('worker');
  worker.ack(2);
  t.equal(log.room(), 2, 'two acknowledged: two fit');
  t.equal(log.append('m5'), 5n);
  t.equal(log.append('m6'), 6n);
  throwsCode(t, () => log.append('m7'), 'EAGAIN', 'held again at the new limit');
  const events = worker.subscribe();
  t.same((await take(events, 4)).map(plain), [3, 4, 5, 6].map((n) => message(n, 'text', `m${n}`)), 'from the ack on: every message, no gap');
  await events.return!();
  const free = store.stream('log');
  t.equal(free.room(), Infinity, 'a producer without hold is never held');
  free.append('m7');
  free.append('m8');
  t.same(log.read(3), gap(3, 3, 'overwritten'), 'one that opened it without hold overwrites as before');
});

t.test('hold takes consumer ids', async (t) => {
  const store = shared(t);
  t.match(throwsCode(t, () => store.stream('log', { hold: 'worker' as unknown as string[] }), 'EINVAL', 'not an array')?.message, /hold is an array of consumer ids/);
  t.match(throwsCode(t, () => store.stream('log', { hold: [''] }), 'EINVAL', 'an empty id')?.message, /a consumer id of stream "log"/);
});

t.test('whenRoom resolves once the consumer acknowledges', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 2, hold: ['a', 'b'] });
  log.append('1');
  log.append('2');
  const room = log.whenRoom();
  t.ok(await stillPending(room, 100), 'held: waiting');
  log.consumer('a').ack(2);
  t.ok(await stillPending(room, 100), 'the least acknowledged of the gates holds');
  log.consumer('b').ack(1);
  await within(room, 'room after both acknowledged');
  t.equal(log.append('3'), 3n);
  throwsCode(t, () => log.append('4'), 'EAGAIN', 'b acknowledged only seq 1');
  await t.rejects(log.whenRoom({ timeout: 0 }), { code: 'ETIMEDOUT' }, 'no room: a timeout of 0 rejects at once');
});

t.test('whenRoom: timeout, abort, bad options', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 1, hold: ['gone'] });
  log.append('only');
  const started = performance.now();
  await t.rejects(log.whenRoom({ timeout: 50 }), { code: 'ETIMEDOUT', message: /consumer "gone" acknowledged seq 0/ });
  t.ok(performance.now() - started >= 45, 'it waited for the timeout');
  const controller = new AbortController();
  const waiting = log.whenRoom({ signal: controller.signal });
  controller.abort(new Error('stop'));
  await t.rejects(waiting, { name: 'AbortError' });
  await t.rejects(log.whenRoom({ signal: controller.signal }), { name: 'AbortError' }, 'an aborted signal: at once');
  await t.rejects(log.whenRoom({ timeout: -1 }), { code: 'EINVAL' });
  await t.resolves(within(store.stream('free', { capacity: 2 }).whenRoom(), 'no gates'), 'no gates: room at once');
});

t.test('a consumer that is gone holds the producer; opening without it in hold lets it go on with a gap for it', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 2, hold: ['dead'] });
  log.append('1');
  log.append('2');
  await t.rejects(log.whenRoom({ timeout: 20 }), { code: 'ETIMEDOUT' });
  const released = store.stream('log');
  released.append('3');
  const events = released.consumer('dead').subscribe();
  t.same((await take(events, 2)).map(plain), [gap(1, 1, 'overwritten'), message(2, 'text', '2')], 'its consumer, back, is told what it lost');
  await events.return!();
});

t.test('the gates are read when the cached limit is reached, not per append', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 50, hold: ['w'] });
  const original = StreamConsumer.prototype.acknowledged;
  let reads = 0;
  StreamConsumer.prototype.acknowledged = function (this: StreamConsumer): bigint {
    reads++;
    return original.call(this);
  };
  t.teardown(() => {
    StreamConsumer.prototype.acknowledged = original;
  });
  for (let i = 0; i < 50; i++) log.append('x');
  t.equal(reads, 1, 'one look for a lap');
  throwsCode(t, () => log.append('x'), 'EAGAIN', 'the 51st is held');
  t.equal(reads, 2, 'one more when the limit is reached');
});

t.test('a C producer that ignores the gate: the gated consumer is told exactly what it lost', async (t) => {
  const { store, peer } = await storeWithPeer(t);
  const log = store.stream('log', { capacity: 3, hold: ['w'] });
  log.append('a');
  log.append('b');
  for (const word of ['c', 'd', 'e']) {
    t.match(await peer.send({ op: 'stream_append', name: 'log', value_hex: Buffer.from(word).toString('hex') }), { rc: 0 });
  }
  throwsCode(t, () => log.append('f'), 'EAGAIN', 'ours is still held');
  const events = log.consumer('w').subscribe();
  const got = (await take(events, 4)).map(plain);
  t.same(got[0], gap(1, 2, 'overwritten'), 'seqs 1 and 2, overwritten by C, as one gap');
  t.same(got.slice(1).map((e) => (e as { seq: bigint }).seq), [3n, 4n, 5n]);
  await events.return!();
});

t.test('a C producer that honours the gate (the convention, with libsplinter calls and one compare-and-swap) is held and resumes on an ack', async (t) => {
  const { store, peer } = await storeWithPeer(t);
  const log = store.stream('log', { capacity: 2, hold: ['w'] });
  const cAppend = (word: string): Promise<unknown> => peer.send({ op: 'stream_append', name: 'log', hold: 'w', value_hex: Buffer.from(word).toString('hex') });
  t.match(await cAppend('a'), { rc: 0, seq: '1' });
  t.match(await cAppend('b'), { rc: 0, seq: '2' });
  const held = (await cAppend('c')) as { rc: number; seq?: string };
  t.equal(held.rc, -1, 'held: C gets an error');
  t.equal(held.seq, undefined, 'and claimed nothing');
  throwsCode(t, () => log.append('c'), 'EAGAIN', 'ours is held at the same limit');
  log.consumer('w').ack(1);
  t.match(await cAppend('c'), { rc: 0, seq: '3' }, 'an ack lets C go on');
  throwsCode(t, () => log.append('d'), 'EAGAIN', 'the room went to C');
  const events = log.consumer('w').subscribe();
  t.same((await take(events, 2)).map(plain), [message(2, 'bytes', [...Buffer.from('b')]), message(3, 'bytes', [...Buffer.from('c')])], 'nothing lost');
  await events.return!();
});

/** A small store of ours and the C peer on it, both closed at the end of the test. */
async function storeWithPeer(t: Test): Promise<{ store: Store; peer: Peer }> {
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  const peer = Peer.open(target);
  t.teardown(() => peer.close());
  await peer.ready;
  return { store, peer };
}
