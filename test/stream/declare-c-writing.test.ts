/**
 * A seq a C producer has flagged "being written" (atime = its pid, then ctime = s | 2^63) is one
 * thing to every reader: while that producer lives it is never declared abandoned (a slow C
 * producer finishes, and every reader gets its message); once it is gone (killed mid-write),
 * a waiting reader declares the seq abandoned after the claim timeout, and the stream goes on.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

/** C's claim: atomic_fetch_add on the head counter, found through the meta's value. */
function claim(store: Store, name: string): number {
  const meta = store.rawView(`${name}#s`)!.bytes;
  const head = new BigUint64Array(meta.buffer, (meta.byteOffset + 16 + 7) & ~7, 1);
  return Number(Atomics.add(head, 0, 1n)) + 1;
}

t.test('a live C producer slower than the claim timeout: its seq is its message, to every reader', async (t) => {
  const name = shmName(t, 'declare-live');
  const store = Store.create(name, { slots: 16, maxValueSize: 32 });
  t.teardown(() => store.close());
  const stream = store.stream('r', { capacity: 4, claimTimeout: 100 });
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  await peer.ready;
  t.equal(claim(store, 'r'), 1);
  t.equal((await peer.send({ op: 'set_slot_time', key: 'r#1', mode: 1, time: String(peer.pid) })).rc, 0);
  t.equal((await peer.send({ op: 'set_slot_time', key: 'r#1', mode: 0, time: String(2n ** 63n + 1n) })).rc, 0);
  const epochBefore = store.getEpoch('r#1');
  const first = stream.subscribe({ from: 1 }).next();
  await delay(600); // six claim timeouts: a live writer's seq is still not declared
  t.equal(stream.read(1), undefined, 'seq 1 is still pending, not declared abandoned');
  // Not even locked to look: C's set skips a locked slot and would write its value into a copy of the key.
  t.equal(store.getEpoch('r#1'), epochBefore, "the waiting reader never took the cell's seqlock");
  // A producer one lap later waits for seq 1, and gives up (its seq is left to be declared) rather than hang.
  for (let seq = 2; seq <= 4; seq++) stream.append(`lap one ${seq}`);
  const started = performance.now();
  t.throws(() => stream.append('lap two'), { code: 'ETIMEDOUT' }, 'the append of seq 5 gives up');
  t.ok(performance.now() - started < 5_000, 'after a few claim timeouts, not for good');
  t.equal(store.getEpoch('r#1'), epochBefore, 'and never locked the cell either');
  t.equal((await peer.send({ op: 'set', key: 'r#1', value_hex: 'aa' })).rc, 0);
  t.equal((await peer.send({ op: 'set_named_type', key: 'r#1', mask: 16 })).rc, 0);
  t.equal((await peer.send({ op: 'set_slot_time', key: 'r#1', mode: 0, time: '1' })).rc, 0);
  const expected = { kind: 'message', seq: 1n, type: 'bytes', value: new Uint8Array([0xaa]) };
  t.same((await first).value, expected, 'the waiting reader gets the message');
  t.same(stream.read(1), expected, 'and so does a later one');
  t.equal(store.keys().filter((key) => key === 'r#1').length, 1, 'one copy of the cell key: C wrote where readers look');
});

t.test('a C producer gone mid-write: a waiting reader declares its seq abandoned and goes on', async (t) => {
  const name = shmName(t, 'declare-gone');
  const store = Store.create(name, { slots: 16, maxValueSize: 32 });
  t.teardown(() => store.close());
  const stream = store.stream('r', { capacity: 4, claimTimeout: 100 });
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(gone.stdout);
  t.ok(deadPid > 0, `a pid that has exited: ${deadPid}`);
  t.equal(claim(store, 'r'), 1);
  store.setSlotTime('r#1', 'atime', BigInt(deadPid));
  store.setSlotTime('r#1', 'ctime', 2n ** 63n + 1n);
  stream.append('after');
  const events = stream.subscribe({ from: 1 });
  t.same((await events.next()).value, { kind: 'gap', from: 1n, to: 1n, reason: 'abandoned' });
  t.same((await events.next()).value, { kind: 'message', seq: 2n, type: 'text', value: 'after' });
  await events.return!();
});
