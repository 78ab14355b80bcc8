/** Three hosts (stores), each with a bridge process, through one redis-server: changes travel every way, keys outside the prefix stay home. */
import t from 'tap';
import { SlotType } from '../../src/index.js';
import { Peer } from '../helpers/peer.js';
import { hostStore, RedisServer, redisRecords, startBridge, waitFor } from './helpers.js';

const PREFIX = 'team:';

t.test('set, append, type, binary values and unset reach every host; other keys never leave', async (t) => {
  const redis = await RedisServer.start(t);
  const a = hostStore(t);
  const b = hostStore(t);
  const c = hostStore(t);
  await Promise.all([a, b, c].map((store) => startBridge(t, store, redis.url, PREFIX)));

  a.set('team:greeting', 'hello');
  await waitFor('a → b, c', () => b.getString('team:greeting') === 'hello' && c.getString('team:greeting') === 'hello');

  c.append('team:greeting', ', world');
  await waitFor('an append on c → a, b', () => a.getString('team:greeting') === 'hello, world' && b.getString('team:greeting') === 'hello, world');

  // Every byte value, up to the store's largest value, crosses unchanged.
  const binary = Buffer.alloc(a.maxValueSize);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 7) & 0xff;
  b.set('team:blob', binary);
  b.setNamedType('team:blob', SlotType.BINARY);
  await waitFor('a binary value with its type → a, c', () =>
    [a, c].every((store) => Buffer.from(store.get('team:blob') ?? []).equals(binary) && store.slotSnapshot('team:blob')?.typeFlag === SlotType.BINARY),
  );

  a.unset('team:greeting');
  await waitFor('an unset on a → b, c', () => !b.has('team:greeting') && !c.has('team:greeting'));

  a.set('private', 'stays here');
  a.set('teammate', 'not under the prefix "team:"'); // shares letters, not the prefix
  a.set('team:marker', 'written after the private keys');
  await waitFor('the marker → b, c', () => b.has('team:marker') && c.has('team:marker'));
  t.equal(b.has('private') || c.has('private') || b.has('teammate') || c.has('teammate'), false, 'keys outside the prefix stay on their host');
  const client = redis.client(t);
  const records = await redisRecords(client, PREFIX);
  t.same([...records.keys()].sort(), ['team:blob', 'team:greeting', 'team:marker'], 'Redis holds the namespace keys only (team:greeting as an unset)');
  t.equal(records.get('team:greeting')!.value, undefined, 'the unset is recorded, so a stale value cannot come back');
  const everything = await client.keys('*');
  t.notOk(everything.some((key) => key.includes('private') || key.includes('teammate')), 'no Redis key names a private key');
  const stream = await client.xrangeBuffer(`splinter:{p:${PREFIX}}:stream`, '-', '+');
  t.notOk(stream.some(([, fields]) => Buffer.concat(fields).includes('stays here')), 'no private value in the stream');

  // Nothing echoes: once quiet, every host's epochs stay put.
  const epochs = (): string => [a, b, c].map((s) => `${s.getEpoch('team:blob')}/${s.getEpoch('team:marker')}`).join(' ');
  const before = epochs();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(epochs(), before, 'no write bounces between the bridges');
});

t.test("a C process's writes are bridged", async (t) => {
  const redis = await RedisServer.start(t);
  const a = hostStore(t);
  const b = hostStore(t);
  const bridges = await Promise.all([a, b].map((store) => startBridge(t, store, redis.url, PREFIX)));
  // A bridge reports what went wrong on its stderr: a failure here shows both.
  t.teardown(() => {
    if (!t.passing()) bridges.forEach((running, i) => console.error(`bridge of ${i === 0 ? 'a' : 'b'} said:\n${running.output()}`));
  });
  const peer = Peer.open(a.target!);
  t.teardown(() => peer.close());
  await peer.ready;
  t.equal((await peer.send({ op: 'set', key: 'team:from-c', value_hex: Buffer.from('written by C').toString('hex') })).rc, 0);
  await waitFor('the C write → b', () => b.getString('team:from-c') === 'written by C');
  t.equal((await peer.send({ op: 'append', key: 'team:from-c', value_hex: Buffer.from('!').toString('hex') })).rc, 0);
  await waitFor('the C append → b', () => b.getString('team:from-c') === 'written by C!');
  b.set('team:to-c', 'read by C');
  await waitFor('b → the C process', async () => (await peer.send({ op: 'get', key: 'team:to-c' })).value_hex === Buffer.from('read by C').toString('hex'));
  t.equal((await peer.send({ op: 'unset', key: 'team:from-c' })).rc, 'written by C!'.length);
  await waitFor('the C unset → b', () => !b.has('team:from-c'));
});

t.test('concurrent writes of one key converge to one value on every host and in Redis', async (t) => {
  const redis = await RedisServer.start(t);
  const hosts = [hostStore(t), hostStore(t), hostStore(t)];
  await Promise.all(hosts.map((store) => startBridge(t, store, redis.url, PREFIX)));
  const client = redis.client(t);
  for (let round = 0; round < 200; round++) {
    for (const [i, store] of hosts.entries()) store.set('team:contended', `host ${i} round ${round}`);
    if (round % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    else await new Promise((resolve) => setImmediate(resolve));
  }
  let final = '';
  await waitFor(
    'one value everywhere',
    async () => {
      const values = hosts.map((store) => store.getString('team:contended'));
      const record = (await redisRecords(client, PREFIX)).get('team:contended');
      final = record?.value?.toString() ?? '';
      return values.every((value) => value === final);
    },
    15_000,
  );
  t.match(final, /^host \d round \d+$/, `every host and Redis hold ${JSON.stringify(final)}`);
  // And it stays that way: nothing still in flight changes it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(hosts.map((store) => store.getString('team:contended')), [final, final, final]);
});
