/**
 * What Redis holds is hostile input: stream entries and hash fields with keys a store cannot hold,
 * bytes that are not records, stamps from the far future. Each is skipped, said and counted; no
 * bridge exits, none is poisoned, and the good keys converge. Also keys of any bytes, as a C
 * process may write them: carried like any other.
 */
import t, { type Test } from 'tap';
import type { Redis } from 'ioredis';
import { bridge, type Bridge, type BridgeEvent } from '../../src/index.js';
import { compareStamps, HybridClock, stampText, type Stamp } from '../../src/bridge/clock.js';
import { decodeRecord, encodeRecord, type Change } from '../../src/bridge/codec.js';
import { namespaceKeys } from '../../src/bridge/namespace.js';
import { PUT_SCRIPT } from '../../src/bridge/put-script.js';
import type { Store } from '../../src/index.js';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';
import { hostStore, RedisServer, redisRecords, setWhenFree, startBridge, waitFor, type BridgeProcess } from './helpers.js';

const PREFIX = 'job:';
/** The largest wall time a stamp's 12 hex digits hold. */
const WALL_MAX = 0xffff_ffff_ffff;
const FAR_FUTURE: Stamp = { wall: WALL_MAX, counter: 0xffff }; // ffffffffffffffff

/** A well-formed record of `value` for `key`, stamped now (or `stamp`) by an outsider. */
function record(key: string, value: string | undefined, stamp: Stamp = { wall: Date.now(), counter: 0 }): Buffer {
  const change: Change = { key, value: value === undefined ? undefined : Buffer.from(value), type: 1, stamp, host: 'outsider' };
  return encodeRecord(change);
}

/** An in-process bridge whose events are kept; closed in teardown. */
async function watchedBridge(t: Test, store: Store, url: string): Promise<{ running: Bridge; events: BridgeEvent[] }> {
  const events: BridgeEvent[] = [];
  const running = await bridge({ store, redis: url, prefix: PREFIX, hostId: `watched-${process.pid}`, onEvent: (event) => events.push(event) });
  t.teardown(() => running.close());
  return { running, events };
}

function stillRunning(t: Test, processes: BridgeProcess[]): void {
  for (const [i, running] of processes.entries()) t.same([running.child.exitCode, running.child.signalCode], [null, null], `bridge process ${i} is still running (${running.output().trim().split('\n').length} lines said)`);
}

/** Each host holds `value` for `key`, and so does Redis, in a record stamped now, not in the far future. */
async function convergedOn(client: Redis, stores: Store[], key: string, value: string, prefix = PREFIX): Promise<boolean> {
  if (!stores.every((store) => store.getString(key) === value)) return false;
  const held = (await redisRecords(client, prefix)).get(key);
  return held?.value?.toString() === value && held.stamp.wall < Date.now() + 60_000;
}

t.test('the clock takes in no stamp from the far future, and its wall field never overflows', async (t) => {
  let wall = 1_700_000_000_000;
  const clock = new HybridClock(() => wall);
  t.equal(clock.observe(FAR_FUTURE), false, 'ffffffffffffffff is refused');
  const next = clock.now();
  t.equal(next.wall, wall, 'later stamps are the wall time again');
  t.equal(stampText(next).length, 16);
  t.equal(clock.observe({ wall: wall + 59_000, counter: 3 }), true, 'a stamp within the minute is taken');
  t.same(clock.now(), { wall: wall + 59_000, counter: 4 });

  wall = Number.MAX_SAFE_INTEGER; // a wall source gone mad: the stamps stay within 48 bits
  const before = clock.now();
  t.same(before, { wall: WALL_MAX, counter: 0 }, 'the wall time is pinned to 48 bits');
  t.ok(compareStamps(clock.now(), before) > 0, 'and the stamps still move on');
  const spent = new HybridClock(() => WALL_MAX);
  for (let i = 0; i <= 0x10000; i++) spent.now();
  t.equal(stampText(spent.now()), 'ffffffffffffffff', 'at the end of 48-bit time the clock stays at its largest stamp, 16 digits');
});

t.test('the put script takes a garbage or far-future current record as none, and still keeps a real winner', async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const put = async (current: Buffer | string | undefined, offered: Buffer): Promise<number> => {
    await client.del('h', 's');
    if (current !== undefined) await client.hset('h', 'k', current);
    const [taken] = (await client.eval(PUT_SCRIPT, 2, 'h', 's', 'k', offered, 100)) as [number, unknown];
    return taken;
  };
  const stamped = Date.now();
  const now = record('k', 'new', { wall: stamped, counter: 0 });
  t.equal(await put('zzz', now), 1, 'zzz (hostLength nil before) is no current record');
  t.equal(await put('', now), 1, 'an empty field is none');
  t.equal(await put(Buffer.concat([Buffer.from('0000000000000000s'), Buffer.from([1, 200]), Buffer.from('h')]), now), 1, 'a record cut short is none');
  t.equal(await put(record('k', 'future', FAR_FUTURE), now), 1, 'a record stamped ffffffffffffffff is none');
  t.equal(await put(record('k', 'future', { wall: Date.now() + 5 * 60_000, counter: 0 }), now), 1, 'nor is one five minutes ahead');
  t.equal(await put(record('k', 'soon', { wall: Date.now() + 30_000, counter: 0 }), now), 0, 'a record 30 s ahead is a real winner');
  t.equal(await put(record('k', 'older', { wall: stamped - 1_000, counter: 0 }), now), 1, 'and an older one loses, as before');
  t.equal(await client.hgetBuffer('h', 'k').then((held) => held?.equals(now)), true, 'the record taken is the current one');
  await t.rejects(put(undefined, Buffer.from('not a record')), /not a record/, 'a record offered that is not one is refused');
});

t.test('bad stream entries are skipped, said and counted; every bridge runs on and the good keys converge', async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const a = hostStore(t);
  const b = hostStore(t);
  const processA = await startBridge(t, a, redis.url, PREFIX);
  const { running: bridgeB, events } = await watchedBridge(t, b, redis.url);
  const stream = namespaceKeys(PREFIX).stream;
  const long = `${PREFIX}${'l'.repeat(70)}`;
  const bad: Array<[string, Array<string | Buffer>]> = [
    ['a key longer than 63 bytes', ['k', long, 'r', record(long, 'x')]],
    ['a key with NUL', ['k', `${PREFIX}nul\0here`, 'r', record(`${PREFIX}nul\0here`, 'x')]],
    ['a key that is not UTF-8 outside the prefix', ['k', Buffer.from([0x6a, 0x6f, 0x62, 0xff]), 'r', record('x', 'x')]],
    ['a key outside the prefix', ['k', 'elsewhere', 'r', record('elsewhere', 'x')]],
    ['a stamp of ffffffffffffffff', ['k', `${PREFIX}future`, 'r', record(`${PREFIX}future`, 'from the far future', FAR_FUTURE)]],
    ['a record that is zzz', ['k', `${PREFIX}garbage`, 'r', 'zzz']],
    ['a record with an empty value', ['k', `${PREFIX}empty`, 'r', Buffer.concat([Buffer.from(stampText({ wall: Date.now(), counter: 0 })), Buffer.from([0x73, 1, 1]), Buffer.from('h')])]],
    ['an entry without a record', ['k', `${PREFIX}half`]],
  ];
  for (const [, fields] of bad) await client.xadd(stream, '*', ...fields);

  // A key that is not UTF-8 is a store key like any other: not a bad entry, it is carried.
  const bytesKey = Buffer.from([...Buffer.from(PREFIX), 0xff]);
  await client.xadd(stream, '*', 'k', bytesKey, 'r', record('x', 'not UTF-8, still a key'));
  await waitFor('the entry of a key that is not UTF-8 → a and b', () => [a, b].every((store) => store.getString(bytesKey) === 'not UTF-8, still a key'), 15_000);
  a.set(`${PREFIX}after`, 'v1');
  await waitFor('a write made after the bad entries → b', () => b.getString(`${PREFIX}after`) === 'v1', 15_000);
  b.set(`${PREFIX}after`, 'v2'); // b's clock saw ffffffffffffffff go by: its stamps must still win over v1
  a.set(`${PREFIX}second`, 'later');
  await waitFor('v2 everywhere, Redis included', () => convergedOn(client, [a, b], `${PREFIX}after`, 'v2'), 15_000);
  await waitFor('a second key → b', () => convergedOn(client, [a, b], `${PREFIX}second`, 'later'), 15_000);

  stillRunning(t, [processA]);
  t.equal(bridgeB.stats().rejected, bad.length, `b counted the ${bad.length} bad entries`);
  const said = events.filter((event) => event.type === 'skipped').map((event) => event.message);
  t.equal(said.length, bad.length, 'one warning each');
  t.ok(said.every((message) => /^skipped stream entry \d+-\d+/.test(message)), 'each names the stream entry');
  t.ok(said.some((message) => message.includes('ffffffffffffffff') && message.includes('past Redis')), 'the far-future stamp is named');
  t.ok(said.some((message) => message.includes('"job:llll') && /at most 63 bytes, this one has 74/.test(message)), 'the long key is named');
  t.match(processA.output(), /skipped stream entry \d+-\d+ of splinter:\{p:job:\}:stream \(key "job:garbage"\): a record has at least 19 bytes/, 'the process says it on stderr');
  for (const key of [`${PREFIX}future`, `${PREFIX}garbage`, `${PREFIX}empty`, `${PREFIX}half`]) t.equal(a.has(key) || b.has(key), false, `${key} was written nowhere`);
  t.equal((await processA.stop()).code, 0, 'the process exits 0 when asked');
  t.match(processA.output(), /splinter bridge: skipped 8 bad records from Redis\n$/, 'and its last line counts what it skipped');
});

t.test('bad current records in the hash: bridges start, take the good ones, replace the bad ones, and survive a full resync', async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const { values, generation } = namespaceKeys(PREFIX);
  const long = `${PREFIX}${'l'.repeat(70)}`;
  await client.hset(values, long, record(long, 'x'));
  await client.hset(values, `${PREFIX}nul\0here`, record('x', 'x'));
  await client.hset(values, `${PREFIX}future`, record(`${PREFIX}future`, 'from the far future', FAR_FUTURE));
  await client.hset(values, `${PREFIX}x`, 'zzz');
  await client.hset(values, `${PREFIX}good`, record(`${PREFIX}good`, 'in Redis before any bridge'));

  const a = hostStore(t);
  const b = hostStore(t);
  a.set(`${PREFIX}future`, 'what a holds'); // a's own value of a key whose current record is from the far future
  const processes = await Promise.all([a, b].map((store) => startBridge(t, store, redis.url, PREFIX))); // on old code: "the bridge exited"
  t.equal(b.getString(`${PREFIX}good`), 'in Redis before any bridge', 'the good record was taken at start');
  t.equal(b.has(`${PREFIX}x`) || b.has(`${PREFIX}future`) && b.getString(`${PREFIX}future`) !== 'what a holds', false, 'no bad record was written');
  await waitFor("a's value replaces the far-future record", () => convergedOn(client, [a, b], `${PREFIX}future`, 'what a holds'), 15_000);

  a.set(`${PREFIX}x`, 'good at last'); // its current record is zzz
  await waitFor('job:x leaves a and replaces zzz', () => convergedOn(client, [a, b], `${PREFIX}x`, 'good at last'), 15_000);

  // More bad fields while running, then a new generation and dropped connections: a full resync reads them.
  await client.hset(values, `${PREFIX}y`, 'zzz');
  await client.hset(values, `${PREFIX}x`, record(`${PREFIX}x`, 'poison', FAR_FUTURE));
  await client.set(generation, 'not the generation the bridges know');
  await client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await waitFor('both bridges resynchronised in full', () => processes.every((running) => /resynchronised the namespace in full/.test(running.output())), 15_000);
  await waitFor('job:x back in Redis as the stores hold it', () => convergedOn(client, [a, b], `${PREFIX}x`, 'good at last'), 15_000);
  b.set(`${PREFIX}y`, 'written over zzz');
  await waitFor('job:y converges', () => convergedOn(client, [a, b], `${PREFIX}y`, 'written over zzz'), 15_000);
  stillRunning(t, processes);
  // The first bridge to resynchronise replaces it (it holds job:x), so the other may never see it.
  t.ok(
    processes.some((running) => /skipped hash field "job:x" of splinter:\{p:job:\}:values: its stamp ffffffffffffffff is more than 60 s past Redis's clock/.test(running.output())),
    'the far-future hash field is named',
  );
  t.match(processes[0]!.output(), /skipped hash field "job:y" of splinter:\{p:job:\}:values: a record has at least 19 bytes, this one 3/, 'so is zzz');
});

t.test('keys a C process writes in bytes that are not UTF-8 are carried both ways, unsets too', async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const { values } = namespaceKeys(PREFIX);
  const a = hostStore(t);
  const b = hostStore(t);
  const peer = Peer.open(a.target!);
  t.teardown(() => peer.close());
  await peer.ready;
  const hex = (text: string): string => Buffer.from(text).toString('hex');
  // 63 bytes ending in 0xFF, in the store before the bridge starts: the longest key there is.
  const longBytes = Buffer.concat([Buffer.from(PREFIX), Buffer.alloc(58, 'a'), Buffer.from([0xff])]);
  t.equal((await peer.send({ op: 'set', key_hex: longBytes.toString('hex'), value_hex: hex('from C') })).rc, 0);
  const { running, events } = await watchedBridge(t, a, redis.url);
  const processB = await startBridge(t, b, redis.url, PREFIX);
  const shortBytes = Buffer.from([...Buffer.from(PREFIX), 0xe9]); // job:é in Latin-1
  t.equal((await peer.send({ op: 'set', key_hex: shortBytes.toString('hex'), value_hex: hex('also C') })).rc, 0);
  t.equal((await peer.send({ op: 'set', key: `${PREFIX}plain`, value_hex: hex('fine') })).rc, 0);

  await waitFor('both keys C wrote → b under their own bytes', () => b.getString(longBytes) === 'from C' && b.getString(shortBytes) === 'also C', 15_000); // on old code: never, they were skipped
  await waitFor('the plain key → b', () => convergedOn(client, [a, b], `${PREFIX}plain`, 'fine'), 15_000);
  for (const [key, value] of [[longBytes, 'from C'], [shortBytes, 'also C']] as const) {
    const held = await client.hgetBuffer(values, key);
    const change = held === null ? 'none' : decodeRecord(key, held);
    t.equal(typeof change === 'string' ? change : change.value?.toString(), value, `Redis holds the record under the key's exact ${key.length} bytes`);
  }

  t.ok((await peer.send({ op: 'unset', key_hex: shortBytes.toString('hex') })).rc >= 0, 'C unsets it');
  await waitFor("C's unset → b", () => !b.has(shortBytes), 15_000);
  t.equal(b.getString(longBytes), 'from C', 'the other bytes key stays');

  // A bytes key written with the Store API on b: a reads it, and so does C, by its bytes.
  const fromApi = Uint8Array.from([...Buffer.from(PREFIX), 0xc3, 0x28]); // a 2-byte lead before "(": not UTF-8
  await setWhenFree(b, fromApi, 'from the Store API');
  await waitFor('the Store API bytes key → a', () => a.getString(fromApi) === 'from the Store API', 15_000);
  t.equal((await peer.send({ op: 'get', key_hex: Buffer.from(fromApi).toString('hex') })).value_hex, hex('from the Store API'), 'C reads it on a');
  await setWhenFree(a, fromApi, 'and back');
  await waitFor('a later write of it → b', () => b.getString(fromApi) === 'and back', 15_000);

  const hexKeys = (store: Store): string[] => store.keys({ bytes: true }).map((key) => Buffer.from(key).toString('hex')).sort();
  t.same(hexKeys(b), hexKeys(a), 'both hosts hold the same keys');
  t.same(hexKeys(b), [longBytes, Buffer.from(`${PREFIX}plain`), Buffer.from(fromApi)].map((key) => key.toString('hex')).sort(), 'and they are the ones written, unset excepted');
  t.equal(running.stats().uncarried, 0, 'nothing uncarried');
  t.same(events.filter((event) => event.type === 'skipped' || event.type === 'error'), [], 'nothing skipped, no error');
  stillRunning(t, [processB]);
  t.notMatch(processB.output(), /skipped|failed/, 'the process on b said nothing skipped either');
});

/** Each bad record alone, in each place a bridge reads one: none stops a bridge, and the key it names (or a good one) converges when written. */
t.test('each bad record alone, in the stream, in the hash at start and in the hash at a full resync', async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const kinds: Array<{ kind: string; key: (prefix: string) => Buffer; record: (prefix: string) => Buffer | string; writable: boolean }> = [
    { kind: 'a key of 70 bytes', key: (p) => Buffer.from(`${p}${'l'.repeat(70 - p.length)}`), record: () => record('k', 'x'), writable: false },
    { kind: 'a key with NUL', key: (p) => Buffer.from(`${p}a\0b`), record: () => record('k', 'x'), writable: false },
    { kind: 'a key that is not UTF-8 outside the prefix', key: () => Buffer.from([0x71, 0xc3, 0x28]), record: () => record('k', 'x'), writable: false },
    { kind: 'a stamp of ffffffffffffffff', key: (p) => Buffer.from(`${p}k`), record: (p) => record(`${p}k`, 'from the far future', FAR_FUTURE), writable: true },
    { kind: 'a stamp an hour ahead', key: (p) => Buffer.from(`${p}k`), record: (p) => record(`${p}k`, 'from a host an hour ahead', { wall: Date.now() + 3_600_000, counter: 0 }), writable: true },
    { kind: 'a record that is zzz', key: (p) => Buffer.from(`${p}k`), record: () => 'zzz', writable: true },
  ];
  let n = 0;
  for (const { kind, key, record: bad, writable } of kinds) {
    for (const place of ['the stream', 'the hash at start', 'the hash at a full resync'] as const) {
      await t.test(`${kind} in ${place}`, async (t) => {
        const prefix = `p${++n}:`;
        const { values, stream, generation } = namespaceKeys(prefix);
        if (place === 'the hash at start') await client.hset(values, key(prefix), bad(prefix));
        const a = hostStore(t);
        const b = hostStore(t);
        const bridges = await Promise.all([a, b].map((store, i) => bridge({ store, redis: redis.url, prefix, hostId: `${'ab'[i]}-${process.pid}` })));
        t.teardown(() => Promise.all(bridges.map((running) => running.close())));
        if (place === 'the stream') await client.xadd(stream, '*', 'k', key(prefix), 'r', bad(prefix));
        if (place === 'the hash at a full resync') {
          await client.hset(values, key(prefix), bad(prefix));
          await client.set(generation, 'another generation'); // as if Redis lost the namespace: both read the whole hash again
          await client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        }
        await waitFor('both bridges skipped it', () => bridges.every((running) => running.stats().rejected === 1), 15_000);
        // The key the record names when a store can hold it, else a good one: written by each host in turn.
        const written = writable ? key(prefix).toString() : `${prefix}good`;
        const turns: Array<[Store, string]> = [
          [a, 'v1'],
          [b, 'v2'],
          [b, 'v3'],
          [a, 'v4'],
        ];
        for (const [store, value] of turns) {
          store.set(written, value);
          await waitFor(`${value} on both hosts and in Redis`, () => convergedOn(client, [a, b], written, value, prefix), 15_000);
        }
        t.same(bridges.map((running) => running.stats().rejected), [1, 1], 'one skip each, counted');
      });
    }
  }
});

t.test('the stream made a string: sends fail and are said, nothing is taken without its entry, and all is sent once it is a stream again', async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const a = hostStore(t);
  const b = hostStore(t);
  const processes = await Promise.all([a, b].map((store) => startBridge(t, store, redis.url, PREFIX)));
  const { values, stream } = namespaceKeys(PREFIX);
  a.set(`${PREFIX}before`, 'v0');
  await waitFor('a first key → b', () => b.getString(`${PREFIX}before`) === 'v0', 15_000);
  await client.del(stream);
  await client.set(stream, 'not a stream');
  a.set(`${PREFIX}meanwhile`, 'sent when the stream is back');
  await waitFor('a to say its send failed', () => /sending "job:meanwhile" failed: .*WRONGTYPE/.test(processes[0]!.output()), 15_000);
  t.equal(await client.hexists(values, `${PREFIX}meanwhile`), 0, 'the record was not made current without its stream entry');
  await client.del(stream);
  await waitFor('the key → b once the stream can be written', () => convergedOn(client, [a, b], `${PREFIX}meanwhile`, 'sent when the stream is back'), 15_000);
  stillRunning(t, processes);
});

t.test('a host whose clock is an hour ahead stamps like the others: a later write elsewhere still wins', async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const skew = path.join(tempDir(t), 'an-hour-ahead.mjs');
  fs.writeFileSync(skew, 'const real = Date.now;\nDate.now = () => real() + 3_600_000;\n');
  const ahead = hostStore(t);
  const onTime = hostStore(t);
  const processes = [await startBridge(t, ahead, redis.url, PREFIX, [], [skew]), await startBridge(t, onTime, redis.url, PREFIX)];
  ahead.set(`${PREFIX}k`, 'from the host an hour ahead');
  await waitFor('its write → the other host', () => convergedOn(client, [ahead, onTime], `${PREFIX}k`, 'from the host an hour ahead'), 15_000);
  onTime.set(`${PREFIX}k`, 'later, from a host on time');
  await waitFor('the later write everywhere', () => convergedOn(client, [ahead, onTime], `${PREFIX}k`, 'later, from a host on time'), 15_000);
  ahead.set(`${PREFIX}k`, 'and later again, from the host ahead');
  await waitFor('and the next one', () => convergedOn(client, [ahead, onTime], `${PREFIX}k`, 'and later again, from the host ahead'), 15_000);
  stillRunning(t, processes);
});

t.test("Redis's current record going back (an older record appended after a newer one) is healed: the newer is offered again", async (t) => {
  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const a = hostStore(t);
  const b = hostStore(t);
  const bridges = await Promise.all([a, b].map((store, i) => bridge({ store, redis: redis.url, prefix: PREFIX, hostId: `${'ab'[i]}-${process.pid}` })));
  t.teardown(() => Promise.all(bridges.map((running) => running.close())));
  const key = `${PREFIX}k`;
  const older = { wall: Date.now() - 60_000, counter: 0 };
  await setWhenFree(a, key, 'newer');
  await waitFor('the newer value everywhere', () => convergedOn(client, [a, b], key, 'newer'), 15_000);
  // What a bridge that never saw "newer" does after garbage replaced it in the hash and a resync: its older record is taken.
  const { values, stream } = namespaceKeys(PREFIX);
  await client.hset(values, key, record(key, 'older', older));
  await client.xadd(stream, '*', 'k', key, 'r', record(key, 'older', older));
  await waitFor('Redis holds the newer value again', () => convergedOn(client, [a, b], key, 'newer'), 15_000);
  t.same([a, b].map((store) => store.getString(key)), ['newer', 'newer'], 'and the stores kept it');
});
