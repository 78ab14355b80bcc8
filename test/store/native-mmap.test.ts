/** The native addon is optional: without it the library imports, SharedArrayBuffer stores work, shm/file stores explain. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { nativeMmapAvailable } from '../../src/index.js';
import { repoRoot, tempDir } from '../helpers/fixtures.js';

t.test('the addon loads in this checkout', async (t) => {
  t.equal(nativeMmapAvailable(), true);
});

t.test('a copy of the library where @riaskov/mmap-io cannot be resolved', async (t) => {
  const dir = tempDir(t);
  fs.cpSync(path.join(repoRoot, 'src'), path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  const script = path.join(dir, 'probe.ts');
  fs.writeFileSync(
    script,
    `import { Store, nativeMmapAvailable, isSplinterError } from './src/index.js';
const shared = Store.createShared({ slots: 4, maxValueSize: 16 });
shared.set('k', 'works');
let error: unknown;
try { Store.create('splinter-no-addon-${process.pid}', { slots: 4, maxValueSize: 16 }); } catch (e) { error = e; }
console.log(JSON.stringify({
  available: nativeMmapAvailable(),
  shared: shared.getString('k'),
  code: isSplinterError(error) ? error.code : String(error),
  message: error instanceof Error ? error.message : '',
}));
`,
  );
  // cwd is the checkout so `--import tsx` resolves; the copy itself sees no node_modules.
  const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8' })) as {
    available: boolean;
    shared: string;
    code: string;
    message: string;
  };
  t.equal(out.available, false, 'the addon is not found from the copy');
  t.equal(out.shared, 'works', 'SharedArrayBuffer stores work without it');
  t.equal(out.code, 'ENOTSUP', 'shm/file stores fail with ENOTSUP');
  t.match(out.message, /npm install @riaskov\/mmap-io/, 'the message says what to install');
  t.match(out.message, /createShared/, 'and what works without it');
  t.equal(fs.existsSync(`/dev/shm/splinter-no-addon-${process.pid}`), false, 'no half-created object is left');
});
