/** Clear errors for a store, URL or prefix that does not work; the clock, the records and the script's rule. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { bridge } from '../../src/index.js';
import { compareStamps, HybridClock, parseStamp, stampText } from '../../src/bridge/clock.js';
import { compareVersions, decodeRecord, encodeRecord, type Change } from '../../src/bridge/codec.js';
import { namespaceKeys } from '../../src/bridge/namespace.js';
import { PUT_SCRIPT } from '../../src/bridge/put-script.js';
import { repoRoot } from '../helpers/fixtures.js';
import { cliMain, hostStore, RedisServer } from './helpers.js';

const run = promisify(execFile);

t.test('bad options are refused with the code and what was wrong', async (t) => {
  const redis = await RedisServer.start(t);
  const store = hostStore(t);
  const cases: Array<[string, Parameters<typeof bridge>[0], string, RegExp]> = [
    ['a URL of another scheme', { store, redis: 'http://127.0.0.1:6379' }, 'EINVAL', /scheme "http:"/],
    ['not a URL', { store, redis: 'localhost' }, 'EINVAL', /received "localhost"/],
    ['a database that is not a number', { store, redis: `${redis.url}/zero` }, 'EINVAL', /database is a number/],
    ['a prefix with no room for a key', { store, redis: redis.url, prefix: 'p'.repeat(63) }, 'EINVAL', /at most 62 bytes, received 63/],
    ['a prefix with NUL', { store, redis: redis.url, prefix: 'a\0' }, 'EINVAL', /NUL/],
    ['a prefix with a lone surrogate (no UTF-8 bytes are its own)', { store, redis: redis.url, prefix: 'job:\ud800' }, 'EINVAL', /well-formed Unicode/],
    ['a host id with a space', { store, redis: redis.url, hostId: 'my host' }, 'EINVAL', /host id/],
    ['a store that does not exist', { store: `splinter-bridge-missing-${process.pid}`, redis: redis.url }, 'ENOENT', /does not exist/],
    ['nothing listening', { store, redis: 'redis://127.0.0.1:1' }, 'ECONNREFUSED', /127\.0\.0\.1:1.*ECONNREFUSED|ECONNREFUSED.*127\.0\.0\.1:1/],
  ];
  for (const [what, options, code, message] of cases) {
    await t.rejects(bridge(options), { name: 'SplinterError', code, message }, what);
  }
  t.equal(store.closed, false, 'a store given open stays open after a failed start');
});

t.test('splinter bridge: exit 2 without --redis, exit 1 with the reason otherwise', async (t) => {
  const store = hostStore(t);
  const cli = async (...args: string[]): Promise<{ code: number; stderr: string }> => {
    try {
      await run(process.execPath, ['--import', 'tsx', cliMain, ...args], { cwd: repoRoot, timeout: 20_000 });
      return { code: 0, stderr: '' };
    } catch (error) {
      const failed = error as { code: number; stderr: string };
      return { code: failed.code, stderr: failed.stderr };
    }
  };
  const noUrl = await cli('bridge', '--use', store.target!);
  t.same(noUrl.code, 2);
  t.match(noUrl.stderr, /bridge needs --redis URL/);
  const badUrl = await cli('bridge', '--use', store.target!, '--redis', 'redis:/nohost');
  t.same(badUrl.code, 1);
  t.match(badUrl.stderr, /^splinter: EINVAL: bridge: expected a Redis URL/);
  const badPrefix = await cli('bridge', '--use', store.target!, '--redis', 'redis://127.0.0.1:1', '--prefix', 'x'.repeat(70));
  t.same(badPrefix.code, 1);
  t.match(badPrefix.stderr, /EINVAL: bridge: a key prefix leaves room for a key/);
});

t.test('the hybrid clock never goes back and passes every stamp it saw', async (t) => {
  let wall = 1_000;
  const clock = new HybridClock(() => wall);
  const a = clock.now();
  const b = clock.now();
  t.ok(compareStamps(b, a) > 0, 'two stamps in one ms: the counter moves');
  wall = 900; // the wall clock steps back
  t.ok(compareStamps(clock.now(), b) > 0, 'a wall clock that steps back does not');
  clock.observe({ wall: 5_000, counter: 7 });
  t.same(clock.now(), { wall: 5_000, counter: 8 }, 'a stamp from a host ahead: ours go past it');
  t.same(parseStamp(stampText({ wall: 0xffffffffffff, counter: 0xffff })), { wall: 0xffffffffffff, counter: 0xffff });
  t.equal(parseStamp('not a stamp'), undefined);
});

t.test('records carry every byte; the script and compareVersions pick the same winner', async (t) => {
  const value = Buffer.from([0, 255, 10, 13, 0x7b, 0x7d]);
  const change: Change = { key: 'k', stamp: { wall: 123, counter: 4 }, host: 'h-1', type: 16, value };
  t.same(decodeRecord('k', encodeRecord(change)), change);
  const unset: Change = { ...change, value: undefined };
  t.same(decodeRecord('k', encodeRecord(unset)), unset);
  t.match(decodeRecord('k', Buffer.from('garbage')), /at least 19 bytes/, 'garbage is not a record, and the reason says why');
  t.match(namespaceKeys('a{b}%').values, /^splinter:\{p:a%7bb%7d%25\}:values$/, 'braces in a prefix cannot end the hash tag early');

  const redis = await RedisServer.start(t);
  const client = redis.client(t);
  const versions: Change[] = [
    { ...change, stamp: { wall: 200, counter: 0 }, host: 'b' },
    { ...change, stamp: { wall: 200, counter: 0 }, host: 'a' },
    { ...change, stamp: { wall: 200, counter: 0 }, host: 'B' }, // 'B' < 'a' < 'b' in bytes, whatever the locale says
    { ...change, stamp: { wall: 199, counter: 9 }, host: 'z' },
    { ...change, stamp: { wall: 200, counter: 1 }, host: 'a' },
    { ...change, stamp: { wall: 0x10000000000, counter: 0 }, host: 'a' },
  ];
  for (let i = 0; i < versions.length; i++) {
    for (let j = 0; j < versions.length; j++) {
      await client.del('h', 's');
      await client.eval(PUT_SCRIPT, 2, 'h', 's', 'k', encodeRecord(versions[i]!), 100);
      const [taken] = (await client.eval(PUT_SCRIPT, 2, 'h', 's', 'k', encodeRecord(versions[j]!), 100)) as [number, unknown];
      t.equal(taken === 1, compareVersions(versions[j]!, versions[i]!) > 0, `${JSON.stringify(versions[j]!.stamp)}@${versions[j]!.host} over ${JSON.stringify(versions[i]!.stamp)}@${versions[i]!.host}`);
    }
  }
});
