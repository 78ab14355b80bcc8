/**
 * Three bridge processes on three stores while a seeded fuzzer writes malformed records into every
 * Redis key the bridges own (the hash, the stream, the generation) and drops their connections so
 * they resynchronise from the garbage; good keys are written meanwhile. No bridge exits, each says
 * a bounded number of lines, and the good keys converge on every host and in Redis.
 * BRIDGE_FUZZ_SEED=n replays a run.
 */
import t from 'tap';
import { stampText } from '../../src/bridge/clock.js';
import { encodeRecord } from '../../src/bridge/codec.js';
import { namespaceKeys } from '../../src/bridge/namespace.js';
import { hostStore, RedisServer, redisRecords, setWhenFree, startBridge, waitFor } from './helpers.js';
import { seededRandom } from '../helpers/random.js';

const PREFIX = 'fz:';
const GOOD_KEYS = 16;
const FUZZ_MS = 8_000;

const prng = seededRandom;

t.test('malformed records in every Redis key of the bridges: none exits, good keys converge', async (t) => {
  const seed = Number(process.env['BRIDGE_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  t.comment(`BRIDGE_FUZZ_SEED=${seed}`);
  const random = prng(seed);
  const int = (below: number): number => Math.floor(random() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => int(256)));

  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const stores = [hostStore(t), hostStore(t), hostStore(t)];
  const bridges = await Promise.all(stores.map((store) => startBridge(t, store, redis.url, PREFIX)));
  t.teardown(() => {
    if (!t.passing()) bridges.forEach((running, i) => console.error(`seed ${seed}: bridge ${i} said:\n${running.output()}`));
  });
  const { values, stream, generation } = namespaceKeys(PREFIX);
  const good = Array.from({ length: GOOD_KEYS }, (_, i) => `${PREFIX}good-${i}`);

  const badKeys: Array<() => Buffer> = [
    () => Buffer.concat([Buffer.from(PREFIX), Buffer.alloc(64 - PREFIX.length + int(200), 'x')]), // too long: 64 bytes or more
    () => Buffer.from(`${PREFIX}nul\0${int(10)}`),
    () => Buffer.from([0x6a, 0x6f, 0x62, 0xff, 0xfe, 0x80 + int(64)]), // not UTF-8, and outside the prefix (under it, such a key is carried)
    () => Buffer.from(`outside:${int(10)}`),
    () => Buffer.alloc(0),
  ];
  const stamp = (): string => stampText({ wall: Date.now(), counter: int(0x10000) });
  const head = (op: string, host: string): Buffer => Buffer.concat([Buffer.from(stamp()), Buffer.from(op), Buffer.from([int(256), host.length]), Buffer.from(host, 'latin1')]);
  const badRecords: Array<() => Buffer> = [
    () => bytes(int(40)),
    () => Buffer.from('zzz'),
    () => Buffer.alloc(0),
    () => encodeRecord({ key: 'x', value: bytes(1 + int(8)), type: int(256), host: 'fuzz', stamp: { wall: Date.now() + 120_000 + int(0xffff_ffff_ffff - Date.now() - 120_000), counter: int(0x10000) } }), // far future
    () => Buffer.concat([Buffer.from(stamp().toUpperCase().replace(/^./, 'G')), Buffer.from('s'), Buffer.from([1, 1]), Buffer.from('h'), bytes(3)]), // not a stamp
    () => Buffer.concat([head(pick(['x', 'S', '\0']), 'fuzz'), bytes(3)]), // no such operation
    () => Buffer.concat([Buffer.from(stamp()), Buffer.from('s'), Buffer.from([1, 0]), bytes(4)]), // no host id
    () => Buffer.concat([Buffer.from(stamp()), Buffer.from('u'), Buffer.from([1, 200]), Buffer.from('short')]), // host id cut short
    () => Buffer.concat([head('s', 'a host'), bytes(2)]), // a space in the host id
    () => head('s', 'fuzz'), // an empty value
    () => bytes(int(19)), // shorter than a head
  ];
  /** A key and a record, at least one of them bad (a bad record may name a good key: garbage over a real current value). */
  const badPair = (): [Buffer, Buffer] => {
    if (random() < 0.5) return [pick(badKeys)(), encodeRecord({ key: 'x', value: Buffer.from('valid record, bad key'), type: 1, host: 'fuzz', stamp: { wall: Date.now(), counter: 0 } })];
    return [random() < 0.5 ? Buffer.from(pick(good)) : pick(badKeys)(), pick(badRecords)()];
  };

  let fuzzed = 0;
  let written = 0;
  const started = Date.now();
  let lastDrop = started;
  while (Date.now() - started < FUZZ_MS) {
    const action = random();
    if (action < 0.35) {
      const [key, record] = badPair();
      await client.hset(values, key, record);
    } else if (action < 0.7) {
      const [key, record] = badPair();
      const shape = int(4);
      const fields: Buffer[] = shape === 0 ? [Buffer.from('k'), key] : shape === 1 ? [Buffer.from('r'), record] : shape === 2 ? [Buffer.from('k'), key, Buffer.from('r'), record] : [bytes(2), bytes(5), Buffer.from('k'), key, Buffer.from('r'), record, Buffer.from('r'), bytes(3)];
      await client.xadd(stream, '*', ...fields);
    } else if (action < 0.72) {
      await client.set(generation, bytes(1 + int(40)));
    } else {
      await setWhenFree(pick(stores), pick(good), `w${written++}`);
      continue;
    }
    fuzzed++;
    // Now and then every bridge's connections drop: each resynchronises, from a hash full of garbage when the generation moved.
    if (Date.now() - lastDrop > 2_000) {
      lastDrop = Date.now();
      await client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    }
    if (fuzzed % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const fuzzMs = Date.now() - started;

  // Once the fuzzing stops, every good key settles on one value on every host (whichever write won: writes
  // made on several hosts within a moment are ordered by stamp, and on a loaded machine a bridge may notice
  // late). Redis may still hold garbage written over a key's record after its last write: the next write replaces it.
  let unsettled = '';
  let seen = '';
  let seenSince = 0;
  const settled = await waitFor(
    'every good key to hold one value on every host, for a second',
    () => {
      unsettled = good.filter((key) => !stores.every((store) => store.getString(key) === stores[0]!.getString(key))).join(' ');
      const now = JSON.stringify(stores.map((store) => good.map((key) => store.getString(key))));
      if (now !== seen) [seen, seenSince] = [now, Date.now()];
      return unsettled === '' && Date.now() - seenSince >= 1_000; // still: no write in flight to race the final ones
    },
    60_000,
  ).then(
    () => true,
    () => false,
  );
  t.ok(settled, `after ${fuzzed} malformed writes and ${written} good writes in ${fuzzMs} ms, the good keys converged${settled ? '' : `; not yet: ${unsettled}`}`);

  // Then the last word on each good key, from one host each: it wins everywhere.
  for (const [i, key] of good.entries()) await setWhenFree(stores[i % stores.length]!, key, `final ${i}`);
  let behind = '';
  const converged = await waitFor(
    'every final write on every host and in Redis',
    async () => {
      const records = await redisRecords(client, PREFIX);
      behind = good.filter((key, i) => !stores.every((store) => store.getString(key) === `final ${i}`) || records.get(key)?.value?.toString() !== `final ${i}`).join(' ');
      return behind === '';
    },
    60_000,
  ).then(
    () => true,
    () => false,
  );
  t.ok(converged, `then the ${GOOD_KEYS} final writes converged${converged ? '' : `; behind: ${behind}`}`);

  const windows = Math.ceil((Date.now() - started) / 10_000) + 1;
  for (const [i, running] of bridges.entries()) {
    t.same([running.child.exitCode, running.child.signalCode], [null, null], `bridge ${i} is still running`);
    const lines = running.output().trim().split('\n');
    // Per 10 s window ten lines and a summary of skips, as many of failed sends; the reconnections; the first line: nowhere near one a record.
    t.ok(lines.length <= windows * 22 + 30, `bridge ${i} said ${lines.length} lines for ${fuzzed} malformed writes`);
    t.match(running.output(), /skipped (stream entry|hash field)/, `bridge ${i} said what it skipped`);
  }
  const keys = stores.map((store) => store.keys().sort());
  t.same(keys[1], keys[0], 'hosts 0 and 1 hold the same keys');
  t.same(keys[2], keys[0], 'hosts 0 and 2 hold the same keys');
  t.same(keys[0], [...good].sort(), 'and only the good keys');
});
