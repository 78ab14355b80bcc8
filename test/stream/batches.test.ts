/**
 * A subscription read in batches (`subscribe().batches(max)`): every event there now, up to max,
 * in seq order; a wait only for the first; gaps in place; the end, an abort and a dropped stream
 * as a one-event reader gets them.
 */
import t from 'tap';
import { Store, type StreamEvent } from '../../src/index.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { stillPending, within } from './helpers.js';

function shared(t: Test, slots = 64): Store {
  const store = Store.createShared({ slots, maxValueSize: 64 });
  t.teardown(() => store.close());
  return store;
}

const describeEvents = (events: StreamEvent[]): string[] =>
  events.map((e) => (e.kind === 'gap' ? `gap ${e.from}-${e.to} ${e.reason}` : e.kind === 'message' ? `${e.seq}:${String(e.value)}` : `${e.kind} ${e.seq}`));

t.test('a batch holds every event there now, up to max, in seq order', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 32 });
  for (let i = 1; i <= 10; i++) log.append(`m${i}`);
  const batches = log.subscribe({ from: 'earliest' }).batches(4);
  const seen: string[][] = [];
  for (let i = 0; i < 3; i++) {
    const step = await within(batches.next(), `batch ${i}`);
    t.equal(step.done, false);
    seen.push(describeEvents(step.value as StreamEvent[]));
  }
  t.same(seen, [
    ['1:m1', '2:m2', '3:m3', '4:m4'],
    ['5:m5', '6:m6', '7:m7', '8:m8'],
    ['9:m9', '10:m10'],
  ]);
  // Caught up: the next step waits for the first new message, then takes what came with it.
  const waiting = batches.next();
  t.ok(await stillPending(waiting, 50), 'no empty batch: a caught-up reader waits');
  log.append('m11');
  log.append('m12');
  const next = await within(waiting, 'the batch after the wait');
  t.same(describeEvents(next.value as StreamEvent[]).slice(0, 1), ['11:m11'], 'the awaited message first');
  const rest = describeEvents(next.value as StreamEvent[]).length === 2 ? [] : describeEvents(((await within(batches.next(), 'm12')).value as StreamEvent[]));
  t.same([...describeEvents(next.value as StreamEvent[]).slice(1), ...rest], ['12:m12'], 'then the one after it, in this batch or the next');
  await batches.return!();
  t.same(await batches.next(), { value: undefined, done: true }, 'return() ends it');
});

t.test('every message of a long run arrives once, in order, through batches', async (t) => {
  const store = shared(t, 4096);
  const log = store.stream('run', { capacity: 1024 });
  const total = 20_000;
  const reader = (async () => {
    let expected = 1n;
    let batchesSeen = 0;
    for await (const batch of log.subscribe({ from: 1 }).batches(256)) {
      batchesSeen++;
      if (batch.length < 1 || batch.length > 256) throw new Error(`a batch of ${batch.length} events; 1..256 expected`);
      for (const event of batch) {
        if (event.kind !== 'message' || event.seq !== expected) throw new Error(`expected message ${expected}, got ${describeEvents([event])}`);
        expected++;
      }
      if (expected > BigInt(total)) return batchesSeen;
    }
    return batchesSeen;
  })();
  // Appends in slices with turns of the event loop between them, staying within the capacity.
  for (let i = 0; i < total; i += 500) {
    for (let k = i; k < i + 500; k++) log.append(String(k + 1));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const count = await within(reader, 'the whole run');
  t.ok(count < total, `${count} batches carried ${total} messages`);
});

t.test('a gap comes in its place in a batch', async (t) => {
  const store = shared(t);
  const log = store.stream('small', { capacity: 4 });
  for (let i = 1; i <= 7; i++) log.append(`m${i}`);
  const step = await within(log.subscribe({ from: 1 }).batches(10).next(), 'a batch');
  t.same(describeEvents(step.value as StreamEvent[]), ['gap 1-3 overwritten', '4:m4', '5:m5', '6:m6', '7:m7']);
});

t.test('batches of a durable consumer start after its ack', async (t) => {
  const store = shared(t);
  const log = store.stream('jobs', { capacity: 16 });
  for (let i = 1; i <= 5; i++) log.append(`j${i}`);
  const worker = log.consumer('w');
  worker.ack(3n);
  const step = await within(worker.subscribe().batches(100).next(), 'a batch');
  t.same(describeEvents(step.value as StreamEvent[]), ['4:j4', '5:j5']);
});

t.test('a stream dropped under a batch reader: the events before come first, then ENOENT', async (t) => {
  const store = shared(t);
  const log = store.stream('gone', { capacity: 8 });
  const batches = log.subscribe({ from: 1 }).batches(100);
  log.append('a');
  t.same(describeEvents(((await within(batches.next(), 'the first batch')).value as StreamEvent[])), ['1:a']);
  log.drop();
  await t.rejects(within(batches.next(), 'the step after the drop'), { code: 'ENOENT' });
  t.same(await batches.next(), { value: undefined, done: true }, 'then it is over');
});

t.test('an abort ends a waiting batch with an AbortError', async (t) => {
  const store = shared(t);
  const log = store.stream('quiet', { capacity: 8 });
  const controller = new AbortController();
  const batches = log.subscribe({ from: 'latest', signal: controller.signal }).batches();
  const waiting = batches.next();
  controller.abort();
  await t.rejects(within(waiting, 'the aborted step'), { name: 'AbortError' });
});

t.test('max is an integer 1..65536', (t) => {
  const store = shared(t);
  const subscription = store.stream('m', { capacity: 4 }).subscribe();
  for (const bad of [0, -1, 1.5, 65_537, Number.NaN, '8' as unknown as number]) {
    throwsCode(t, () => subscription.batches(bad), 'EINVAL', `max ${String(bad)}`);
  }
  t.doesNotThrow(() => subscription.batches(65_536));
  subscription.return!();
  t.end();
});
