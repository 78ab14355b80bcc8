/**
 * One bid table, several processes: our election agrees with the C peer's on random tables
 * (a fast-check property), separate Node processes and the peer elect the same sovereign,
 * and a peer stamping with the CPU cycle counter (as libsplinter does) agrees with us once
 * our clock is calibrated onto its ticks.
 *
 * Runs of the property: SPLINTER_SHARD_RUNS (default 1000).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t from 'tap';
import { calibratedClock, Intent, SHARD_FOREVER, Store, type ClockPair } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer, type PeerAnswer } from '../helpers/peer.js';

t.setTimeout(300_000); // child processes: minutes on a loaded machine

const U64 = (1n << 64n) - 1n;
const wrap = (x: bigint): bigint => BigInt.asUintN(64, x);
const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');
const runTs = (args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', path.join(children, 'elector.ts'), ...args], { encoding: 'utf8', timeout: 30_000 });

interface PeerBid {
  index: number;
  shard_id: number;
  pid: number;
  intent: number;
  priority: number;
  duration: string;
  claimed_at: string;
}

async function send(peer: Peer, command: Record<string, unknown>): Promise<PeerAnswer> {
  const answer = await peer.send(command);
  if (answer.rc !== 0) throw new Error(`peer ${JSON.stringify(command)}: ${JSON.stringify(answer)}`);
  return answer;
}

async function peerElection(peer: Peer, now?: bigint): Promise<{ id: number; intent: number } | undefined> {
  const answer = await send(peer, now === undefined ? { op: 'shard_election' } : { op: 'shard_election', now: String(now) });
  return answer['shard_id'] === 0 ? undefined : { id: answer['shard_id'] as number, intent: answer['intent'] as number };
}

t.test('property: our election equals the C peer’s on random bid tables written by both', async (t) => {
  const name = shmName(t, 'shard-prop');
  const store = Store.create(name, { slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  await peer.ready;
  const s = store.shards;

  // Small domains so that ties, refreshes, the bumper and the expiry edge come up often.
  const u64 = fc.bigInt({ min: 0n, max: U64 });
  const near = (base: bigint) => fc.oneof(fc.bigInt({ min: -3n, max: 3n }).map((d) => wrap(base + d)), u64);
  const claim = (base: bigint) =>
    fc.record({
      by: fc.constantFrom('ts', 'c'),
      id: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(0xffffffff)),
      pid: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffffff })),
      intent: fc.integer({ min: 0, max: 4 }),
      priority: fc.oneof(fc.constantFrom(0, 1, 254, 255), fc.integer({ min: 0, max: 255 })),
      duration: fc.oneof(fc.constantFrom(0n, 1n, 2n, 5n, 1n << 60n, U64, U64 - 1n), u64),
      claimedAt: near(base),
    });
  const scenario = u64.chain((base) =>
    fc.record({
      base: fc.constant(base),
      claims: fc.array(claim(base), { maxLength: 40 }),
      releases: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 }),
      nows: fc.array(near(base), { minLength: 1, maxLength: 3 }),
    }),
  );

  let tables = 0;
  let sovereigns = 0;
  const runs = Number(process.env['SPLINTER_SHARD_RUNS'] ?? 1000);
  await fc.assert(
    fc.asyncProperty(scenario, async ({ claims, releases, nows }) => {
      for (const r of s.table()) if (r.shardId !== 0) s.release(r.shardId);
      for (const c of claims) {
        const fields = { intent: c.intent as Intent, priority: c.priority, duration: c.duration, claimedAt: c.claimedAt, pid: c.pid };
        const full = s.table().every((r) => r.shardId !== 0 && r.shardId !== c.id);
        if (c.by === 'ts') {
          try {
            s.claim({ id: c.id, ...fields });
          } catch (error) {
            if (!full) throw error;
          }
        } else {
          const answer = await peer.send({
            op: 'shard_claim_ex',
            shard_id: c.id,
            pid: c.pid,
            intent: c.intent,
            priority: c.priority,
            duration: String(c.duration),
            claimed_at: String(c.claimedAt),
          });
          if (answer.rc !== (full ? -1 : 0)) throw new Error(`peer claim ${JSON.stringify(answer)} with the table ${full ? 'full' : 'not full'}`);
        }
      }
      for (const id of releases) {
        if (s.table().some((r) => r.shardId === id)) s.release(id);
      }
      const bids = (await send(peer, { op: 'shard_table' }))['bids'] as PeerBid[];
      const ours = s.table(0n);
      for (const [i, b] of bids.entries()) {
        const o = ours[i]!;
        if (o.shardId !== b.shard_id || o.pid !== b.pid || o.intent !== b.intent || o.priority !== b.priority || String(o.duration) !== b.duration || String(o.claimedAt) !== b.claimed_at) {
          throw new Error(`record ${i}: we read ${JSON.stringify(o, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}, the peer ${JSON.stringify(b)}`);
        }
      }
      for (const now of nows) {
        const mine = s.election(now);
        const theirs = await peerElection(peer, now);
        tables++;
        if (mine !== undefined) sovereigns++;
        if (mine?.id !== theirs?.id || mine?.intent !== theirs?.intent) {
          throw new Error(`at now ${now}: we elected ${JSON.stringify(mine)}, the peer ${JSON.stringify(theirs)}`);
        }
        const marked = s.table(now).filter((r) => r.sovereign);
        if (marked.length !== (mine === undefined ? 0 : 1) || (mine !== undefined && marked[0]!.shardId !== mine.id)) {
          throw new Error(`at now ${now}: table() marks ${JSON.stringify(marked.map((r) => r.shardId))}, the election says ${mine?.id}`);
        }
      }
    }),
    { numRuns: runs },
  );
  t.ok(tables >= runs, `${tables} bid tables (${runs} runs), the same sovereign on both sides every time (${sovereigns} with one, ${tables - sovereigns} with none)`);
  t.ok(sovereigns > tables / 4 && sovereigns < tables, 'the runs cover both outcomes');
});

t.test('separate Node processes and the C peer, each stamping its own claim, elect the same sovereign', async (t) => {
  const name = shmName(t, 'shard-procs');
  const store = Store.create(name, { slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  await peer.ready;
  const minute = 60_000_000_000n;
  // Equal priorities: the earliest claim wins, so the stamps of different processes are compared.
  const first = JSON.parse(runTs([name, 'claim', '101', '100', String(Intent.WILLNEED), String(minute)])) as { pid: number; claimedAt: string };
  await send(peer, { op: 'shard_claim', shard_id: 102, intent: Intent.WILLNEED, priority: 100, duration: String(minute) });
  const third = JSON.parse(runTs([name, 'claim', '103', '100', String(Intent.SEQUENTIAL), String(minute)])) as { pid: number; claimedAt: string };
  store.shards.claim({ id: 104, intent: Intent.DONTNEED, priority: 255, duration: minute });
  const table = store.shards.table();
  t.same(table.slice(0, 4).map((r) => r.shardId), [101, 102, 103, 104], 'two children, the peer and this process each claimed a record');
  t.ok(
    table[0]!.claimedAt < table[1]!.claimedAt && table[1]!.claimedAt < table[2]!.claimedAt && table[2]!.claimedAt < table[3]!.claimedAt,
    'four processes claimed one after the other, and their stamps (one CLOCK_MONOTONIC) are in that order',
  );
  t.equal(table[0]!.pid, first.pid, 'a child stamped its own pid');
  t.equal(String(table[2]!.claimedAt), third.claimedAt, 'and its own stamp');

  const check = async (expected: number, what: string): Promise<void> => {
    const now = store.shards.now();
    const child = JSON.parse(runTs([name, 'elect', String(now)])) as { own: { id: number } | null; at: { id: number } | null };
    const views = {
      ours: store.shards.election()?.id,
      oursAt: store.shards.election(now)?.id,
      peer: (await peerElection(peer))?.id,
      peerAt: (await peerElection(peer, now))?.id,
      child: child.own?.id,
      childAt: child.at?.id,
    };
    t.same(new Set(Object.values(views)), new Set([expected]), `${what}: ${JSON.stringify(views)}`);
  };
  await check(101, 'the earliest claim wins a priority tie, DONTNEED is bumped');
  store.shards.release(101);
  await check(102, 'after 101 is released: the peer’s claim is the earliest');
  await send(peer, { op: 'shard_release', shard_id: 102 });
  await check(103, 'after the peer releases its bid: the second child’s');
  store.shards.release(103);
  await check(104, 'no protective bid left: the DONTNEED bid wins');
});

t.test('a peer on the CPU cycle counter: uncalibrated we disagree (without throwing), calibrated we agree', async (t) => {
  const name = shmName(t, 'shard-cycles');
  const store = Store.create(name, { slots: 4, maxValueSize: 64 });
  t.teardown(() => store.close());
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  await peer.ready;
  const switched = await peer.send({ op: 'shard_clock', clock: 'cycles' });
  if (switched.rc !== 0) {
    t.test('the cycle-counter clock checks', { skip: `the peer cannot read a cycle counter here (${switched.errno})` }, async () => {});
    return;
  }
  const pair = async (): Promise<ClockPair & { spread: bigint }> => {
    const a = await send(peer, { op: 'shard_now' });
    return { ticks: BigInt(a['now'] as string), monotonicNs: BigInt(a['monotonic_ns'] as string), spread: BigInt(a['monotonic_spread_ns'] as string) };
  };
  const p1 = await pair();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const p2 = await pair();
  const ticksPerNs = Number(p2.ticks - p1.ticks) / Number(p2.monotonicNs - p1.monotonicNs);
  t.ok(ticksPerNs > 0.001 && ticksPerNs < 10, `the peer's counter runs at ${(ticksPerNs * 1000).toFixed(1)} MHz`);
  const cycles = calibratedClock(p1, p2);
  const p3 = await pair();
  const mapped = calibratedClock(p1, p2, () => p3.monotonicNs)();
  const errorNs = Number(mapped - p3.ticks) / ticksPerNs;
  t.ok(Math.abs(errorNs) < 50_000, `a pair taken later maps to the peer's own reading within ${errorNs.toFixed(0)} ns (its pairs are read within ${p1.spread}/${p2.spread}/${p3.spread} ns)`);
  const live = (seconds: number): bigint => BigInt(Math.round(seconds * 1e9 * ticksPerNs));

  await send(peer, { op: 'shard_claim', shard_id: 0xc, intent: Intent.WILLNEED, priority: 200, duration: String(live(30)) });
  const s = store.shards;
  s.claim({ id: 0x75, intent: Intent.WILLNEED, priority: 100, duration: 30_000_000_000n }); // 30 s on our default clock
  const started = performance.now();
  const uncalibrated = s.election();
  const peerView = await peerElection(peer);
  t.ok(performance.now() - started < 100, 'the mixed-clock election returns at once');
  t.equal(peerView?.id, 0xc, 'the peer elects its own bid (priority 200)');
  const cycleStamp = s.table(0n)[0]!.claimedAt;
  if (cycleStamp > s.now()) {
    t.equal(uncalibrated?.id, 0x75, 'our default clock reads the peer’s cycle stamp as a future claim, i.e. expired: we elect ourselves too, two sovereigns');
  } else {
    t.comment(`the cycle stamp ${cycleStamp} is not ahead of CLOCK_MONOTONIC here; our uncalibrated election said ${uncalibrated?.id}`);
  }
  await t.rejects(s.madvise(0x75, { advice: 'normal', timeout: 20 }).then(() => Promise.reject(new Error('applied'))), /applied|ETIMEDOUT/, 'madvise with a mixed table returns (applied or timed out), it never hangs');

  s.useClock(cycles);
  s.claim({ id: 0x75, intent: Intent.WILLNEED, priority: 100, duration: live(30) });
  t.equal(s.election()?.id, 0xc, 'on the calibrated clock we see the peer’s bid live: the peer is sovereign for us too');
  t.equal((await peerElection(peer))?.id, 0xc, 'and for the peer');
  t.equal(s.isSovereign(0x75), false, 'we are not');
  s.rebid(0x75, { intent: Intent.WILLNEED, priority: 200, duration: live(30) });
  t.equal((await peerElection(peer))?.id, 0xc, 'equal priority: the peer claimed first (in its ticks) and wins for the peer');
  t.equal(s.election()?.id, 0xc, 'and for us');
  await send(peer, { op: 'shard_rebid', shard_id: 0xc, intent: Intent.WILLNEED, priority: 200, duration: String(live(30)) });
  t.equal((await peerElection(peer))?.id, 0x75, 'the peer re-bids later: our (earlier) claim wins for the peer');
  t.equal(s.election()?.id, 0x75, 'and for us');
  await t.resolves(s.madvise(0x75, { advice: 'normal' }), 'as sovereign on the calibrated clock our madvise applies at once');

  s.useClock();
  s.claim({ id: 0x75, intent: Intent.WILLNEED, priority: 200, duration: SHARD_FOREVER });
  await send(peer, { op: 'shard_claim', shard_id: 0xc, intent: Intent.WILLNEED, priority: 250, duration: String(SHARD_FOREVER) });
  t.equal(s.election()?.id, 0xc, 'SHARD_FOREVER windows: even uncalibrated, both sides elect the higher priority');
  t.equal((await peerElection(peer))?.id, 0xc, 'the peer agrees');
});
