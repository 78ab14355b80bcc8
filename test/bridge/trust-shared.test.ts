/** A store that others may write is opened by the bridge only when trusted: trustShared, or `splinter --trust-shared bridge`. */
import fs from 'node:fs';
import t from 'tap';
import { bridge } from '../../src/index.js';
import { hostStore, RedisServer, startBridge, waitFor } from './helpers.js';

const PREFIX = 'job:';

t.test('a store others may write: EPERM without trustShared, bridged with it, from a program and from the CLI', async (t) => {
  const redis = await RedisServer.start(t);
  const shared = hostStore(t);
  const other = hostStore(t);
  fs.chmodSync(`/dev/shm/${shared.target!}`, 0o666); // everyone may write it (the test created it, so it may)

  await t.rejects(bridge({ store: shared.target!, redis: redis.url, prefix: PREFIX }), { name: 'SplinterError', code: 'EPERM', message: /^EPERM: bridge: refusing to open .*mode 0666.*trustShared: true/ }, 'refused without trustShared');
  await t.rejects(bridge({ store: shared.target!, redis: redis.url, trustShared: 'yes' as unknown as boolean }), { code: 'EINVAL', message: /trustShared is true or false, received "yes"/ }, 'trustShared is a boolean');

  await t.rejects(startBridge(t, shared, redis.url, PREFIX), /EPERM: bridge: refusing to open .*--trust-shared/, 'splinter bridge refuses it, saying how to trust it');

  const running = await bridge({ store: shared.target!, redis: redis.url, prefix: PREFIX, trustShared: true });
  const plain = await startBridge(t, other, redis.url, PREFIX);
  shared.set(`${PREFIX}from-the-shared-store`, 'crossed');
  await waitFor('a key of the shared store → the other host', () => other.getString(`${PREFIX}from-the-shared-store`) === 'crossed', 15_000);
  other.set(`${PREFIX}to-the-shared-store`, 'back');
  await waitFor('and back', () => shared.getString(`${PREFIX}to-the-shared-store`) === 'back', 15_000);
  await running.close();
  t.equal((await plain.stop()).code, 0);

  // `splinter --trust-shared bridge`: the global flag reaches the bridge.
  const trusted = await startBridge(t, shared, redis.url, PREFIX, ['--trust-shared']);
  const otherSide = await bridge({ store: other, redis: redis.url, prefix: PREFIX });
  t.teardown(() => otherSide.close());
  shared.set(`${PREFIX}through-the-cli`, 'trusted');
  await waitFor('a key through the trusted CLI bridge → the other host', () => other.getString(`${PREFIX}through-the-cli`) === 'trusted', 15_000);
  t.equal((await trusted.stop()).code, 0, 'the trusted CLI bridge exits 0');
});
