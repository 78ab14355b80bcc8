/**
 * Stream torture (issue #22): our producers and consumers (child processes) and the C peer's, all
 * on one stream, SIGKILLed at random moments and started again, until at least a million
 * checksummed messages were appended. Each message is a torture value (test/peer/README.md
 * "Torture") whose payload number is producer id × 2^32 + counter, so every delivered message is
 * checked on its own. Durable consumers log each batch (flushed) before acknowledging it; once
 * everything is stopped the logs are checked (test/stream/torture/audit.ts):
 *   - 0 corrupted or malformed messages; each seq carries one payload whoever reads it, each payload
 *     one seq, and a producer's messages come in the order it appended them;
 *   - 0 acknowledged messages lost: every seq up to a consumer's final ack was delivered to it or
 *     reported in a gap; a restarted consumer resumes at an ack it logged, so it is given again
 *     only seqs above the ack it had when killed; events and batches are contiguous;
 *   - every 'overwritten' gap [a, b] was more than capacity behind the head when it came (the head
 *     is read as the event arrives); the C consumer's lost ranges likewise;
 *   - every 'abandoned' seq is never delivered as a message, and is either one our producer lost to
 *     the claim timeout (logged as it happened) or one of at most one claim per killed producer
 *     (for a C round killed mid-way, one more per claim timeout the round had run);
 *   - the C consumer's rounds read the same messages as ours (count, xor of the payloads, abandoned
 *     seqs) wherever our consumers saw every seq of the round.
 *
 *   SPLINTER_TORTURE_SEED=N       replay the kill schedule of a run (the seed is printed)
 *   SPLINTER_TORTURE_MESSAGES=N   how many messages to append (default 1,000,000)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import { newTortureCheck, verifyTorture } from '../helpers/torture-value.js';
import { auditCConsumer, auditOurConsumer, Ledger, producerTimeouts } from './torture/audit.js';
import { CConsumerRole, ChildRole, CProducerRole, type Role, type Run } from './torture/roles.js';
import { seededRandom } from '../helpers/random.js';

const SEED = Number(process.env['SPLINTER_TORTURE_SEED'] || (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0);
const MESSAGES = Number(process.env['SPLINTER_TORTURE_MESSAGES'] || 1_000_000);
// A consumer restarted soon enough finds its unacknowledged messages again; one restarted later
// (a second or two at these rates) was overwritten: both happen.
const CAPACITY = 32_768;
const SLOTS = 36_000;
const MAX_VALUE = 64;
const CLAIM_TIMEOUT_MS = 200;
/** Messages per second each producer aims at (three of them): kills and a busy machine slow them, the run goes on until a million. */
const RATE = 25_000;
const KILL_EVERY_MS: [number, number] = [300, 1500];
const PRODUCE_LIMIT_MS = 100_000;
const DRAIN_LIMIT_MS = 20_000;

t.setTimeout(180_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const random = seededRandom;

t.test(`stream torture: producers and consumers, ours and C, SIGKILLed at random until ${MESSAGES} messages (seed ${SEED})`, async (t) => {
  t.comment(`replay with SPLINTER_TORTURE_SEED=${SEED}`);
  const rand = random(SEED);
  const name = shmName(t, 'stream-torture');
  const store = Store.create(name, { slots: SLOTS, maxValueSize: MAX_VALUE });
  t.teardown(() => store.close());
  const stream = store.stream('torture', { capacity: CAPACITY, claimTimeout: CLAIM_TIMEOUT_MS });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `splinter-torture-${process.pid}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  const failures: string[] = [];
  let producerIds = 0;
  const run: Run = {
    store: name,
    stream: stream.name,
    capacity: CAPACITY,
    claimTimeoutMs: CLAIM_TIMEOUT_MS,
    nextProducerId: () => ++producerIds,
    head: () => Number(stream.head()),
    fail: (what) => failures.push(what),
  };
  const ourProducers = [1, 2].map((k) => {
    const log = path.join(dir, `producer-${k}.log`);
    return new ChildRole(`ts-producer-${k}`, true, run, log, () => [String(run.nextProducerId()), log, String(RATE)]);
  });
  const ourConsumers = [1, 2].map((k) => {
    const log = path.join(dir, `consumer-${k}.log`);
    return new ChildRole(`ts-consumer-${k}`, false, run, log, () => [`ts-${k}`, log]);
  });
  const cProducer = new CProducerRole('c-producer', run, 2000, RATE);
  const cConsumer = new CConsumerRole('c-consumer', run, 'c-1', 500);
  const roles: Role[] = [...ourProducers, cProducer, ...ourConsumers, cConsumer];
  const producers = roles.filter((r) => r.producer);
  const consumers = roles.filter((r) => !r.producer);
  // Whatever happens, nothing of ours outlives the test.
  // The store's teardown may run first (when a check throws mid-way): a child still running then
  // could leave the store's doorbell table behind, so it goes once the children are killed.
  const { dev, ino } = fs.statSync(`/dev/shm/${name}`);
  t.teardown(() => {
    roles.forEach((r) => r.kill());
    const table = `.splinter-bus-${dev}-${ino}`;
    for (const entry of fs.readdirSync('/dev/shm')) if (entry === table || entry.startsWith(`${table}.`)) fs.rmSync(`/dev/shm/${entry}`, { force: true });
  });

  // A producer killed right after its claim, made on purpose (a kill seldom lands inside an
  // append): the head counter is claimed as C claims it, through the meta's raw pointer, and the
  // seq never written. Its cell must come to every consumer as abandoned (or overwritten).
  const meta = store.rawView(`${stream.name}#s`)!.bytes;
  const headCounter = new BigUint64Array(meta.buffer, (meta.byteOffset + 16 + 7) & ~7, 1);
  const ghosts: number[] = [];

  const began = performance.now();
  for (const role of roles) role.start();
  // The head counts claims, abandoned ones too: a little over the target, the check below makes sure.
  const stopAt = MESSAGES + 2 * CAPACITY;
  // Once, a consumer of ours is kept down until the producers have lapped its position, so that
  // every run restarts one far behind (random kills alone seldom keep one down that long).
  const laggard = ourConsumers[1]!;
  const lagFrom = Math.floor(stopAt / 3);
  let lagUntil: number | undefined;
  while (Number(stream.head()) < stopAt && performance.now() - began < PRODUCE_LIMIT_MS && failures.length === 0) {
    await sleep(KILL_EVERY_MS[0] + rand() * (KILL_EVERY_MS[1] - KILL_EVERY_MS[0]));
    if (lagUntil === undefined && Number(stream.head()) >= lagFrom && laggard.up) {
      laggard.kill();
      lagUntil = Number(stream.consumer('ts-2').acknowledged()) + CAPACITY + CAPACITY / 4;
    } else if (lagUntil !== undefined && lagUntil !== Infinity && Number(stream.head()) > lagUntil) {
      laggard.start();
      lagUntil = Infinity;
    }
    // Only a process that is up: a kill while it still loads would test nothing.
    const up = roles.filter((r) => r.up && !(r === laggard && lagUntil !== Infinity));
    const victim = up[Math.floor(rand() * up.length)];
    if (victim !== undefined) {
      victim.kill();
      victim.start();
    }
    if (rand() < 0.25) ghosts.push(Number(Atomics.add(headCounter, 0, 1n)) + 1);
  }
  const produceSeconds = (performance.now() - began) / 1000;
  await Promise.all(producers.map((r) => r.stop()));
  if (lagUntil !== Infinity) {
    failures.push(`the laggard consumer was not restarted far behind (head ${stream.head()}, held down until ${lagUntil})`);
    if (!laggard.up) laggard.start();
  }
  // One last claim never written, after the producers: no later lap can overwrite it, so every
  // consumer must come to it and be told it was abandoned.
  ghosts.push(Number(Atomics.add(headCounter, 0, 1n)) + 1);
  const head = Number(stream.head());

  // Drain: every consumer reaches the head (dead producers' claims are declared abandoned meanwhile).
  // A failure to read an ack ends the drain as a failure of the run, reported with the others (a child's crash may be its cause).
  const ackOf = (role: Role): number => {
    if (role === cConsumer) return cConsumer.acked;
    try {
      return Number(stream.consumer(`ts-${ourConsumers.indexOf(role as ChildRole) + 1}`).acknowledged());
    } catch (error) {
      failures.push(`reading ${role.label}'s acknowledged seq: ${String(error)}`);
      return 0;
    }
  };
  const drainBegan = performance.now();
  while (consumers.some((r) => ackOf(r) < head) && performance.now() - drainBegan < DRAIN_LIMIT_MS && failures.length === 0) await sleep(100);
  const acks = consumers.map((r) => ({ who: r.label, ack: ackOf(r) }));
  await Promise.all(consumers.map((r) => r.stop()));
  const finalAcks = consumers.map(ackOf);
  t.same(failures, [], 'no process crashed, no peer command failed');
  t.same(acks.filter((a) => a.ack < head), [], `every consumer caught up with the head (${head}) once the producers stopped`);

  // The last lap, read from the cells: each claimed seq resolved, each message whole.
  const ledger = new Ledger(head, CAPACITY);
  const check = newTortureCheck();
  for (let seq = Math.max(1, head - CAPACITY + 1); seq <= head; seq++) {
    const event = stream.read(seq);
    if (event?.kind === 'message' && event.value instanceof Uint8Array && verifyTorture(event.value, event.value.length, MAX_VALUE, check)) {
      ledger.message(seq, check.seq, 'cells');
    } else if (event?.kind === 'gap' && event.reason === 'abandoned') {
      ledger.abandoned.add(seq);
    } else {
      ledger.problem('every seq of the last lap is a whole message or abandoned', { seq, event });
    }
  }
  const ours = ourConsumers.map((role, k) => auditOurConsumer(ledger, role.label, role.log, finalAcks[k]!));
  const c = auditCConsumer(ledger, cConsumer, finalAcks[2]!);
  const timedOut = producerTimeouts(ourProducers.map((r) => r.log));
  const killedRounds = cProducer.killedRoundsMs.reduce((sum, ms) => sum + 1 + Math.floor(ms / CLAIM_TIMEOUT_MS), 0);
  const allowance = ourProducers.reduce((sum, r) => sum + r.kills, 0) + killedRounds + cProducer.reportedTimeouts;
  const { unexplained } = ledger.finish(timedOut, ghosts, allowance);

  t.same(Object.fromEntries(ledger.problems), {}, 'every check of the logs held');
  // At most this many seqs were claimed and never published: the rest were appended messages.
  const published = head - timedOut.size - ghosts.length - allowance;
  t.ok(published >= MESSAGES, `at least ${MESSAGES} messages were appended (head ${head}, at most ${head - published} abandoned)`);
  t.ok(ledger.abandoned.has(head), `claims never written were declared abandoned and reported (${ghosts.length} made, the last one at the head)`);
  t.ok(ledger.overwrittenGaps > 0, 'consumers restarted far behind were told what they lost');
  t.comment(
    [
      `produced for ${produceSeconds.toFixed(1)} s, whole run ${((performance.now() - began) / 1000).toFixed(1)} s; head ${head}`,
      `kills: ${roles.map((r) => `${r.label} ${r.kills}`).join(', ')}`,
      `our consumers: ${ours.map((o) => `${o.incarnations} incarnations, ${o.batches} batches`).join('; ')}`,
      `C consumer: ${c.rounds} rounds, ${c.compared} compared with ours, ${c.unanswered} killed between its ack and its answer`,
      `delivered ${ledger.delivered} (${ledger.redelivered} again after a restart); overwritten gaps ${ledger.overwrittenGaps} (${ledger.overwrittenSeqs} seqs)`,
      `abandoned ${ledger.abandoned.size}: ${ghosts.length} claims never written, ${timedOut.size} timed out in a live producer, ${unexplained} of killed producers (at most ${allowance})`,
      `C producer: ${cProducer.appended} appended in answered rounds, ${cProducer.reportedTimeouts} timeouts`,
    ].join('\n'),
  );
});
