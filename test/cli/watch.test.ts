/** `watch` (keys and signal groups, live, until Ctrl-C) and `shard`, on stores C processes write. */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer, peerBinary } from '../helpers/peer.js';
import type { Test } from '../helpers/assert.js';
import { cli, cliAsync, type CliResult } from './helpers.js';

t.setTimeout(300_000);

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

const noPeer = fs.existsSync(peerBinary) ? false : `the C peer is not built (${peerBinary}): run npm run peer`;

async function peerStore(t: Test): Promise<{ name: string; peer: Peer }> {
  const name = shmName(t, 'cli-watch');
  const peer = Peer.create(name, 32, 64);
  await peer.ready;
  t.teardown(async () => {
    await peer.close();
    try {
      Store.unlink(name);
    } catch {
      // already gone
    }
  });
  return { name, peer };
}

/** Writes with the peer every 100 ms until the watcher has exited (it may take a moment to start). */
async function writeUntilDone(watcher: Promise<CliResult>, write: (n: number) => Promise<unknown>): Promise<CliResult> {
  let exited: CliResult | undefined;
  void watcher.then((r) => (exited = r));
  for (let n = 0; exited === undefined && n < 150; n++) {
    await write(n);
    await sleep(100);
  }
  return watcher;
}

t.test('watch KEY --oneshot: the C peer’s write wakes it', { skip: noPeer }, async (t) => {
  const { name, peer } = await peerStore(t);
  await peer.send({ op: 'set', key: 'status', value_hex: hex('idle') });
  const watcher = cliAsync(['--use', name, 'watch', 'status', 'other', '--oneshot', '--json'], { timeout: 30_000 });
  const result = await writeUntilDone(watcher, (n) => peer.send({ op: 'set', key: 'status', value_hex: hex(`busy ${n}`) }));
  t.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one change, then exit');
  const event = JSON.parse(lines[0]!) as { key: string; epoch: string; encoding: string; value: string };
  t.equal(event.key, 'status');
  t.match(event.value, /^busy \d+$/);
  t.ok(BigInt(event.epoch) > 2n);
});

t.test('watch KEY until Ctrl-C', { skip: noPeer }, async (t) => {
  const { name, peer } = await peerStore(t);
  await peer.send({ op: 'set', key: 'n', value_hex: '0100000000000000' });
  await peer.send({ op: 'set_named_type', key: 'n', mask: 4 });
  const watcher = cliAsync(['--use', name, 'watch', 'n'], { timeout: 90_000 });
  for (let i = 0; i < 600 && !/epoch \d+ {2}\d+\n[\s\S]*epoch/.test(watcher.stdoutSoFar()); i++) {
    await peer.send({ op: 'integer_op', key: 'n', int_op: 4, operand: '1' });
    await sleep(100);
  }
  watcher.kill('SIGINT');
  const result = await watcher;
  t.equal(result.code, 0, 'Ctrl-C ends a watch: exit 0');
  t.equal(result.stderr, '');
  t.match(result.stdout, /^\d\d:\d\d:\d\d\.\d{3} {2}n {2}epoch \d+ {2}\d+\n/, 'time, key, epoch, and the biguint as a number');
});

t.test('watch --group G: pulses from the C side', { skip: noPeer }, async (t) => {
  const { name, peer } = await peerStore(t);
  await peer.send({ op: 'set', key: 'job', value_hex: hex('queued') });
  t.equal(cli(['--use', name, 'label', 'job', 'bit:1']).code, 0);
  t.equal(cli(['--use', name, 'bind', 'bit:1', '9']).code, 0);
  const watcher = cliAsync(['--use', name, 'watch', '--group', '9', '--oneshot', '--json'], { timeout: 30_000 });
  const result = await writeUntilDone(watcher, (n) => peer.send({ op: 'set', key: 'job', value_hex: hex(`run ${n}`) }));
  t.equal(result.code, 0, result.stderr);
  const event = JSON.parse(result.stdout) as { group: number; count: string };
  t.equal(event.group, 9);
  t.ok(BigInt(event.count) >= 1n);
});

t.test('watch: nothing happens within --timeout, and usage errors', async (t) => {
  const name = shmName(t, 'cli-watch-idle');
  const store = Store.create(name, { slots: 8, maxValueSize: 16 });
  t.teardown(() => {
    store.close();
    Store.unlink(name);
  });
  store.set('quiet', 'x');
  const idle = cli(['--use', name, 'watch', 'quiet', '--timeout', '200']);
  t.equal(idle.code, 1);
  t.equal(idle.stderr, 'splinter: ETIMEDOUT: watch: no change within 200 ms\n');
  t.equal(cli(['--use', name, 'watch']).code, 2);
  t.equal(cli(['--use', name, 'watch', 'quiet', '--group', '1']).code, 2);
  t.equal(cli(['--use', name, 'watch', '--group', '64']).code, 2);
});

t.test('shard: the bid table and the sovereign, as C bids them', { skip: noPeer }, async (t) => {
  const { name, peer } = await peerStore(t);
  const none = cli(['--use', name, 'shard']);
  t.equal(none.code, 0);
  t.equal(none.stdout, 'no bids\nsovereign: none (no live bid)\n');
  const forever = '18446744073709551615';
  t.equal((await peer.send({ op: 'shard_claim_ex', shard_id: 0x5f1a, pid: 4242, intent: 1, priority: 200, duration: forever, claimed_at: 0 })).rc, 0);
  t.equal((await peer.send({ op: 'shard_claim_ex', shard_id: 7, pid: 4343, intent: 3, priority: 10, duration: forever, claimed_at: 0 })).rc, 0);
  const table = cli(['--use', name, 'shard']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /^RECORD +SHARD +PID +INTENT +PRIO +DURATION +CLAIMED_AT +STATE\n/);
  t.match(table.stdout, /\n +0 +0x5f1a +4242 +willneed +200 +18446744073709551615 +0 +sovereign\n/);
  t.match(table.stdout, /\n +1 +0x7 +4343 +random +10 +18446744073709551615 +0 +live\n/);
  t.match(table.stdout, /\nsovereign: 0x5f1a \(willneed\)\n$/);
  t.equal(cli(['--use', name, 'shard', 'who']).stdout, 'sovereign: 0x5f1a (willneed)\n');
  const json = JSON.parse(cli(['--use', name, 'shard', '--json']).stdout) as { sovereign: { id: number }; bids: unknown[] };
  t.equal(json.sovereign.id, 0x5f1a);
  t.equal(json.bids.length, 2);
  t.equal((JSON.parse(cli(['--use', name, 'shard', '--all', '--json']).stdout) as { bids: unknown[] }).bids.length, 32);
  t.equal(cli(['--use', name, 'shard', 'claim']).code, 2);
});
