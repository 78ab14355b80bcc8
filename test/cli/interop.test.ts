/** The CLI on stores that the C peer (standing in for C processes) uses at the same time. */
import fs from 'node:fs';
import t from 'tap';
import { Store } from '../../src/index.js';
import { loadFixture, shmName, toHex } from '../helpers/fixtures.js';
import { Peer, peerBinary } from '../helpers/peer.js';
import { newTortureCheck, verifyTorture } from '../helpers/torture-value.js';
import type { Test } from '../helpers/assert.js';
import { cliAsync, oneLineError } from './helpers.js';

t.setTimeout(300_000);

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

if (!fs.existsSync(peerBinary)) {
  t.test('the CLI with the C peer', { skip: `the C peer is not built (${peerBinary}): run npm run peer` }, async () => {});
} else {
  t.test('reads and writes meet the C peer’s, both ways', async (t) => {
    const { name, peer } = await peerStore(t, 64, 256);
    t.equal((await peer.send({ op: 'set', key: 'from-c', value_hex: hex('written by C') })).rc, 0);
    t.equal((await cliAsync(['--use', name, 'get', 'from-c'])).stdout, 'written by C\n');
    t.equal((await cliAsync(['--use', name, 'set', 'from-cli', 'written by the CLI'])).code, 0);
    t.equal((await peer.send({ op: 'get', key: 'from-cli' })).value_hex, hex('written by the CLI'));

    await peer.send({ op: 'set', key: 'counter', value_hex: hex('41') });
    await peer.send({ op: 'set_named_type', key: 'counter', mask: 4 });
    t.equal((await cliAsync(['--use', name, 'get', 'counter'])).stdout, '41\n', 'a BIGUINT the C side converted');
    t.equal((await cliAsync(['--use', name, 'math', 'counter', 'inc', '1'])).stdout, '42\n');
    t.equal((await peer.send({ op: 'get_biguint', key: 'counter' })).value, '42', 'the C side reads the CLI’s increment');

    t.equal((await cliAsync(['--use', name, 'label', 'from-c', '0x2'])).code, 0);
    const matches = (await peer.send({ op: 'enumerate_matches', mask: 2 })).matches as Array<{ key: string }>;
    t.same(matches.map((m) => m.key), ['from-c'], 'a label the CLI set, seen by C');
    const list = await cliAsync(['--use', name, 'list', '--json']);
    t.same((JSON.parse(list.stdout) as Array<{ key: string }>).map((e) => e.key).sort(), ['counter', 'from-c', 'from-cli']);
    t.equal((await cliAsync(['--use', name, 'unset', 'from-c'])).code, 0);
    t.equal((await peer.send({ op: 'get', key: 'from-c' })).errno, 'ENOENT');
  });

  t.test('while the C peer writes a key nonstop, the CLI reads whole values and doctor sees no damage', async (t) => {
    const { name, peer } = await peerStore(t, 64, 256);
    await peer.send({ op: 'set', key: 'hot', value_hex: hex('start') });
    const writing = peer.send({ op: 'torture_write', key: 'hot', seconds: 4 });
    const check = newTortureCheck();
    let intact = 0;
    const started = Date.now();
    // Reads while the writer runs: every value is a whole torture value, never a torn one.
    for (let i = 0; i < 4 && Date.now() - started < 3000; i++) {
      const raw = await cliAsync(['--use', name, 'get', 'hot', '--raw']);
      t.equal(raw.code, 0, raw.stderr);
      const bytes = new Uint8Array(raw.stdoutBytes);
      if (bytes.length >= 16) {
        t.ok(verifyTorture(bytes, bytes.length, 256, check), `read ${i}: intact (${check.verdict}, seq ${check.seq})`);
        intact++;
      }
    }
    const [doctor, stats, list, set] = await Promise.all([
      cliAsync(['--use', name, 'doctor', '--json', '--wait', '300']),
      cliAsync(['--use', name, 'stats', '--json']),
      cliAsync(['--use', name, 'list', '--json']),
      cliAsync(['--use', name, 'set', 'beside', 'the writer']),
    ]);
    t.equal(doctor.code, 0, 'a busy writer is not damage');
    const report = JSON.parse(doctor.stdout) as { findings: Array<{ kind: string; severity: string }> };
    t.same(report.findings.filter((f) => f.severity === 'damage'), []);
    t.equal(stats.code, 0);
    t.equal((JSON.parse(stats.stdout) as { liveKeys: number }).liveKeys >= 1, true);
    t.match(list.stdout, /"key": "hot"/);
    t.equal(set.code, 0);
    const result = await writing;
    t.equal(result.rc, 0);
    t.ok((result.writes as number) > 0, `the peer wrote ${String(result.writes)} values`);
    t.ok(intact > 0, 'some reads landed while the writer ran');
    t.equal((await peer.send({ op: 'get', key: 'beside' })).value_hex, hex('the writer'));
  });

  t.test('a slot a C writer left locked: EAGAIN for readers, found and cleared by doctor --repair', async (t) => {
    const { name, peer } = await peerStore(t, 32, 64);
    await peer.send({ op: 'set', key: 'job', value_hex: hex('half written') });
    t.equal((await peer.send({ op: 'hold_odd', key: 'job' })).rc, 0, 'the peer dies inside the seqlock (in effect)');
    const get = await cliAsync(['--use', name, 'get', 'job']);
    t.equal(get.code, 1);
    t.ok(oneLineError(get.stderr), get.stderr);
    t.match(get.stderr, /^splinter: EAGAIN: get "job": the slot stayed locked \(odd epoch\) for 500 ms: a writer is inside it, or died there/);
    const found = await cliAsync(['--use', name, 'doctor', '--wait', '150']);
    t.equal(found.code, 1);
    t.match(found.stdout, /DAMAGE {2}odd-epoch {11}slot \d+ \("job"\) has stayed locked \(odd epoch \d+\) for at least 1\d\d ms/);
    const repaired = await cliAsync(['--use', name, 'doctor', '--repair', '--wait', '150']);
    t.equal(repaired.code, 0, repaired.stdout);
    t.match(repaired.stdout, /repaired {2}cleared "job" \(slot \d+\): its writer died mid-write, the value cannot be trusted/);
    t.equal((await cliAsync(['--use', name, 'get', 'job'])).code, 1, 'the half-written value is gone, not served');
    t.equal((await peer.send({ op: 'set', key: 'job', value_hex: hex('done') })).rc, 0, 'the C side can write the key again');
    t.equal((await cliAsync(['--use', name, 'get', 'job'])).stdout, 'done\n');
  });

  t.test('a duplicate key the C library made (Q1), and a key it truncated (Q2)', async (t) => {
    const fixture = loadFixture('quirk-duplicate-after-hole-4x16');
    const { name, peer } = await peerStore(t, fixture.slots, fixture.maxValueSize);
    for (const line of fixture.opLines) await peer.send(line);
    const found = await cliAsync(['--use', name, 'doctor', '--json', '--wait', '50']);
    t.equal(found.code, 1);
    const report = JSON.parse(found.stdout) as { findings: Array<{ kind: string; key: string; slot: number }> };
    t.same(report.findings.map((f) => [f.kind, f.key, f.slot]), [['duplicate-key', 'k4', 3]]);
    const repaired = await cliAsync(['--use', name, 'doctor', '--repair', '--wait', '50']);
    t.equal(repaired.code, 0, repaired.stdout);
    t.equal((await peer.send({ op: 'get', key: 'k4' })).value_hex, hex('four-new'), 'readers still see the new value');
    await peer.send({ op: 'unset', key: 'k4' });
    t.equal((await peer.send({ op: 'get', key: 'k4' })).errno, 'ENOENT', 'no stale copy reappears after an unset');

    const long = `${'k'.repeat(60)}-long`;
    await peer.send({ op: 'set', key: long, value_hex: hex('lost') });
    const truncated = await cliAsync(['--use', name, 'doctor', '--json', '--wait', '50']);
    const finding = (JSON.parse(truncated.stdout) as { findings: Array<{ kind: string; message: string }> }).findings[0];
    t.equal(finding?.kind, 'hash-mismatch');
    t.match(finding?.message, 'a 63-byte key: likely a longer key that a C writer truncated (docs/spec/FORMAT.md §9 Q2)');
    t.equal(toHex(new TextEncoder().encode(long)).length, 130, 'the key was 65 bytes');
  });
}

async function peerStore(t: Test, slots: number, maxValueSize: number): Promise<{ name: string; peer: Peer }> {
  const name = shmName(t, 'cli-peer');
  const peer = Peer.create(name, slots, maxValueSize);
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
