/**
 * A head counter past 2^53 − 1 (hostile store bytes: the counter is any process's u64) is refused
 * with ECORRUPT by head() and append(), at once: never a seq it did not claim, never a hang (at
 * 2^64 − 1 the seq and its previous lap used to round to one double, and append waited for good).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'huge-head-child.ts');

for (const head of [2n ** 53n, 2n ** 60n, 2n ** 64n - 1n]) {
  t.test(`a head counter of ${head}: head() and append() fail with ECORRUPT, without hanging`, async (t) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', child, String(head)], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    t.not(run.signal, 'SIGKILL', 'the calls ended');
    t.same(JSON.parse(run.stdout.trim() || '{}'), { head: 'threw ECORRUPT', append: 'threw ECORRUPT' }, run.stderr);
  });
}
