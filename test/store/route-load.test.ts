/**
 * Loading a mapping route when the process is short of file descriptors: the first open is EMFILE
 * saying so, not "npm install koffi", and the failure is not remembered, so the next open works.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');

t.test('a shortage of file descriptors at the first open is EMFILE, and the next open works', async (t) => {
  const name = shmName(t, 'emfile');
  Store.create(name, { slots: 16, maxValueSize: 64 }).close();
  const out = execFileSync('sh', ['-c', 'ulimit -n 256 && exec "$@"', 'sh', process.execPath, '--import', 'tsx', path.join(children, 'emfile-open.ts'), name], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const { first, second } = JSON.parse(out) as { first: string; second: string };
  t.match(first, /^EMFILE: .*too many open files/i, 'the first open says what happened');
  t.notMatch(first, /npm install/, 'and not that a package is missing');
  t.equal(second, 'ok', 'once descriptors are free again, the same process opens the store');
});
