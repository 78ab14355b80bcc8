/**
 * Streams from C (issue #22): the C peer produces and consumes a stream with libsplinter's own
 * calls and one atomic add on the head counter (test/peer/README.md, "Streams"). Streams are laid
 * out by hand here through the Store API, as the convention describes them, and checked byte by
 * byte; then C processes produce and consume against each other.
 */
import t from 'tap';
import { SlotType, Store } from '../../src/index.js';
import { HEADER, SLOT_SIZE } from '../../src/layout/constants.js';
import type { Test } from '../helpers/assert.js';
import { shmName, toHex } from '../helpers/fixtures.js';
import { Peer, type PeerAnswer } from '../helpers/peer.js';
import { tortureValue } from '../helpers/torture-value.js';

const WRITING = 1n << 63n;
/** Claim timeout for producers on a loaded machine: a lap written by a descheduled process may take a while. */
const SLOW_CLAIM_MS = 20_000;

interface Fixture {
  target: string;
  store: Store;
  /** The peer that created the store (it keeps serving commands). */
  peer: Peer;
}

/** A store created by the C peer, opened by us too; both closed and the store removed at teardown. */
async function peerStore(t: Test, slots: number, maxValueSize: number): Promise<Fixture> {
  const target = shmName(t, 'stream');
  const peer = Peer.create(target, slots, maxValueSize);
  t.teardown(() => peer.close());
  await peer.ready;
  const store = Store.open(target);
  t.teardown(() => store.close());
  return { target, store, peer };
}

async function openPeer(t: Test, target: string): Promise<Peer> {
  const peer = Peer.open(target);
  t.teardown(() => peer.close());
  await peer.ready;
  return peer;
}

/** Where the head counter sits in the meta value: the first 8-aligned store address at or after value byte 16. */
function headOffset(store: Store, name: string): number {
  const valueAt = HEADER.size + store.slots * SLOT_SIZE + store.slotSnapshot(`${name}#s`)!.valueOffset;
  return Math.ceil((valueAt + 16) / 8) * 8 - valueAt;
}

/** Lays a stream out by hand: the meta key (magic, capacity, head), and every cell 1 byte, ctime 0, type VOID. */
function layOut(t: Test, store: Store, name: string, capacity: number, head = 0n): void {
  const meta = new Uint8Array(32);
  meta.set(new TextEncoder().encode('SPLSTRM1'));
  const view = new DataView(meta.buffer);
  view.setBigUint64(8, BigInt(capacity), true);
  store.set(`${name}#s`, meta);
  store.setNamedType(`${name}#s`, SlotType.BINARY);
  if (head !== 0n) {
    view.setBigUint64(headOffset(store, name), head, true); // the slot stays where it is: same address
    store.set(`${name}#s`, meta);
  }
  for (let i = 0; i < capacity; i++) {
    store.set(`${name}#${i}`, new Uint8Array([0]));
    store.setSlotTime(`${name}#${i}`, 'ctime', 0n);
  }
  const cell = store.slotSnapshot(`${name}#0`)!;
  t.equal(cell.typeFlag, SlotType.VOID, 'precondition: a fresh cell is VOID');
}

/** The head counter read from the meta value's bytes. */
function headOf(store: Store, name: string): bigint {
  const bytes = store.get(`${name}#s`)!;
  return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(headOffset(store, name), true);
}

function cell(store: Store, name: string, capacity: number, seq: number): { ctime: bigint; type: number; value: string } {
  const key = `${name}#${seq % capacity}`;
  const snap = store.slotSnapshot(key)!;
  return { ctime: snap.ctime, type: snap.typeFlag, value: toHex(store.get(key)!) };
}

const hex = (text: string): string => Buffer.from(text).toString('hex');

function rangesTotal(ranges: unknown): number {
  let total = 0;
  let last = 0n;
  for (const [from, to] of ranges as [string, string][]) {
    if (BigInt(from) <= last || BigInt(to) < BigInt(from)) throw new Error(`lost ranges out of order: ${JSON.stringify(ranges)}`);
    total += Number(BigInt(to) - BigInt(from)) + 1;
    last = BigInt(to);
  }
  return total;
}

t.test('a C producer appends: the head counter advances and each cell holds its seq, type and value', async (t) => {
  const { store, peer } = await peerStore(t, 64, 64);
  layOut(t, store, 'log', 4);
  t.equal(headOffset(store, 'log'), 16, 'max value size 64: the counter is at value byte 16');

  const sent = [
    { value_hex: hex('first'), type: undefined, expect: SlotType.BINARY },
    { value_hex: hex('second, as text'), type: 128, expect: SlotType.VARTEXT },
    { value_hex: hex('{"third":3}'), type: 8, expect: SlotType.JSON },
  ];
  for (const [i, m] of sent.entries()) {
    const answer = await peer.send({ op: 'stream_append', name: 'log', value_hex: m.value_hex, type: m.type });
    t.same(answer, { rc: 0, seq: String(i + 1) }, `append ${i + 1}`);
  }
  t.equal(headOf(store, 'log'), 3n, 'the head counter in the meta value is the last seq claimed');
  t.same(await peer.send({ op: 'stream_head', name: 'log' }), { rc: 0, head: '3', capacity: '4' });
  for (const [i, m] of sent.entries()) {
    t.same(cell(store, 'log', 4, i + 1), { ctime: BigInt(i + 1), type: m.expect, value: m.value_hex }, `cell of seq ${i + 1}`);
  }
  t.same(cell(store, 'log', 4, 4), { ctime: 0n, type: SlotType.VOID, value: '00' }, 'the unwritten cell is untouched');

  for (const word of ['four', 'five', 'six']) {
    const answer = await peer.send({ op: 'stream_append', name: 'log', value_hex: hex(word) });
    t.equal(answer.rc, 0, `append ${word}`);
  }
  t.same(cell(store, 'log', 4, 5), { ctime: 5n, type: SlotType.BINARY, value: hex('five') }, 'seq 5 took the cell of seq 1');
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 1 }), { rc: 0, state: 'lost', holds: '5' });
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 3 }), { rc: 0, state: 'message', value_hex: hex('{"third":3}'), type: 8 });
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 6 }), { rc: 0, state: 'message', value_hex: hex('six'), type: 16 });
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 7 }), { rc: 0, state: 'pending' });

  // Refused before claiming: the head does not move.
  t.match(await peer.send({ op: 'stream_append', name: 'log', value_hex: '' }), { rc: -1, errno: 'EINVAL' }, 'empty value');
  t.match(await peer.send({ op: 'stream_append', name: 'log', value_hex: '00'.repeat(65) }), { rc: -1, errno: 'EMSGSIZE' }, 'value over max_val_sz');
  t.match(await peer.send({ op: 'stream_append', name: 'log', value_hex: '00', type: 4 }), { rc: -2, errno: 'EINVAL' }, 'type BIGUINT');
  t.match(await peer.send({ op: 'stream_append', name: 'lo#g', value_hex: '00' }), { rc: -2, errno: 'EINVAL' }, "name with '#'");
  t.match(await peer.send({ op: 'stream_append', name: 'x'.repeat(41), value_hex: '00' }), { rc: -2, errno: 'EINVAL' }, 'name of 41 bytes');
  t.match(await peer.send({ op: 'stream_append', name: 'nothing', value_hex: '00' }), { rc: -1, errno: 'ENOENT' }, 'no such stream');
  t.equal(headOf(store, 'log'), 6n, 'no refused append claimed a seq');
});

t.test('a meta key that is not a stream is refused, not trusted', async (t) => {
  const { store, peer } = await peerStore(t, 16, 64);
  const meta = new Uint8Array(32);
  meta.set(new TextEncoder().encode('SPLSTRM2'));
  meta[8] = 4;
  store.set('wrong#s', meta);
  meta.set(new TextEncoder().encode('SPLSTRM1'));
  meta[8] = 0;
  store.set('empty#s', meta);
  store.set('short#s', meta.subarray(0, 16));
  for (const name of ['wrong', 'empty', 'short']) {
    const before = toHex(store.get(`${name}#s`)!);
    for (const op of [
      { op: 'stream_append', name, value_hex: '00' },
      { op: 'stream_read', name, seq: 1 },
      { op: 'stream_head', name },
    ]) {
      t.match(await peer.send(op), { rc: -1, errno: 'EINVAL', error: /meta key/ }, `${op.op} on ${name}`);
    }
    t.equal(toHex(store.get(`${name}#s`)!), before, `${name}: the meta value is left as it was`);
  }
});

t.test('the head counter is at the first 8-aligned address after value byte 16 wherever the value sits', async (t) => {
  const { store, peer } = await peerStore(t, 64, 60);
  // With max value size 60 a value starts 4 bytes past an 8-aligned address in every odd slot.
  let name = '';
  for (let i = 0; name === ''; i++) {
    const candidate = `odd${i}`;
    store.set(`${candidate}#s`, new Uint8Array(32));
    if (store.slotSnapshot(`${candidate}#s`)!.index % 2 === 1) name = candidate;
    store.unset(`${candidate}#s`);
  }
  layOut(t, store, name, 4);
  t.equal(headOffset(store, name), 20, 'the counter is at value byte 20');
  for (let i = 1; i <= 2; i++) t.equal((await peer.send({ op: 'stream_append', name, value_hex: '01' })).rc, 0);
  const meta = store.get(`${name}#s`)!;
  const view = new DataView(meta.buffer, meta.byteOffset);
  t.equal(view.getBigUint64(20, true), 2n, 'the C producer counted at value byte 20');
  t.equal(toHex(meta.subarray(16, 20)) + toHex(meta.subarray(28, 32)), '0'.repeat(16), 'the bytes around it are untouched');
  t.same(await peer.send({ op: 'stream_head', name }), { rc: 0, head: '2', capacity: '4' });
});

t.test('two C producers at once: the seqs are dense and unique, and a third C process consumes every payload once', async (t) => {
  const N = 1500;
  const { target, store, peer: consumer } = await peerStore(t, 4096, 64);
  layOut(t, store, 'pairs', 2 * N); // room for every message: nothing is overwritten
  const [a, b] = [await openPeer(t, target), await openPeer(t, target)];
  const [ra, rb, rc] = await Promise.all([
    a.send({ op: 'stream_produce', name: 'pairs', first: 1_000_000, count: N, claim_timeout_ms: SLOW_CLAIM_MS }),
    b.send({ op: 'stream_produce', name: 'pairs', first: 2_000_000, count: N, claim_timeout_ms: SLOW_CLAIM_MS }),
    consumer.send({ op: 'stream_consume', name: 'pairs', from: 1, count: 2 * N, timeout_ms: 60_000, ack_id: 'all', ack_every: 100 }),
  ]);
  let sum = 0n;
  let xor = 0n;
  for (let i = 0; i < N; i++) {
    for (const p of [BigInt(1_000_000 + i), BigInt(2_000_000 + i)]) {
      sum += p;
      xor ^= p;
    }
  }
  t.match(ra, { rc: 0, appended: N, timeouts: 0 }, 'producer A');
  t.match(rb, { rc: 0, appended: N, timeouts: 0 }, 'producer B');
  const seqs = [ra, rb].map((r) => [BigInt(r['first_seq'] as string), BigInt(r['last_seq'] as string)]);
  t.equal(seqs[0]![0]! < seqs[1]![0]! ? seqs[0]![0] : seqs[1]![0], 1n, 'the first seq is 1');
  t.equal(seqs[0]![1]! > seqs[1]![1]! ? seqs[0]![1] : seqs[1]![1], BigInt(2 * N), 'the last seq is the number of appends');
  t.equal(headOf(store, 'pairs'), BigInt(2 * N), 'head = appends: every claim was one seq');
  t.same(rc, {
    rc: 0,
    messages: 2 * N,
    corrupt: 0,
    abandoned: 0,
    lost: 0,
    lost_ranges: [],
    next: String(2 * N + 1),
    checksum_xor: String(xor),
    payload_sum: String(sum),
    payload_count: 2 * N,
    timed_out: false,
    acked: String(2 * N),
  }, 'the consumer saw every payload once, in seqs 1 .. 2N');
  t.same(await consumer.send({ op: 'stream_ack_get', name: 'pairs', id: 'all' }), { rc: 0, acked: String(2 * N) });
  const ack = store.slotSnapshot('pairs#c.all')!;
  t.equal(ack.typeFlag, SlotType.BIGUINT, 'the ack key is BIGUINT');
  t.equal(ack.valueLength, 8, 'the ack key holds 8 bytes');
  t.equal(store.getBigUint('pairs#c.all'), BigInt(2 * N), 'the ack key holds the last seq');
});

t.test('C producers lapping each other on a small ring: every cell moves forward lap by lap, nothing torn', async (t) => {
  const N = 2000;
  const CAP = 8;
  const { target, store, peer: consumer } = await peerStore(t, 64, 64);
  layOut(t, store, 'ring', CAP);
  const [a, b] = [await openPeer(t, target), await openPeer(t, target)];
  const [ra, rb, rc] = await Promise.all([
    a.send({ op: 'stream_produce', name: 'ring', first: 1_000_000, count: N, claim_timeout_ms: SLOW_CLAIM_MS }),
    b.send({ op: 'stream_produce', name: 'ring', first: 2_000_000, count: N, claim_timeout_ms: SLOW_CLAIM_MS }),
    consumer.send({ op: 'stream_consume', name: 'ring', from: 1, count: 2 * N, timeout_ms: 60_000 }),
  ]);
  t.match(ra, { rc: 0, appended: N, timeouts: 0 }, 'producer A');
  t.match(rb, { rc: 0, appended: N, timeouts: 0 }, 'producer B');
  t.match(rc, { rc: 0, abandoned: 0, corrupt: 0, next: String(2 * N + 1), timed_out: false }, 'the racing consumer');
  const messages = rc['messages'] as number;
  t.equal(messages + (rc['lost'] as number), 2 * N, 'every seq was read or reported lost');
  t.equal(rc['payload_count'], messages, 'every message was a whole torture value');
  t.equal(rangesTotal(rc['lost_ranges']), rc['lost'], 'the lost ranges are ordered, disjoint and add up');
  t.comment(`racing consumer: ${messages} read, ${String(rc['lost'])} lost`);

  // The last lap: each cell holds one of seqs 2N-7 .. 2N, published, with a payload of one of the producers.
  for (let seq = 2 * N - CAP + 1; seq <= 2 * N; seq++) {
    const c = cell(store, 'ring', CAP, seq);
    t.same([c.ctime, c.type], [BigInt(seq), SlotType.BINARY], `cell ${seq % CAP} holds seq ${seq}`);
  }
  const last = await consumer.send({ op: 'stream_consume', name: 'ring', from: 2 * N - CAP + 1, count: CAP, timeout_ms: 10_000 });
  t.match(last, { rc: 0, messages: CAP, lost: 0, corrupt: 0, payload_count: CAP }, 'the last lap reads whole');
});

t.test('a consumer far behind reports exactly the seqs it lost; an abandoned seq is reported and not written', async (t) => {
  const { store, peer } = await peerStore(t, 64, 64);
  layOut(t, store, 'late', 8);
  t.match(await peer.send({ op: 'stream_produce', name: 'late', first: 100, count: 20 }), { rc: 0, appended: 20, first_seq: '1', last_seq: '20' });

  // Seq 21 declared abandoned by one of our processes (type VOID, ctime 21) before its producer wrote it.
  store.setNamedType('late#5', SlotType.VOID);
  store.setSlotTime('late#5', 'ctime', 21n);
  const started = Date.now();
  const refused = await peer.send({ op: 'stream_append', name: 'late', value_hex: '00', claim_timeout_ms: 60_000 });
  t.match(refused, { rc: -1, errno: 'ETIMEDOUT', seq: '21' }, 'the producer of an abandoned seq reports the failure');
  t.ok(Date.now() - started < 30_000, 'without waiting for its claim timeout');
  t.same(cell(store, 'late', 8, 21), { ctime: 21n, type: SlotType.VOID, value: toHex(tortureValue(112, 64)) }, 'and writes nothing');
  t.same(await peer.send({ op: 'stream_read', name: 'late', seq: 21 }), { rc: 0, state: 'abandoned' });
  t.same(await peer.send({ op: 'stream_append', name: 'late', value_hex: toHex(tortureValue(500, 64)) }), { rc: 0, seq: '22' });

  let sum = 500n;
  let xor = 500n;
  for (let p = 114n; p <= 119n; p++) {
    sum += p;
    xor ^= p;
  }
  t.same(await peer.send({ op: 'stream_consume', name: 'late', from: 1, count: 22, timeout_ms: 10_000, ack_id: 'g', ack_every: 2 }), {
    rc: 0,
    messages: 7,
    corrupt: 0,
    abandoned: 1,
    lost: 14,
    lost_ranges: [['1', '14']],
    next: '23',
    checksum_xor: String(xor),
    payload_sum: String(sum),
    payload_count: 7,
    timed_out: false,
    acked: '22',
  }, 'seqs 1..14 lost (13 and 14 to the abandoned 21 and to 22), 15..20 and 22 read, 21 abandoned');
  t.match(await peer.send({ op: 'stream_consume', name: 'late', from: 3, count: 5, timeout_ms: 10_000 }), { lost: 5, lost_ranges: [['3', '7']], next: '8' });
  t.match(await peer.send({ op: 'stream_consume', name: 'late', from: 23, count: 1, timeout_ms: 200 }), { rc: 0, messages: 0, next: '23', timed_out: true }, 'nothing past the head');

  t.same(await peer.send({ op: 'stream_ack_get', name: 'late', id: 'g' }), { rc: 0, acked: '22' });
  t.equal(store.getBigUint('late#c.g'), 22n);
  t.same(await peer.send({ op: 'stream_ack_get', name: 'late', id: 'nobody' }), { rc: 0, acked: '0' }, 'no ack key: 0');
  // An acknowledgement only moves forwards.
  const ahead = new Uint8Array(8);
  new DataView(ahead.buffer).setBigUint64(0, 1000n, true);
  store.set('late#c.h', ahead);
  store.setNamedType('late#c.h', SlotType.BIGUINT);
  t.match(await peer.send({ op: 'stream_consume', name: 'late', from: 13, count: 10, timeout_ms: 10_000, ack_id: 'h' }), { rc: 0, messages: 7, acked: '1000' });
  t.equal(store.getBigUint('late#c.h'), 1000n, 'an ack ahead of the consumer is left as it was');
  store.set('late#c.bad', new Uint8Array(3));
  t.match(await peer.send({ op: 'stream_ack_get', name: 'late', id: 'bad' }), { rc: -1, errno: 'EINVAL' }, 'an ack key of 3 bytes is refused');
  t.match(await peer.send({ op: 'stream_ack_get', name: 'late', id: 'x'.repeat(60) }), { rc: -2, errno: 'EINVAL' }, 'an ack key over 63 bytes');
});

t.test('reads are consistent: a message written by hand, a cell being written, a cell held odd; a claim waits for its lap', async (t) => {
  const { store, peer } = await peerStore(t, 64, 64);
  layOut(t, store, 'hand', 4, 4n); // seqs 1..4 claimed, none published yet
  const value = tortureValue(777, 64);
  store.set('hand#1', value);
  store.setNamedType('hand#1', SlotType.BINARY);
  store.setSlotTime('hand#1', 'ctime', 1n);
  t.same(await peer.send({ op: 'stream_read', name: 'hand', seq: 1 }), { rc: 0, state: 'message', value_hex: toHex(value), type: 16 });
  t.match(await peer.send({ op: 'stream_consume', name: 'hand', from: 1, count: 1, timeout_ms: 1000 }), { rc: 0, messages: 1, payload_sum: '777' });

  store.setSlotTime('hand#2', 'ctime', 2n | WRITING);
  t.same(await peer.send({ op: 'stream_read', name: 'hand', seq: 2 }), { rc: 0, state: 'pending' }, 'a C producer writing seq 2');
  store.setSlotTime('hand#2', 'ctime', 6n | WRITING);
  t.same(await peer.send({ op: 'stream_read', name: 'hand', seq: 2 }), { rc: 0, state: 'lost', holds: '6' }, 'a later lap being written');

  t.match(await peer.send({ op: 'hold_odd', key: 'hand#3' }), { rc: 0 });
  t.match(await peer.send({ op: 'stream_read', name: 'hand', seq: 3 }), { rc: -1, errno: 'EAGAIN' }, 'a cell held odd never reads');
  t.match(await peer.send({ op: 'release_odd', key: 'hand#3' }), { rc: 0 });

  // Seq 5 waits for seq 1 of cell 1 ... which is published: it goes. Seq 6 waits for seq 2, which never comes.
  t.same(await peer.send({ op: 'stream_append', name: 'hand', value_hex: '05' }), { rc: 0, seq: '5' });
  t.same(cell(store, 'hand', 4, 5), { ctime: 5n, type: SlotType.BINARY, value: '05' });
  store.setSlotTime('hand#2', 'ctime', 0n);
  t.match(await peer.send({ op: 'stream_append', name: 'hand', value_hex: '06', claim_timeout_ms: 200 }), { rc: -1, errno: 'ETIMEDOUT', seq: '6' }, 'the previous lap never published');
  t.same(cell(store, 'hand', 4, 6), { ctime: 0n, type: SlotType.VOID, value: '00' }, 'the cell is left for a declaration');
  t.equal(headOf(store, 'hand'), 6n);
});

t.test('every stream command answers a malformed request with rc -2', async (t) => {
  const { store, peer } = await peerStore(t, 16, 64);
  layOut(t, store, 's', 2);
  const bad: Record<string, unknown>[] = [
    { op: 'stream_read', name: 's', seq: 0 },
    { op: 'stream_read', name: 's' },
    { op: 'stream_head' },
    { op: 'stream_append', name: 's' },
    { op: 'stream_produce', name: 's', first: 1 },
    { op: 'stream_consume', name: 's', from: 0, count: 1, timeout_ms: 1 },
    { op: 'stream_consume', name: 's', from: 1, count: 1, timeout_ms: 1, ack_every: 0 },
    { op: 'stream_ack_get', name: 's' },
  ];
  for (const op of bad) t.match(await peer.send(op), { rc: -2, errno: 'EINVAL' } satisfies Partial<PeerAnswer>, JSON.stringify(op));
  t.same(await peer.send({ op: 'stream_head', name: 's' }), { rc: 0, head: '0', capacity: '2' }, 'and claims nothing');
});
