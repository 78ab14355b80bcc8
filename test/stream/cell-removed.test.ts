/**
 * A stream's cell removed while a subscription waits (another process dropped the stream, or
 * unset one of its keys: hostile store contents): the bus waiter's wake reads the cell, finds the
 * key gone, and the pending next() rejects with ENOENT; nothing is thrown into the waiter, and the
 * process goes on (it used to die of an uncaught exception).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { shmName } from '../helpers/fixtures.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'cell-removed-child.ts');

for (const kind of ['shared', 'shm']) {
  t.test(`${kind} store: a cell removed under a waiting subscription rejects next() with ENOENT, no crash`, async (t) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', child, kind, shmName(t)], { encoding: 'utf8', timeout: 60_000 });
    t.equal(run.status, 0, `the process survives (stderr: ${run.stderr.split('\n').find((line) => line.includes('Error')) ?? ''})`);
    t.same(JSON.parse(run.stdout.trim() || '{}'), { ended: 'rejected ENOENT' }, 'the waiting next() rejects with ENOENT');
  });
}
