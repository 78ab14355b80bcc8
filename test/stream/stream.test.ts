/**
 * Streams (issue #22) in one process: append, read, head and oldest; message types and sizes;
 * the errors of bad arguments and of keys that are not a stream; the keys and bytes a stream is
 * made of (docs: the stream convention); subscriptions from each start, gaps of messages
 * overwritten or abandoned, malformed cells, durable consumers, and how a subscription ends.
 */
import t from 'tap';
import { SlotType, Store, type StreamEvent } from '../../src/index.js';
import { HEADER, SLOT, SLOT_SIZE } from '../../src/layout/constants.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { shmName, toHex } from '../helpers/fixtures.js';
import { claimByHand, gap, headByte, message, plain, stillPending, take, within } from './helpers.js';

const geometry = { slots: 64, maxValueSize: 64 };
const WRITING = 1n << 63n;
const enc = new TextEncoder();

function shared(t: Test, g = geometry): Store {
  const store = Store.createShared(g);
  t.teardown(() => store.close());
  return store;
}

function shm(t: Test, g = geometry): { store: Store; name: string } {
  const name = shmName(t, 'stream');
  const store = Store.create(name, g);
  t.teardown(() => store.close());
  return { store, name };
}

/** Seqs of the events, with their kind: a compact picture of an order. */
const kinds = (events: StreamEvent[]): string[] =>
  events.map((e) => (e.kind === 'gap' ? `gap ${e.from}-${e.to} ${e.reason}` : `${e.kind} ${e.seq}`));

t.test('append, read, head and oldest', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4 });
  t.equal(log.name, 'log');
  t.equal(log.capacity, 4);
  t.equal(log.head(), 0n, 'a new stream: nothing claimed');
  t.equal(log.oldest(), 1n, 'the oldest of an empty stream is seq 1');
  t.equal(log.read(1), undefined, 'seq 1 is not published yet');
  t.equal(log.append('one'), 1n, 'seqs start at 1');
  t.equal(log.append('two'), 2n);
  t.equal(log.append('three'), 3n);
  t.equal(log.head(), 3n);
  t.equal(log.oldest(), 1n, 'all three kept');
  t.same(log.read(2), message(2, 'text', 'two'), 'read(seq) as a bigint or a number');
  t.same(log.read(3n), message(3, 'text', 'three'));
  t.equal(log.read(4), undefined, 'past the head: not published');
  for (const word of ['four', 'five', 'six']) log.append(word);
  t.equal(log.head(), 6n);
  t.equal(log.oldest(), 3n, 'head − capacity + 1');
  t.same(log.read(1), gap(1, 1, 'overwritten'), 'seq 1 was overwritten by seq 5');
  t.same(log.read(2), gap(2, 2, 'overwritten'));
  t.same(log.read(3), message(3, 'text', 'three'), 'seq 3 is still kept');
  t.same(log.read(6), message(6, 'text', 'six'));
  const again = store.stream('log');
  t.equal(again.capacity, 4, 'opened without a capacity: the one it has');
  t.equal(again.head(), 6n, 'and the same head');
  t.equal(again.append('seven'), 7n, 'appends through either handle share the head');
  t.same(log.read(7), message(7, 'text', 'seven'));
  t.equal(store.stream('log', { capacity: 4 }).head(), 7n, 'opened with its own capacity: no reset');
});

t.test('message types: bytes, text, json, the type option and appendJSON', async (t) => {
  const store = shared(t);
  const log = store.stream('types', { capacity: 8 });
  const bytes = new Uint8Array([0, 1, 2, 255]);
  t.equal(log.append(bytes), 1n);
  log.append('plain text');
  log.append('{"a":[1,2]}', { type: 'json' });
  log.append(enc.encode('bytes read as text'), { type: 'text' });
  log.append('text kept as bytes', { type: 'bytes' });
  log.appendJSON({ x: 'y', n: 3, list: [true, null] });
  log.appendJSON('a string');
  log.append(enc.encode('[1,2,3]'), { type: 'json' });
  const events = [1, 2, 3, 4, 5, 6, 7, 8].map((seq) => plain(log.read(seq)!));
  t.same(events, [
    message(1, 'bytes', [0, 1, 2, 255]),
    message(2, 'text', 'plain text'),
    message(3, 'json', { a: [1, 2] }),
    message(4, 'text', 'bytes read as text'),
    message(5, 'bytes', [...enc.encode('text kept as bytes')]),
    message(6, 'json', { x: 'y', n: 3, list: [true, null] }),
    message(7, 'json', 'a string'),
    message(8, 'json', [1, 2, 3]),
  ]);
  const bytesEvent = log.read(1)!;
  t.ok(bytesEvent.kind === 'message' && bytesEvent.value instanceof Uint8Array, 'bytes come as a Uint8Array');
  bytes[0] = 99;
  t.same(plain(log.read(1)!), message(1, 'bytes', [0, 1, 2, 255]), 'the message is a copy: changing the array appended changes nothing');
  const slotTypes = [1, 2, 3, 4, 5, 6].map((seq) => store.slotSnapshot(`types#${seq % 8}`)!.typeFlag);
  t.same(slotTypes, [SlotType.BINARY, SlotType.VARTEXT, SlotType.JSON, SlotType.VARTEXT, SlotType.BINARY, SlotType.JSON], 'the cell slot types: BINARY 16, VARTEXT 128, JSON 8');
});

t.test('message sizes: exactly maxValueSize is kept; empty and too long are EMSGSIZE and claim nothing', async (t) => {
  const store = shared(t);
  const log = store.stream('sizes', { capacity: 4 });
  const full = new Uint8Array(64).map((_, i) => i * 3);
  t.equal(log.append(full), 1n, 'a message of exactly maxValueSize bytes');
  t.same(plain(log.read(1)!), message(1, 'bytes', [...full]));
  const fullText = 'é'.repeat(32); // 64 UTF-8 bytes
  t.equal(log.append(fullText), 2n, 'a text of exactly maxValueSize UTF-8 bytes');
  t.same(log.read(2), message(2, 'text', fullText));
  t.equal(log.append('x'), 3n, 'a message of one byte');
  const tooLong: Array<[string, () => unknown]> = [
    ['empty bytes', () => log.append(new Uint8Array(0))],
    ['empty text', () => log.append('')],
    ['maxValueSize + 1 bytes', () => log.append(new Uint8Array(65))],
    ['a text of 65 UTF-8 bytes', () => log.append(`${'é'.repeat(32)}a`)],
    ['a text of 33 characters, 66 bytes', () => log.append('é'.repeat(33))],
    ['a long text', () => log.append('x'.repeat(10_000))],
    ['JSON longer than maxValueSize', () => log.appendJSON({ long: 'y'.repeat(64) })],
    ['empty JSON bytes', () => log.append(new Uint8Array(0), { type: 'json' })],
  ];
  for (const [what, fn] of tooLong) throwsCode(t, fn, 'EMSGSIZE', what);
  t.equal(log.head(), 3n, 'nothing was claimed by the refused messages');
  t.equal(log.append('after'), 4n, 'the next message takes the next seq: no hole');
  t.same(log.read(4), message(4, 'text', 'after'));
});

t.test('bad names, capacities, seqs and options are EINVAL', async (t) => {
  const store = shared(t);
  const slotsBefore = store.count();
  const badNames: unknown[] = ['', '#', 'a#b', 'tail#', 'nul\0name', 'x'.repeat(41), `${'é'.repeat(20)}a`, 42, undefined, null, { name: 'x' }];
  for (const name of badNames) throwsCode(t, () => store.stream(name as string, { capacity: 2 }), 'EINVAL', `name ${JSON.stringify(String(name))}`);
  t.equal(store.count(), slotsBefore, 'a refused name wrote no key');
  t.equal(store.stream('x'.repeat(40), { capacity: 1 }).capacity, 1, 'a name of 40 bytes is fine');
  t.equal(store.stream('é'.repeat(20), { capacity: 1 }).capacity, 1, 'a name of 40 UTF-8 bytes is fine');
  const badCapacities: unknown[] = [0, -1, 1.5, Number.NaN, Infinity, 64, 1000, '4', 4n, null];
  for (const capacity of badCapacities) {
    throwsCode(t, () => store.stream('cap', { capacity: capacity as number }), 'EINVAL', `capacity ${String(capacity)}`);
  }
  t.equal(store.has('cap#s'), false, 'no meta left by a refused capacity');
  t.equal(store.has('cap#0'), false, 'no cell either');
  for (const claimTimeout of [-1, Number.NaN, Infinity, '100', null]) {
    throwsCode(t, () => store.stream('ct', { capacity: 2, claimTimeout: claimTimeout as number }), 'EINVAL', `claimTimeout ${String(claimTimeout)}`);
  }
  throwsCode(t, () => store.stream('opt', { capacity: 2, size: 3 } as never), 'EINVAL', 'an unknown option');
  throwsCode(t, () => store.stream('opt', 'big' as never), 'EINVAL', 'options that are not an object');

  const log = store.stream('log', { capacity: 4 });
  log.append('one');
  log.append('two');
  for (const seq of [0, -1, 1.5, Number.NaN, 0n, -3n, 2n ** 53n, 2 ** 53, '1', null, undefined]) {
    throwsCode(t, () => log.read(seq as number), 'EINVAL', `read(${String(seq)})`);
  }
  t.equal(log.read(2n ** 53n - 1n), undefined, 'the largest seq is accepted (not published)');
  for (const from of [0, -1, 1.5, 0n, 'first', 'newest', true, {}]) {
    throwsCode(t, () => log.subscribe({ from: from as number }), 'EINVAL', `subscribe({ from: ${String(from)} })`);
  }
  throwsCode(t, () => log.subscribe(null as never), 'EINVAL', 'subscribe(null)');
  for (const [what, fn] of [
    ['a number', () => log.append(42 as never)],
    ['null', () => log.append(null as never)],
    ['an array of numbers', () => log.append([1, 2] as never)],
    ["type 'xml'", () => log.append('x', { type: 'xml' as never })],
    ["type 'BINARY'", () => log.append(new Uint8Array(1), { type: 'BINARY' as never })],
    ['appendJSON(undefined)', () => log.appendJSON(undefined)],
    ['appendJSON of a function', () => log.appendJSON(() => 1)],
    ['appendJSON of a bigint', () => log.appendJSON(10n)],
    ['appendJSON of a cycle', () => {
      const cycle: Record<string, unknown> = {};
      cycle['self'] = cycle;
      return log.appendJSON(cycle);
    }],
  ] as Array<[string, () => unknown]>) {
    throwsCode(t, fn, 'EINVAL', `append of ${what}`);
  }
  t.equal(log.head(), 2n, 'no refused append claimed a seq');
  for (const id of ['', 'nul\0', 'x'.repeat(100), 7, undefined]) {
    throwsCode(t, () => log.consumer(id as string), 'EINVAL', `consumer id ${JSON.stringify(String(id))}`);
  }
  const consumer = log.consumer('c');
  for (const seq of [0, -1, 1.5, 'x', 3, 3n, 100]) {
    throwsCode(t, () => consumer.ack(seq as number), 'EINVAL', `ack(${String(seq)}) (the head is 2)`);
  }
  t.equal(consumer.acknowledged(), 0n, 'nothing acknowledged by the refused acks');
});

t.test('opening an existing stream with another capacity is EINVAL', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4 });
  log.append('kept');
  throwsCode(t, () => store.stream('log', { capacity: 8 }), 'EINVAL', 'capacity 8 asked of a stream of 4');
  throwsCode(t, () => store.stream('log', { capacity: 2 }), 'EINVAL', 'capacity 2 asked of a stream of 4');
  t.equal(store.has('log#4'), false, 'no cell added for the capacity asked');
  t.equal(log.head(), 1n, 'the stream is untouched');
  t.same(log.read(1), message(1, 'text', 'kept'));
});

t.test('a stream that does not fit is ENOSPC and leaves no meta; a consumer id fills the key to 63 bytes', async (t) => {
  const store = shared(t, { slots: 16, maxValueSize: 64 });
  for (const key of ['a', 'b', 'c']) store.set(key, key);
  throwsCode(t, () => store.stream('big', { capacity: 14 }), 'ENOSPC', '14 cells and a meta in 13 free slots');
  t.equal(store.has('big#s'), false, 'no meta: nobody opens a stream made in part');
  t.same(['a', 'b', 'c'].map((key) => store.getString(key)), ['a', 'b', 'c'], 'the other keys are untouched');

  const roomy = shared(t);
  const name = 'n'.repeat(40);
  const log = roomy.stream(name, { capacity: 2 });
  log.append('x');
  const longest = 'i'.repeat(63 - `${name}#c.`.length);
  log.consumer(longest).ack(1);
  t.equal(roomy.getBigUint(`${name}#c.${longest}`), 1n, `an id of ${longest.length} bytes makes a key of 63`);
  throwsCode(t, () => log.consumer(`${longest}i`), 'EINVAL', 'one byte more');
});

t.test('a key that is not a stream meta is ECORRUPT', async (t) => {
  const store = shared(t);
  store.set('text#s', 'hello');
  throwsCode(t, () => store.stream('text'), 'ECORRUPT', 'a text value under NAME#s');
  throwsCode(t, () => store.stream('text', { capacity: 4 }), 'ECORRUPT', 'with a capacity asked too');
  t.equal(store.getString('text#s'), 'hello', 'the key is left as it was');
  t.equal(store.has('text#0'), false, 'and no cells were made');
  const meta = (magic: string, capacity: bigint, length = 32): Uint8Array => {
    const bytes = new Uint8Array(length);
    bytes.set(enc.encode(magic).subarray(0, length));
    if (length >= 16) new DataView(bytes.buffer).setBigUint64(8, capacity, true);
    return bytes;
  };
  const cases: Array<[string, Uint8Array]> = [
    ['another magic', meta('SPLSTRM2', 4n)],
    ['capacity 0', meta('SPLSTRM1', 0n)],
    ['a capacity of as many cells as the store has slots', meta('SPLSTRM1', 64n)],
    ['a capacity of 2^64 − 1', meta('SPLSTRM1', 2n ** 64n - 1n)],
    ['31 bytes', meta('SPLSTRM1', 4n, 31)],
    ['33 bytes', meta('SPLSTRM1', 4n, 33)],
    ['the magic alone', enc.encode('SPLSTRM1')],
  ];
  for (const [what, bytes] of cases) {
    store.set('bad#s', bytes);
    throwsCode(t, () => store.stream('bad'), 'ECORRUPT', what);
  }
});

t.test('the keys a stream is made of, and their bytes, follow the convention', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 3 });
  const keys = store.keys().map(String).sort();
  t.same(keys, ['log#0', 'log#1', 'log#2', 'log#s'], 'NAME#s and NAME#0..capacity−1, nothing else');
  const metaSlot = store.slotSnapshot('log#s')!;
  t.equal(metaSlot.typeFlag, SlotType.BINARY, 'the meta is BINARY');
  const meta = store.get('log#s')!;
  t.equal(meta.length, 32, 'the meta is 32 bytes');
  t.equal(new TextDecoder().decode(meta.subarray(0, 8)), 'SPLSTRM1', 'magic');
  const view = new DataView(meta.buffer, meta.byteOffset);
  t.equal(view.getBigUint64(8, true), 3n, 'capacity, u64 LE at byte 8');
  t.equal(headByte(store, 'log') - (HEADER.size + 64 * SLOT_SIZE + metaSlot.valueOffset), 16, 'the head counter: the 8-aligned u64 at value byte 16');
  t.equal(view.getBigUint64(16, true), 0n, 'head counter 0 at byte 16 (maxValueSize 64: the value is 8-aligned)');
  for (let i = 0; i < 3; i++) {
    const cell = store.slotSnapshot(`log#${i}`)!;
    t.same({ ctime: cell.ctime, type: cell.typeFlag }, { ctime: 0n, type: SlotType.VOID }, `cell ${i} before any write: ctime 0`);
  }
  log.append('a');
  log.append(new Uint8Array([7, 8]));
  log.appendJSON([1]);
  log.append('d');
  const headNow = store.get('log#s')!;
  t.equal(new DataView(headNow.buffer, headNow.byteOffset).getBigUint64(16, true), 4n, 'the head counter holds the last seq claimed');
  t.equal(toHex(headNow.subarray(0, 16)), toHex(meta.subarray(0, 16)), 'magic and capacity unchanged');
  const cells = [0, 1, 2].map((i) => {
    const cell = store.slotSnapshot(`log#${i}`)!;
    return { ctime: cell.ctime, type: cell.typeFlag, value: toHex(store.get(`log#${i}`)!) };
  });
  t.same(cells, [
    { ctime: 3n, type: SlotType.JSON, value: toHex(enc.encode('[1]')) },
    { ctime: 4n, type: SlotType.VARTEXT, value: toHex(enc.encode('d')) },
    { ctime: 2n, type: SlotType.BINARY, value: '0708' },
  ], 'seq s in cell s mod capacity: ctime = s, the type and the value');
  log.consumer('worker-1').ack(3);
  const ackKey = store.slotSnapshot('log#c.worker-1')!;
  t.equal(ackKey.typeFlag, SlotType.BIGUINT, 'a durable consumer: NAME#c.<id>, BIGUINT');
  t.equal(toHex(store.get('log#c.worker-1')!), '0300000000000000', 'its acknowledged seq, u64 LE');
  t.equal(store.keys().length, 5, 'no other key');
});

t.test('a head counter moved by another producer is what append claims from', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4 });
  const words = new BigUint64Array(store.buffer!);
  t.equal(headByte(store, 'log') % 8, 0);
  Atomics.store(words, headByte(store, 'log') / 8, 41n);
  t.equal(log.head(), 41n, 'head() reads the counter in the meta value');
  t.equal(log.oldest(), 38n);
  // Seq 42 lives in cell 2, whose previous lap (38) was never written: it waits for it, so
  // declare 38 published first by writing its ctime, as the producer of that lap would have.
  store.setSlotTime('log#2', 'ctime', 38n);
  t.equal(store.stream('log', { claimTimeout: 60_000 }).append('forty-two'), 42n);
  t.same(log.read(42), message(42, 'text', 'forty-two'));
});

t.test('subscribe from earliest, latest or a seq; in order; waits for later appends', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4 });
  for (const word of ['1', '2', '3', '4', '5', '6']) log.append(word);
  const earliest = log.subscribe();
  const latest = log.subscribe({ from: 'latest' });
  const fromFive = log.subscribe({ from: 5n });
  const fromNumber = log.subscribe({ from: 4 });
  const explicit = log.subscribe({ from: 'earliest' });
  t.same(kinds(await take(earliest, 4)), ['message 3', 'message 4', 'message 5', 'message 6'], 'earliest: the oldest kept, then on');
  t.same(kinds(await take(explicit, 4)), ['message 3', 'message 4', 'message 5', 'message 6'], "'earliest' named");
  t.same(kinds(await take(fromFive, 2)), ['message 5', 'message 6'], 'from seq 5n');
  t.same(kinds(await take(fromNumber, 3)), ['message 4', 'message 5', 'message 6'], 'from seq 4');
  const waiting = [earliest.next(), latest.next(), fromFive.next(), fromNumber.next(), explicit.next()];
  t.ok(await stillPending(Promise.race(waiting), 200), 'caught up: every subscription waits');
  setTimeout(() => log.append('seven'), 50);
  const sevens = await within(Promise.all(waiting), 'seq 7 to every subscription');
  for (const next of sevens) t.same(next, { value: message(7, 'text', 'seven'), done: false });
  const later = Promise.all([take(earliest, 3), take(latest, 3)]);
  setTimeout(() => {
    log.append('eight');
    setTimeout(() => {
      log.append('nine');
      log.append('ten');
    }, 30);
  }, 30);
  const [a, b] = await later;
  t.same(kinds(a), ['message 8', 'message 9', 'message 10'], 'later appends in order');
  t.same(kinds(b), ['message 8', 'message 9', 'message 10'], 'latest: only what came after it subscribed');
  const future = log.subscribe({ from: 12 });
  const twelve = future.next();
  log.append('eleven');
  t.ok(await stillPending(twelve, 100), 'from a seq not appended yet: waits for it, skipping nothing before it');
  log.append('twelve');
  t.same((await within(twelve, 'seq 12')).value, message(12, 'text', 'twelve'));
  for (const events of [earliest, latest, fromFive, fromNumber, explicit, future]) await events.return!();
});

t.test('a subscriber more than capacity behind gets exactly the gap it lost, then the oldest kept message', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4 });
  log.append('1');
  log.append('2');
  const events = log.subscribe({ from: 1 });
  t.same(kinds(await take(events, 2)), ['message 1', 'message 2']);
  for (let seq = 3; seq <= 23; seq++) log.append(String(seq));
  t.same((await take(events, 5)).map(plain), [gap(3, 19, 'overwritten'), message(20, 'text', '20'), message(21, 'text', '21'), message(22, 'text', '22'), message(23, 'text', '23')], 'seqs 3..19 lost as one gap, then 20..23');
  const old = log.subscribe({ from: 2 });
  t.same(plain((await take(old, 1))[0]!), gap(2, 19, 'overwritten'), 'subscribing from a seq overwritten: the gap first');
  t.same(kinds(await take(old, 1)), ['message 20']);
  // A long way behind: the gap comes in bounded runs that add up to exactly the lost seqs.
  const far = log.subscribe({ from: 1 });
  for (let seq = 24; seq <= 200; seq++) log.append(String(seq));
  let next = 1n;
  for (;;) {
    const [event] = await take(far, 1);
    if (event!.kind === 'message') {
      t.equal(event!.seq, 197n, 'the first message after the gaps is the oldest kept');
      t.equal(next, 197n, 'the gaps covered every lost seq, each once');
      break;
    }
    t.equal(event!.kind, 'gap');
    if (event!.kind !== 'gap') break;
    t.equal(event!.from, next, 'each gap starts where the last one ended');
    t.equal(event!.reason, 'overwritten');
    next = event!.to + 1n;
  }
  for (const it of [events, old, far]) await it.return!();
});

t.test('a seq claimed and never written is declared abandoned after claimTimeout; the subscriber goes on', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4, claimTimeout: 100 });
  log.append('one');
  t.equal(claimByHand(store, 'log'), 2n, 'seq 2 claimed by a producer that dies');
  log.append('three');
  const events = log.subscribe({ from: 1 });
  const started = performance.now();
  const got = await take(events, 3);
  const waited = performance.now() - started;
  t.same(got.map(plain), [message(1, 'text', 'one'), gap(2, 2, 'abandoned'), message(3, 'text', 'three')]);
  t.ok(waited >= 90, `the subscriber waited the claim timeout first (${Math.round(waited)} ms)`);
  const cell = store.slotSnapshot('log#2')!;
  t.same({ ctime: cell.ctime, type: cell.typeFlag }, { ctime: 2n, type: SlotType.VOID }, 'the cell now says: seq 2 abandoned (VOID, ctime 2)');
  t.same(log.read(2), gap(2, 2, 'abandoned'), 'read says so too');
  t.same(kinds(await take(log.subscribe({ from: 2 }), 1)), ['gap 2-2 abandoned'], 'a later subscriber gets the gap at once');

  // The last seq claimed, with nothing after it: no write wakes the subscriber; it declares it anyway.
  t.equal(claimByHand(store, 'log'), 4n);
  t.equal(claimByHand(store, 'log'), 5n);
  // Each claimed seq gets its own claim timeout (its producer may be alive): one gap each.
  t.same((await take(events, 2)).map(plain), [gap(4, 4, 'abandoned'), gap(5, 5, 'abandoned')], 'two claimed at the end, never written: both abandoned');
  const patient = store.stream('log', { claimTimeout: 60_000 }).subscribe({ from: 'latest' });
  const six = patient.next();
  log.append('six');
  t.same((await within(six, 'seq 6')).value, message(6, 'text', 'six'), 'and the stream goes on');
  t.same((await take(events, 1)).map(plain), [message(6, 'text', 'six')]);
  await events.return!();
});

t.test('a subscriber with a long claimTimeout keeps waiting for a claimed seq', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4, claimTimeout: 60_000 });
  claimByHand(store, 'log');
  log.append('two');
  const events = log.subscribe({ from: 1 });
  const first = events.next();
  t.ok(await stillPending(first, 400), 'seq 1 is claimed, not published: it waits (no skipping to 2)');
  // The slow producer publishes after all, as C does: ctime flagged, value, type, ctime.
  store.setSlotTime('log#1', 'ctime', 1n | WRITING);
  store.set('log#1', 'late');
  store.setNamedType('log#1', SlotType.VARTEXT);
  store.setSlotTime('log#1', 'ctime', 1n);
  t.same((await within(first, 'seq 1')).value, message(1, 'text', 'late'));
  t.same(kinds(await take(events, 1)), ['message 2']);
  await events.return!();
});

t.test('a producer whose seq was declared abandoned before it wrote gets ETIMEDOUT', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4 });
  log.append('one');
  // Seq 2 declared abandoned ahead of its producer, as a subscriber would after the timeout.
  store.setNamedType('log#2', SlotType.VOID);
  store.setSlotTime('log#2', 'ctime', 2n);
  throwsCode(t, () => log.append('two, too late'), 'ETIMEDOUT', 'the append of seq 2');
  t.equal(log.head(), 2n, 'seq 2 stays claimed');
  t.same(log.read(2), gap(2, 2, 'abandoned'), 'and abandoned: its message was not written');
  t.equal(log.append('three'), 3n, 'the next append goes on');
  t.same(kinds(await take(log.subscribe({ from: 1 }), 3)), ['message 1', 'gap 2-2 abandoned', 'message 3']);
});

t.test("a producer waiting on a previous lap never published declares it abandoned and writes", async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 2, claimTimeout: 100 });
  t.equal(claimByHand(store, 'log'), 1n, 'seq 1 claimed, never written');
  t.equal(log.append('two'), 2n);
  const started = performance.now();
  t.equal(log.append('three'), 3n, "seq 3 (seq 1's cell) is written after all");
  t.ok(performance.now() - started >= 90, 'after the claim timeout');
  t.same(log.read(3), message(3, 'text', 'three'));
  t.same(log.read(1), gap(1, 1, 'overwritten'), 'seq 1 is gone');
});

t.test('malformed cells from a C-like writer are reported in order, never thrown, never skipped', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 8 });
  log.append('first');
  const cWrite = (value: Uint8Array, type: number): bigint => {
    const seq = claimByHand(store, 'log');
    const key = `log#${seq % 8n}`;
    store.setSlotTime(key, 'ctime', seq | WRITING);
    store.set(key, value);
    store.setNamedType(key, type);
    store.setSlotTime(key, 'ctime', seq);
    return seq;
  };
  const u64 = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
  t.equal(cWrite(u64, SlotType.BIGUINT), 2n);
  cWrite(enc.encode('{"not json'), SlotType.JSON);
  cWrite(new Uint8Array([0x61, 0xff, 0xfe]), SlotType.VARTEXT);
  cWrite(new Uint8Array([0xc3]), SlotType.JSON);
  log.append('last');
  const events = await take(log.subscribe({ from: 1 }), 6);
  t.same(events.map(plain), [
    message(1, 'text', 'first'),
    { kind: 'malformed', seq: 2n, slotType: SlotType.BIGUINT, bytes: [...u64], reason: 'string' },
    { kind: 'malformed', seq: 3n, slotType: SlotType.JSON, bytes: [...enc.encode('{"not json')], reason: 'string' },
    { kind: 'malformed', seq: 4n, slotType: SlotType.VARTEXT, bytes: [0x61, 0xff, 0xfe], reason: 'string' },
    { kind: 'malformed', seq: 5n, slotType: SlotType.JSON, bytes: [0xc3], reason: 'string' },
    message(6, 'text', 'last'),
  ]);
  for (const event of events) if (event.kind === 'malformed') t.ok(event.reason.length > 0, `seq ${event.seq}: ${event.reason}`);
  t.same(plain(log.read(3)!), plain(events[2]!), 'read reports the same');
});

t.test('a published cell whose value length or offset lies outside the store is malformed, never followed', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 8 });
  for (const word of ['one', 'two', 'three', 'four']) log.append(word);
  const words = new Uint32Array(store.buffer!);
  const field = (key: string, at: number): number => (HEADER.size + store.slotSnapshot(key)!.index * SLOT_SIZE + at) / 4;
  // Hostile bytes, as any process may write them: the fields alone, the epoch left as it is.
  words[field('log#2', SLOT.val_len)] = 1_000_000;
  words[field('log#3', SLOT.val_off)] = 0xffff_fff0;
  words[field('log#4', SLOT.val_len)] = 0;
  const events = await take(log.subscribe({ from: 1 }), 4);
  t.same(kinds(events), ['message 1', 'malformed 2', 'malformed 3', 'malformed 4'], 'each reported at its seq, in order');
  for (const event of events.slice(1)) {
    t.ok(event.kind === 'malformed' && event.bytes.length === 0 && event.slotType === SlotType.VARTEXT, `seq ${String(event.kind === 'malformed' && event.seq)}: no bytes, the slot type found`);
  }
  t.equal(log.read(2)?.kind, 'malformed', 'read says so too');
  t.equal(log.append('five'), 5n, 'the stream goes on');
});

t.test('a stream of capacity 1, and a store whose values are not 8-aligned', async (t) => {
  const store = shared(t, { slots: 16, maxValueSize: 61 });
  const one = store.stream('one', { capacity: 1 });
  for (const word of ['a', 'b', 'c']) one.append(word);
  t.same((await take(one.subscribe({ from: 1 }), 2)).map(plain), [gap(1, 2, 'overwritten'), message(3, 'text', 'c')], 'each append takes the only cell');
  const names = ['n0', 'n1', 'n2', 'n3', 'n4'];
  const offsets = new Set<number>();
  for (const name of names) {
    const log = store.stream(name, { capacity: 1 });
    log.append('x');
    log.append('y');
    const valueAt = HEADER.size + store.slots * SLOT_SIZE + store.slotSnapshot(`${name}#s`)!.valueOffset;
    const at = headByte(store, name) - valueAt;
    offsets.add(at);
    const meta = store.get(`${name}#s`)!;
    t.equal(new DataView(meta.buffer, meta.byteOffset).getBigUint64(at, true), 2n, `${name}: the head counter is the u64 at value byte ${at}, the first 8-aligned address from byte 16`);
    t.equal(log.head(), 2n);
  }
  t.ok([...offsets].some((at) => at !== 16), `values at offsets that are not 8-aligned move the counter (value bytes ${[...offsets].join(', ')})`);
});

t.test('bytes handed out keep their contents while later messages are read', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 32 });
  const events = log.subscribe({ from: 1 });
  const kept: Array<{ seq: bigint; value: Uint8Array }> = [];
  const expected = (seq: number): number[] => Array.from({ length: 8 + (seq % 57) }, (_, j) => (seq * 7 + j) & 0xff);
  // 3000 messages of up to 64 bytes: more than one 64 KiB slab of copies.
  for (let seq = 1; seq <= 3000; seq++) {
    log.append(new Uint8Array(expected(seq)));
    const [event] = await take(events, 1);
    if (event!.kind === 'message' && event!.value instanceof Uint8Array) kept.push({ seq: event!.seq, value: event!.value });
  }
  t.equal(kept.length, 3000, 'every message came as bytes');
  const changed = kept.filter(({ seq, value }) => [...value].join() !== expected(Number(seq)).join()).length;
  t.equal(changed, 0, 'none of the arrays handed out changed');
  kept[0]!.value.fill(0);
  t.same(plain(log.read(3000)!), message(3000, 'bytes', expected(3000)), 'writing into one changes no other');
  await events.return!();
});

t.test('lowLatency subscriptions get the same messages', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 16 });
  const events = log.subscribe({ from: 'latest', lowLatency: true });
  const first = events.next();
  setTimeout(() => {
    log.append('a');
    log.append('b');
  }, 50);
  t.same((await within(first, 'seq 1')).value, message(1, 'text', 'a'));
  t.same(kinds(await take(events, 1)), ['message 2']);
  await events.return!();
});

t.test('durable consumer: ack, acknowledged, subscribe resumes after the ack', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 8 });
  for (let i = 1; i <= 5; i++) log.append(`m${i}`);
  const consumer = log.consumer('reader');
  t.equal(consumer.id, 'reader');
  t.equal(consumer.acknowledged(), 0n, 'nothing acknowledged yet');
  t.equal(store.has('log#c.reader'), false, 'no key until the first ack');
  t.same(kinds(await take(consumer.subscribe(), 2)), ['message 1', 'message 2'], 'a new consumer starts at seq 1');
  consumer.ack(3n);
  t.equal(consumer.acknowledged(), 3n);
  consumer.ack(2);
  t.equal(consumer.acknowledged(), 3n, 'an earlier seq changes nothing');
  t.equal(log.consumer('reader').acknowledged(), 3n, 'another handle of the consumer sees it');
  t.equal(log.consumer('other').acknowledged(), 0n, 'another consumer has its own');
  const resumed = consumer.subscribe();
  t.same(kinds(await take(resumed, 2)), ['message 4', 'message 5'], 'resumes at ack + 1');
  const next = resumed.next();
  log.append('m6');
  t.same((await within(next, 'seq 6')).value, message(6, 'text', 'm6'));
  consumer.ack(6);
  for (let i = 7; i <= 20; i++) log.append(`m${i}`);
  t.same(kinds(await take(consumer.subscribe(), 2)), ['gap 7-12 overwritten', 'message 13'], 'acknowledged seqs overwritten meanwhile: a gap first');
  store.set('log#c.broken', 'text');
  throwsCode(t, () => log.consumer('broken').acknowledged(), 'EPROTOTYPE', 'a consumer key holding something else');
  await resumed.return!();
});

t.test('closing the store ends a waiting subscription; return() ends it too', async (t) => {
  const store = Store.createShared(geometry);
  const log = store.stream('log', { capacity: 4 });
  log.append('one');
  const events = log.subscribe();
  t.same(kinds(await take(events, 1)), ['message 1']);
  const pending = events.next();
  const second = log.subscribe({ from: 'latest' });
  const pendingToo = second.next();
  t.ok(await stillPending(pending, 100), 'caught up: waiting');
  store.close();
  t.same(await within(pending, 'the end after close'), { value: undefined, done: true }, 'close ends the iteration');
  t.same(await within(pendingToo, 'the end after close'), { value: undefined, done: true });
  t.same(await events.next(), { value: undefined, done: true }, 'and it stays over');
  throwsCode(t, () => log.append('x'), 'ECLOSED', 'append on a closed store');
  throwsCode(t, () => log.subscribe(), 'ECLOSED', 'subscribe on a closed store');

  const other = shared(t);
  const again = other.stream('log', { capacity: 4 });
  const it = again.subscribe();
  const waiting = it.next();
  await it.return!();
  t.same(await within(waiting, 'the end after return'), { value: undefined, done: true }, 'return() ends a waiting next()');
  again.append('after');
  t.same(await it.next(), { value: undefined, done: true }, 'nothing more after return()');
});

t.test('abort: the waiting next() rejects with an AbortError, then the iteration is over', async (t) => {
  const store = shared(t);
  const log = store.stream('log', { capacity: 4 });
  const controller = new AbortController();
  const events = log.subscribe({ signal: controller.signal });
  const pending = events.next();
  setTimeout(() => controller.abort(), 30);
  await t.rejects(within(pending, 'the abort'), { name: 'AbortError' });
  log.append('after');
  t.same(await events.next(), { value: undefined, done: true }, 'over after the abort');
  const early = new AbortController();
  const notWaiting = log.subscribe({ signal: early.signal });
  early.abort();
  await t.rejects(notWaiting.next(), { name: 'AbortError' }, 'aborted between pulls: the next next() rejects');
  t.throws(() => log.subscribe({ signal: AbortSignal.abort() }), { name: 'AbortError' }, 'an aborted signal: subscribe throws');
});

for (const how of ['unlinked', 'replaced'] as const) {
  t.test(`a store ${how} while a subscription waits: next() rejects with ESTALE`, async (t) => {
    const { store, name } = shm(t);
    const log = store.stream('log', { capacity: 4 });
    log.append('one');
    const events = log.subscribe({ from: 'latest' });
    const pending = events.next();
    t.ok(await stillPending(pending, 100), 'waiting');
    const started = performance.now();
    Store.unlink(name);
    if (how === 'replaced') t.teardown(((fresh) => () => fresh.close())(Store.create(name, geometry)));
    const code = await within(
      pending.then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      ),
      'ESTALE',
      10_000,
    );
    t.equal(code, 'ESTALE');
    t.comment(`ESTALE after ${Math.round(performance.now() - started)} ms (the name is looked at every 250 ms)`);
    t.same(await events.next(), { value: undefined, done: true }, 'over after the error');
  });
}
