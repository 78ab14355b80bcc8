/**
 * Two processes creating one stream at once, then each appending at once: both messages are
 * there and the head counts both. The second creator finds the first one's cells; it may reset a
 * cell only while no meta exists, looked at under the cell's lock, since once the meta exists a
 * producer may have published into that cell (a reset used to wipe seq 1, which was then
 * declared abandoned though its append had returned 1n).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');

t.test('two creators at once: both appended messages are readable', async (t) => {
  const rounds = 400;
  const capacity = 48;
  const target = shmName(t, 'stream');
  const store = Store.create(target, { slots: 24_000, maxValueSize: 64 });
  t.teardown(() => store.close());
  store.setBigUint('barrier', 0n);
  const runs = ['a', 'b'].map(
    (who) =>
      new Promise<string>((resolve) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', path.join(children, 'creator.ts'), target, String(rounds), String(capacity), who, 'racing']);
        let out = '';
        proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        proc.once('exit', () => resolve(out.trim()));
      }),
  );
  for (const out of await Promise.all(runs)) t.same(JSON.parse(out), { errors: [] });
  let wiped = 0;
  let heads = 0;
  for (let r = 0; r < rounds; r++) {
    const stream = store.stream(`race${r}`);
    const seqs = [stream.read(1), stream.read(2)].map((e) => (e === undefined ? 'unpublished' : e.kind === 'message' ? String(e.value) : e.kind));
    if (stream.head() !== 2n) heads++;
    if ([...seqs].sort().join() !== 'a,b') {
      wiped++;
      t.comment(`round ${r}: head ${stream.head()}, seq 1: ${seqs[0]}, seq 2: ${seqs[1]}`);
    }
  }
  t.equal(heads, 0, `in each of ${rounds} rounds the head counts both appends`);
  t.equal(wiped, 0, `in each of ${rounds} rounds both messages are there`);
});
