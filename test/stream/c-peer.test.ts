/**
 * Streams of this library with C ones (the peer, test/peer/README.md "Streams"): a stream made
 * here is appended to by C, read by C and consumed by C, and a C producer wakes a subscriber
 * here though it rings no doorbell.
 */
import t from 'tap';
import { Store } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';
import { newTortureCheck, tortureValue, verifyTorture } from '../helpers/torture-value.js';
import { message, stillPending, take, within } from './helpers.js';

const hex = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('hex');

async function storeWithPeer(t: Test, slots: number): Promise<{ target: string; store: Store; peer: Peer }> {
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots, maxValueSize: 64 });
  t.teardown(() => store.close());
  const peer = await openPeer(t, target);
  return { target, store, peer };
}

async function openPeer(t: Test, target: string): Promise<Peer> {
  const peer = Peer.open(target);
  t.teardown(() => peer.close());
  await peer.ready;
  return peer;
}

t.test('a C producer appends to a stream made here: a subscriber waiting here gets it, without a doorbell', async (t) => {
  const { store, peer } = await storeWithPeer(t, 64);
  const log = store.stream('log', { capacity: 8 });
  log.append('from here');
  const events = log.subscribe({ from: 'latest' });
  const next = events.next();
  t.ok(await stillPending(next, 100), 'caught up: waiting');
  t.same(await peer.send({ op: 'stream_append', name: 'log', value_hex: hex('from C'), type: 128 }), { rc: 0, seq: '2' });
  t.same((await within(next, 'the C message')).value, message(2, 'text', 'from C'), 'woken by a C write (the wait also looks by itself)');
  t.same(await peer.send({ op: 'stream_append', name: 'log', value_hex: hex('{"c":true}'), type: 8 }), { rc: 0, seq: '3' });
  t.same(await peer.send({ op: 'stream_append', name: 'log', value_hex: '00ff' }), { rc: 0, seq: '4' });
  t.same(log.append('here again'), 5n, 'appends here go on after C');
  t.same((await take(events, 3)).map((e) => (e.kind === 'message' && e.value instanceof Uint8Array ? { ...e, value: [...e.value] } : e)), [
    message(3, 'json', { c: true }),
    message(4, 'bytes', [0, 255]),
    message(5, 'text', 'here again'),
  ]);
  await events.return!();
});

t.test('C reads what is appended here: values, types, head, lost seqs', async (t) => {
  const { store, peer } = await storeWithPeer(t, 64);
  const log = store.stream('log', { capacity: 4 });
  log.append(new Uint8Array([1, 2, 3]));
  log.append('text');
  log.appendJSON({ n: 1 });
  t.same(await peer.send({ op: 'stream_head', name: 'log' }), { rc: 0, head: '3', capacity: '4' });
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 1 }), { rc: 0, state: 'message', value_hex: '010203', type: 16 });
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 2 }), { rc: 0, state: 'message', value_hex: hex('text'), type: 128 });
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 3 }), { rc: 0, state: 'message', value_hex: hex('{"n":1}'), type: 8 });
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 4 }), { rc: 0, state: 'pending' });
  for (const word of ['4', '5', '6']) log.append(word);
  t.same(await peer.send({ op: 'stream_read', name: 'log', seq: 1 }), { rc: 0, state: 'lost', holds: '5' }, 'seq 1 lost to seq 5 for C as well');
  log.consumer('me').ack(4);
  t.same(await peer.send({ op: 'stream_ack_get', name: 'log', id: 'me' }), { rc: 0, acked: '4' }, "C reads a durable consumer's ack");
});

t.test('producers here and in C at once, a C consumer and a subscriber here: every seq once, every payload once', async (t) => {
  const N = 3000;
  const { target, store, peer: consumer } = await storeWithPeer(t, 8192);
  const log = store.stream('mixed', { capacity: 2 * N + 100, claimTimeout: 60_000 });
  const producer = await openPeer(t, target);
  const events = log.subscribe({ from: 1 });
  const cProduce = producer.send({ op: 'stream_produce', name: 'mixed', first: 1_000_000, count: N, claim_timeout_ms: 60_000 });
  const cConsume = consumer.send({ op: 'stream_consume', name: 'mixed', from: 1, count: 2 * N, timeout_ms: 60_000 });
  for (let i = 0; i < N; i++) {
    log.append(tortureValue(2_000_000 + i, 64));
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  t.match(await within(cProduce, 'the C producer', 60_000), { rc: 0, appended: N, timeouts: 0 });
  let sum = 0n;
  let xor = 0n;
  for (let i = 0; i < N; i++) {
    for (const p of [BigInt(1_000_000 + i), BigInt(2_000_000 + i)]) {
      sum += p;
      xor ^= p;
    }
  }
  t.match(await within(cConsume, 'the C consumer', 60_000), { rc: 0, messages: 2 * N, corrupt: 0, abandoned: 0, lost: 0, next: String(2 * N + 1), checksum_xor: String(xor), payload_sum: String(sum) }, 'the C consumer saw every payload once');
  const check = newTortureCheck();
  const seen = new Set<number>();
  let wrong = 0;
  for (let seq = 1; seq <= 2 * N; seq++) {
    const [event] = await take(events, 1);
    if (event!.kind !== 'message' || event!.seq !== BigInt(seq) || !(event!.value instanceof Uint8Array) || !verifyTorture(event!.value, event!.value.length, 64, check)) {
      if (wrong++ < 5) t.fail(`seq ${seq}: ${JSON.stringify(event, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
      continue;
    }
    seen.add(check.seq);
  }
  t.equal(wrong, 0, 'the subscriber here read seqs 1..2N in order, each an intact payload');
  t.equal(seen.size, 2 * N, 'each payload once');
  t.equal(log.head(), BigInt(2 * N));
  await events.return!();
});

t.test('a cell left held odd by a writer that died inside: given up after the claim timeout', async (t) => {
  const { store, peer } = await storeWithPeer(t, 64);
  const log = store.stream('log', { capacity: 4, claimTimeout: 200 });
  log.append('one');
  t.match(await peer.send({ op: 'hold_odd', key: 'log#2' }), { rc: 0 }, 'cell 2 held odd');
  t.match(await peer.send({ op: 'stream_append', name: 'log', value_hex: hex('never'), claim_timeout_ms: 300 }), { rc: -1, errno: /^(EAGAIN|ETIMEDOUT)$/, seq: '2' }, 'a C producer claims seq 2 and cannot write it');
  const events = log.subscribe({ from: 1 });
  t.same((await take(events, 2)).map((e) => (e.kind === 'message' ? e.seq : e)), [1n, { kind: 'gap', from: 2n, to: 2n, reason: 'abandoned' }], 'the subscriber releases the stuck cell and declares seq 2 abandoned');
  t.equal(log.append('three'), 3n);
  t.same((await take(events, 1))[0], message(3, 'text', 'three'), 'and goes on');
  for (let i = 4; i <= 5; i++) log.append(String(i));
  t.match(await peer.send({ op: 'hold_odd', key: 'log#2' }), { rc: 0 }, 'cell 2 held odd again, now holding seq 2 (abandoned)');
  const started = performance.now();
  t.equal(log.append('six'), 6n, 'seq 6 (cell 2, second lap) is written after all');
  t.ok(performance.now() - started >= 150, 'once the claim timeout passed');
  t.same((await take(events, 3)).map((e) => (e.kind === 'message' ? e.seq : e.kind)), [4n, 5n, 6n]);
  await events.return!();
});
