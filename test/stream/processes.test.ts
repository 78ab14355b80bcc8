/**
 * Streams across processes and threads: a child process appending to a waiting subscriber, a
 * durable consumer killed and started again, three producer processes against two subscriber
 * processes, two processes creating one stream at once, and a worker thread on a shared store.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { Store } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';
import { message, take, within } from './helpers.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');

interface Child {
  process: ChildProcessWithoutNullStreams;
  /** The child's next stdout line. */
  line(what: string, ms?: number): Promise<string>;
  exited: Promise<number | null>;
}

/** Starts `node --import tsx children/<script>` (a process the test may kill); killed at teardown. */
function child(t: Test, script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(children, script), ...args], { stdio: 'pipe' });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return {
    process: proc,
    exited,
    async line(what, ms = 60_000) {
      const next = await within(lines.next(), `${script}: ${what}`, ms);
      if (next.done === true) throw new Error(`${script} ended before ${what} (${proc.exitCode}): ${stderr.trim()}`);
      return next.value;
    },
  };
}

t.test('a child process appends while a subscriber here waits: every message, in order', async (t) => {
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  const log = store.stream('log', { capacity: 16 });
  const events = log.subscribe({ from: 1 });
  const first = events.next();
  const appender = child(t, 'appender.ts', [target, 'log', '40', '5']);
  const got = [(await within(first, 'the first message from the child', 60_000)).value, ...(await take(events, 39))];
  t.same(got, Array.from({ length: 40 }, (_, i) => message(i + 1, 'text', `child ${i + 1}`)), 'the 40 messages, in seq order');
  t.same(JSON.parse(await appender.line('its report')), { last: '40' });
  t.equal(await appender.exited, 0);
  await events.return!();
});

t.test('a durable consumer killed after acknowledging some resumes in a new process at ack + 1', async (t) => {
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  const log = store.stream('jobs', { capacity: 32 });
  for (let i = 1; i <= 20; i++) log.append(`job ${i}`);
  const first = child(t, 'durable.ts', [target, 'jobs', 'worker', '7', '12', 'hang']);
  const firstSeen: Array<{ seq: string; acked: boolean }> = [];
  for (let i = 0; i < 12; i++) firstSeen.push(JSON.parse(await first.line(`message ${i + 1}`)) as { seq: string; acked: boolean });
  t.equal(await first.line('holding'), 'holding');
  t.same(
    firstSeen.map((m) => [m.seq, m.acked]),
    Array.from({ length: 12 }, (_, i) => [String(i + 1), i + 1 <= 7]),
    'the first consumer saw 1..12 and acknowledged 1..7',
  );
  t.equal(log.consumer('worker').acknowledged(), 7n, 'its acknowledgement is in the store');
  first.process.kill('SIGKILL');
  await first.exited;
  const second = child(t, 'durable.ts', [target, 'jobs', 'worker', '1000', '13', 'exit']);
  const secondSeen: Array<{ seq: string; value: string }> = [];
  for (let i = 0; i < 13; i++) secondSeen.push(JSON.parse(await second.line(`message ${i + 1}`)) as { seq: string; value: string });
  t.same(
    secondSeen.map((m) => [m.seq, m.value]),
    Array.from({ length: 13 }, (_, i) => [String(i + 8), `job ${i + 8}`]),
    'the second starts at 8: each message not acknowledged comes again (8..12), none acknowledged does',
  );
  t.equal(await second.line('holding'), 'holding');
  t.equal(await second.exited, 0);
  t.equal(log.consumer('worker').acknowledged(), 20n, 'it acknowledged everything');
});

t.test('three producer processes, two subscriber processes: every seq once, in order, every payload once', async (t) => {
  const producers = 3;
  const per = 20_000;
  const total = producers * per;
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots: 70_000, maxValueSize: 64 });
  t.teardown(() => store.close());
  store.stream('busy', { capacity: 65_536 });
  const tallies = [0, 1].map(() => child(t, 'tally.ts', [target, 'busy', String(total), String(producers), String(per)]));
  for (const tally of tallies) t.equal(await tally.line('ready'), 'ready');
  const makers = Array.from({ length: producers }, (_, p) => child(t, 'producer.ts', [target, 'busy', String(p), String(per)]));
  for (const maker of makers) t.equal(await maker.line('ready'), 'ready');
  store.set('go', '1');
  for (const maker of makers) t.same(JSON.parse(await maker.line('its report', 120_000)), { appended: per });
  for (const [i, tally] of tallies.entries()) {
    const report = JSON.parse(await tally.line('its report', 120_000)) as Record<string, unknown>;
    t.same(
      report,
      { messages: total, outOfOrder: 0, gaps: [], malformed: 0, foreign: 0, twice: 0, never: 0, producerOrder: 0, lastSeq: String(total) },
      `subscriber ${i + 1}: seqs 1..${total} each once, in order, no gap; each payload once, each producer's in its order`,
    );
  }
  t.equal(store.stream('busy').head(), BigInt(total), 'the head is the number of messages');
});

t.test('two processes creating one stream at the same moment: one meta, then both append to one head', async (t) => {
  const rounds = 60;
  const capacity = 16;
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots: 2048, maxValueSize: 64 });
  t.teardown(() => store.close());
  store.setBigUint('barrier', 0n);
  // Both create at once; each appends once both have the stream open (appends racing a creation: FAILING-create-race).
  const creators = ['a', 'b'].map((who) => child(t, 'creator.ts', [target, String(rounds), String(capacity), who, 'after']));
  for (const creator of creators) t.same(JSON.parse(await creator.line('its report', 120_000)), { errors: [] }, 'no creator failed');
  const keys = store.keys().map(String);
  let wrong = 0;
  for (let r = 0; r < rounds; r++) {
    const name = `race${r}`;
    const metas = keys.filter((key) => key === `${name}#s`).length;
    const cells = keys.filter((key) => key.startsWith(`${name}#`) && key !== `${name}#s`).length;
    const stream = store.stream(name);
    const read = [stream.read(1), stream.read(2)].map((e) => (e === undefined ? 'unpublished' : e.kind === 'message' ? String(e.value) : e.kind));
    const ok = metas === 1 && cells === capacity && stream.capacity === capacity && stream.head() === 2n && [...read].sort().join() === 'a,b';
    if (!ok) {
      wrong++;
      t.fail(`round ${r}: ${metas} meta keys, ${cells} cell keys, capacity ${stream.capacity}, head ${stream.head()}, seqs 1 and 2: ${read.join(', ')}`);
    }
  }
  t.equal(wrong, 0, `each of ${rounds} rounds: exactly one meta, ${capacity} cells, the head counts both appends, both messages kept`);
});

t.test('a worker thread attached to a createShared store receives the appends', async (t) => {
  const store = Store.createShared({ slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  const log = store.stream('log', { capacity: 16 });
  log.append('before');
  const worker = new Worker(new URL('../helpers/ts-worker.mjs', import.meta.url), {
    execArgv: [],
    workerData: { script: new URL('./children/worker-consumer.ts', import.meta.url).href, buffer: store.buffer, name: 'log', count: 6 },
  });
  const messages: unknown[] = [];
  let wake = (): void => undefined;
  worker.on('message', (m: unknown) => {
    messages.push(m);
    wake();
  });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  const arrived = (count: number): Promise<void> =>
    within(
      Promise.race([
        failed,
        new Promise<void>((resolve) => {
          wake = () => {
            if (messages.length >= count) resolve();
          };
          wake();
        }),
      ]),
      'the worker',
      60_000,
    );
  await arrived(1);
  t.equal(messages[0], 'ready', 'the worker subscribed');
  const waiting = arrived(2);
  for (let i = 1; i <= 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    log.append(`after ${i}`);
  }
  await waiting;
  t.same(messages[1], [['1', 'before'], ...Array.from({ length: 5 }, (_, i) => [String(i + 2), `after ${i + 1}`])], 'every message, appended before and after it subscribed');
  await worker.terminate();
});
