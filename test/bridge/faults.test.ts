/** Redis going away and coming back empty, a stream trimmed past a bridge, a host joining late, and stopping. */
import t from 'tap';
import { hostStore, RedisServer, redisRecords, startBridge, waitFor } from './helpers.js';

const PREFIX = 'ops:';

t.test('Redis killed and restarted empty: writes made meanwhile arrive, old values come back to Redis', async (t) => {
  const redis = await RedisServer.start(t);
  const a = hostStore(t);
  const b = hostStore(t);
  await Promise.all([a, b].map((store) => startBridge(t, store, redis.url, PREFIX)));
  a.set('ops:before', 'written while Redis was up');
  a.set('ops:doomed', 'unset while Redis is down');
  await waitFor('the first writes → b', () => b.getString('ops:before') === 'written while Redis was up' && b.has('ops:doomed'));

  await redis.kill();
  a.set('ops:during-a', 'a wrote this while Redis was down');
  b.set('ops:during-b', 'b wrote this while Redis was down');
  a.unset('ops:doomed');
  await new Promise((resolve) => setTimeout(resolve, 300)); // the bridges notice and queue the changes
  t.notOk(b.has('ops:during-a'), 'nothing travels while Redis is down');
  await redis.restart();

  await waitFor('the writes made while Redis was down, both ways', () => b.getString('ops:during-a') === 'a wrote this while Redis was down' && a.getString('ops:during-b') === 'b wrote this while Redis was down' && !b.has('ops:doomed'), 15_000);
  const client = redis.client(t);
  await waitFor('Redis holds the namespace again (the stores are the source)', async () => {
    const records = await redisRecords(client, PREFIX);
    return records.get('ops:before')?.value?.toString() === 'written while Redis was up' && records.has('ops:during-a') && records.has('ops:during-b') && records.get('ops:doomed')?.value === undefined && records.has('ops:doomed');
  });
  a.set('ops:after', 'and on it goes');
  await waitFor('a new write after the restart → b', () => b.getString('ops:after') === 'and on it goes');
});

t.test('connections dropped: the bridges resume the stream from their position, nothing is lost', async (t) => {
  const redis = await RedisServer.start(t);
  const a = hostStore(t);
  const b = hostStore(t);
  const [, bridgeB] = await Promise.all([a, b].map((store) => startBridge(t, store, redis.url, PREFIX)));
  a.set('ops:one', '1');
  await waitFor('one → b', () => b.getString('ops:one') === '1');
  const client = redis.client(t);
  for (let drop = 0; drop < 3; drop++) {
    await client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    a.set(`ops:drop${drop}`, `from a after drop ${drop}`);
    b.set(`ops:back${drop}`, `from b after drop ${drop}`);
  }
  await waitFor('every write made around the drops, both ways', () =>
    [0, 1, 2].every((drop) => b.getString(`ops:drop${drop}`) === `from a after drop ${drop}` && a.getString(`ops:back${drop}`) === `from b after drop ${drop}`),
  );
  await waitFor('b to report that it resumed', () => /resumed the stream/.test(bridgeB!.output()));
  t.notMatch(bridgeB!.output(), /resynchronised the namespace in full/, 'a dropped connection is not a full resync');
});

t.test('a bridge whose stream position was trimmed away resynchronises from the current values', async (t) => {
  const redis = await RedisServer.start(t);
  const a = hostStore(t, { slots: 512, maxValueSize: 64 });
  const b = hostStore(t, { slots: 512, maxValueSize: 64 });
  await startBridge(t, a, redis.url, PREFIX, ['--stream-max', '10']);
  const bridgeB = await startBridge(t, b, redis.url, PREFIX);
  a.set('ops:k0', 'first');
  await waitFor('k0 → b', () => b.getString('ops:k0') === 'first');
  // b stalls (its connections stay open) while a writes far more than the stream keeps.
  bridgeB.child.kill('SIGSTOP');
  t.teardown(() => bridgeB.child.kill('SIGCONT'));
  for (let i = 0; i < 300; i++) a.set(`ops:n${i}`, `value ${i}`);
  const client = redis.client(t);
  await waitFor('every write in Redis', async () => (await redisRecords(client, PREFIX)).size === 301);
  const kept = await client.xlen(`splinter:{p:${PREFIX}}:stream`);
  t.ok(kept < 301, `the stream was trimmed (${kept} of 301 entries kept)`);
  bridgeB.child.kill('SIGCONT');
  await waitFor('every key → b', () => Array.from({ length: 300 }, (_, i) => b.getString(`ops:n${i}`) === `value ${i}`).every(Boolean), 15_000);
  await waitFor('b to report its resync', () => /resynchronised the namespace in full/.test(bridgeB.output()));
  t.match(bridgeB.output(), /resynchronised the namespace in full/, 'b noticed the gap and resynchronised in full');
});

t.test('a host bridged later receives the current state first; its stale local copy yields', async (t) => {
  const redis = await RedisServer.start(t);
  const a = hostStore(t);
  const b = hostStore(t);
  await Promise.all([a, b].map((store) => startBridge(t, store, redis.url, PREFIX)));
  a.set('ops:config', 'v2 from a');
  b.set('ops:roster', 'alice,bob');
  a.set('ops:gone', 'x');
  await waitFor('a and b level', () => b.getString('ops:config') === 'v2 from a' && a.getString('ops:roster') === 'alice,bob' && b.has('ops:gone'));
  a.unset('ops:gone');
  await waitFor('the unset → b', () => !b.has('ops:gone'));

  const late = hostStore(t);
  late.set('ops:config', 'v1, stale'); // what this host had before it was bridged
  late.set('ops:gone', 'stale too');
  late.set('ops:only-here', 'news from the late host');
  await startBridge(t, late, redis.url, PREFIX);
  // The bridge says "bridging" only after the first synchronisation: the state is there at once.
  t.equal(late.getString('ops:config'), 'v2 from a', 'the current value replaced the stale one');
  t.equal(late.getString('ops:roster'), 'alice,bob');
  t.notOk(late.has('ops:gone'), 'a key unset in the namespace is unset here too');
  await waitFor('the late host’s own key → a, b', () => a.getString('ops:only-here') === 'news from the late host' && b.getString('ops:only-here') === 'news from the late host');
  t.equal(a.getString('ops:config'), 'v2 from a', 'and the stale copy did not travel back');
});

t.test('SIGTERM and SIGINT: pending changes are sent, exit 0, promptly', async (t) => {
  const redis = await RedisServer.start(t);
  const a = hostStore(t);
  const b = hostStore(t);
  const bridgeA = await startBridge(t, a, redis.url, PREFIX);
  const bridgeB = await startBridge(t, b, redis.url, PREFIX);
  a.set('ops:last-words', 'sent before the exit');
  const stopped = await bridgeA.stop('SIGTERM');
  t.same([stopped.code, stopped.signal], [0, null], `SIGTERM: exit 0 (${bridgeA.output().trim()})`);
  t.ok(stopped.ms < 3_000, `within 3 s (${stopped.ms.toFixed(0)} ms)`);
  await waitFor('the last write → b', () => b.getString('ops:last-words') === 'sent before the exit');
  const interrupted = await bridgeB.stop('SIGINT');
  t.same([interrupted.code, interrupted.signal], [0, null], 'SIGINT: exit 0');
  t.ok(interrupted.ms < 3_000, `within 3 s (${interrupted.ms.toFixed(0)} ms)`);
});
