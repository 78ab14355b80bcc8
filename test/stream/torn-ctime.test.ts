/**
 * A C producer stores a cell's ctime outside the seqlock (set_slot_time leaves the epoch alone):
 * first s | writing over s − capacity, later s. A reader that loaded ctime's two halves apart
 * could pair the old high word with the new low word and take the cell for a published s holding
 * the previous lap's value. A child flips ctime between the two as fast as it can while we read s:
 * it must never come as a message.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'ctime-flipper.ts');
const CAPACITY = 4;
const READ_MS = 1500;

t.test('a cell whose ctime C is turning to "s, writing" is never read as s published with the old value', async (t) => {
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots: 64, maxValueSize: 64 });
  t.teardown(() => store.close());
  const log = store.stream('log', { capacity: CAPACITY });
  for (let i = 1; i <= CAPACITY; i++) log.append(`lap one ${i}`);
  // Seq 5 is the next of cell 1, which holds seq 1; 5 is claimed by the "C producer" alone.
  const s = CAPACITY + 1;
  const flipper = spawn(process.execPath, ['--import', 'tsx', child, target, String(log.cells.slotByte(s % CAPACITY)), '1', String(s)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => flipper.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    flipper.stdout!.once('data', () => resolve());
    flipper.once('exit', (code) => reject(new Error(`the flipper exited with ${code}`)));
  });
  let reads = 0;
  let published = 0;
  let first: unknown;
  const until = performance.now() + READ_MS;
  while (performance.now() < until) {
    for (let k = 0; k < 1000; k++) {
      reads++;
      const event = log.read(s);
      if (event !== undefined) {
        published++;
        first ??= event;
      }
    }
    // Let the flipper have the core now and then on a busy machine (both must run at once to race).
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(published, 0, `seq ${s} never came out of ${reads} reads while its ctime was being flipped${first === undefined ? '' : ` (first: ${JSON.stringify(first, (_k, v) => (typeof v === 'bigint' ? String(v) : v))})`}`);
});
