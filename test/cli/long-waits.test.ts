/**
 * `watch --timeout` and `doctor --wait` past 2^31 − 1 ms wait as long as asked: a single Node
 * timer that long fires after 1 ms, which ended a watch at once and made doctor's two samples
 * 2 ms apart (so --repair could have cleared a live writer's slot).
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { HEADER, SLOT, SLOT_SIZE } from '../../src/layout/constants.js';
import { Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { cli, cliAsync, type CliResult } from './helpers.js';

t.setTimeout(300_000);

/** Long enough for a child to start and, on the old code, to have exited at once, even on a loaded machine. */
const STILL_RUNNING_AFTER_MS = 4000;

async function stillRunning(run: Promise<CliResult>): Promise<boolean> {
  let exited = false;
  void run.then(() => (exited = true));
  await new Promise((resolve) => setTimeout(resolve, STILL_RUNNING_AFTER_MS));
  return !exited;
}

/**
 * Sets k every 50 ms until the watch prints a change (a child may take seconds to start on a
 * loaded machine): false when it exited first.
 */
async function watching(run: ReturnType<typeof cliAsync>, name: string): Promise<boolean> {
  let exited = false;
  void run.then(() => (exited = true));
  const store = Store.open(name);
  try {
    for (let round = 0; !exited && round < 1200; round++) {
      store.set('k', `v${round}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (run.stdoutSoFar() !== '') return true;
    }
    return false;
  } finally {
    store.close();
  }
}

for (const timeout of ['2147483648', '3000000000']) {
  t.test(`watch --timeout ${timeout} keeps watching`, async (t) => {
    const name = shmName(t, 'longwatch');
    Store.create(name, { slots: 16, maxValueSize: 64 }).close();
    const run = cliAsync(['watch', 'k', '--timeout', timeout], { env: { SPLINTER_STORE: name } });
    t.ok(await watching(run, name), 'the watch printed a change: it runs, its Ctrl-C handler in place');
    t.ok(await stillRunning(run), `still watching after ${STILL_RUNNING_AFTER_MS} ms`);
    run.kill('SIGINT');
    const result = await run;
    t.equal(result.code, 0, `Ctrl-C ends a watch with exit 0: ${result.stderr}`);
  });
}

t.test('watch --timeout still ends a watch that sees nothing', async (t) => {
  const name = shmName(t, 'shortwatch');
  Store.create(name, { slots: 16, maxValueSize: 64 }).close();
  const result = cli(['watch', 'k', '--timeout', '200'], { env: { SPLINTER_STORE: name } });
  t.equal(result.code, 1);
  t.match(result.stderr, /watch: no change within 200 ms/);
});

t.test('doctor --wait 2147483648 waits between its samples', async (t) => {
  const file = path.join(tempDir(t), 'store.spl');
  const store = Store.create(file, { slots: 16, maxValueSize: 32 });
  store.set('busy', 'value');
  const index = store.slotSnapshot('busy')!.index;
  store.close();
  // An odd epoch: a writer inside the seqlock (alive or not), which doctor samples twice.
  const bytes = fs.readFileSync(file);
  bytes.writeBigUInt64LE(7n, HEADER.size + index * SLOT_SIZE + SLOT.epoch);
  fs.writeFileSync(file, bytes);
  const run = cliAsync(['doctor', file, '--wait', '2147483648', '--repair']);
  t.ok(await stillRunning(run), `still between its samples after ${STILL_RUNNING_AFTER_MS} ms`);
  run.kill('SIGKILL');
  await run;
  const epoch = fs.readFileSync(file).readBigUInt64LE(HEADER.size + index * SLOT_SIZE + SLOT.epoch);
  t.equal(epoch, 7n, '--repair never ran: the slot is as the writer left it');
});
