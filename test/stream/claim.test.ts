/**
 * The claim takes head + 1 with a compare-and-swap of the head's low word, and a 64-bit add when
 * the low word would carry: seqs stay dense and exact across 2^32, as C's atomic_fetch_add on the
 * whole u64 leaves them.
 */
import t from 'tap';
import { Store } from '../../src/index.js';
import { headByte } from './helpers.js';

t.test('appends across the low word\'s carry: 2^32 − 1, 2^32, 2^32 + 1', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 32 });
  t.teardown(() => store.close());
  const log = store.stream('log', { capacity: 4 });
  const words = new BigUint64Array(store.buffer!);
  const at = headByte(store, 'log') / 8;
  const start = 2n ** 32n - 2n;
  Atomics.store(words, at, start);
  // The cells of the seqs below must hold their previous laps: as if every earlier seq had been written.
  for (const seq of [start + 1n, start + 2n, start + 3n]) store.setSlotTime(`log#${seq % 4n}`, 'ctime', seq - 4n);
  const seqs = [log.append('a'), log.append('b'), log.append('c')];
  t.same(seqs, [start + 1n, start + 2n, start + 3n], 'dense seqs across the carry');
  t.equal(log.head(), start + 3n, 'the head, high word and all');
  t.equal(Atomics.load(words, at), start + 3n, 'the u64 C reads');
  t.same(log.read(start + 2n), { kind: 'message', seq: start + 2n, type: 'text', value: 'b' });
});
