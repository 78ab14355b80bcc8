/** Mapping routes: koffi first (nothing compiled), then the optional mmap-io addon; forced by option or SPLINTER_MAPPING. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { nativeMmapAvailable, Store } from '../../src/index.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { repoRoot, shmName, tempDir } from '../helpers/fixtures.js';
import { ROUTES, routeSkip } from '../helpers/routes.js';

t.test('koffi loads in this checkout, and is the route taken when none is asked for', async (t) => {
  t.equal(nativeMmapAvailable(), true);
  const saved = process.env['SPLINTER_MAPPING'];
  delete process.env['SPLINTER_MAPPING'];
  t.teardown(() => (saved === undefined ? undefined : (process.env['SPLINTER_MAPPING'] = saved)));
  const store = Store.create(shmName(t), { slots: 4, maxValueSize: 16 });
  t.teardown(() => store.close());
  t.equal(store.mapping, 'koffi');
  t.equal(Store.createShared({ slots: 2, maxValueSize: 8 }).mapping, undefined, 'a SharedArrayBuffer store maps nothing');
});

for (const mapping of ROUTES) {
  t.test(`the ${mapping} route, asked for by option and by SPLINTER_MAPPING`, { skip: routeSkip(mapping) }, async (t) => {
    const name = shmName(t);
    const a = Store.create(name, { slots: 4, maxValueSize: 16 }, { mapping });
    t.teardown(() => a.close());
    t.equal(a.mapping, mapping, 'the option');
    const saved = process.env['SPLINTER_MAPPING'];
    process.env['SPLINTER_MAPPING'] = mapping;
    t.teardown(() => (saved === undefined ? delete process.env['SPLINTER_MAPPING'] : (process.env['SPLINTER_MAPPING'] = saved)));
    const b = Store.open(name);
    t.teardown(() => b.close());
    t.equal(b.mapping, mapping, 'the environment variable');
    a.set('k', `via ${mapping}`);
    t.equal(b.getString('k'), `via ${mapping}`, 'two mappings of one store see each other');
  });
}

t.test('a bad route name is EINVAL naming where it came from', async (t) => {
  const file = path.join(tempDir(t), 's.spl');
  const byOption = throwsCode(t, () => Store.create(file, { slots: 2, maxValueSize: 8 }, { mapping: 'mmap' as 'koffi' }), 'EINVAL', 'option');
  t.match(byOption?.message, /the mapping option is one of 'koffi', 'mmap-io', received "mmap"/);
  const saved = process.env['SPLINTER_MAPPING'];
  process.env['SPLINTER_MAPPING'] = 'ffi';
  t.teardown(() => (saved === undefined ? delete process.env['SPLINTER_MAPPING'] : (process.env['SPLINTER_MAPPING'] = saved)));
  const byEnv = throwsCode(t, () => Store.create(file, { slots: 2, maxValueSize: 8 }), 'EINVAL', 'environment');
  t.match(byEnv?.message, /SPLINTER_MAPPING is one of 'koffi', 'mmap-io', received "ffi"/);
  t.equal(fs.existsSync(file), false, 'nothing was created');
});

/** Runs a probe in a copy of src/ placed where `hidden` packages cannot be resolved (the others are linked in). */
function probeInCopy(t: Test, visible: string[], body: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir(t);
  fs.cpSync(path.join(repoRoot, 'src'), path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  for (const name of visible) {
    const from = path.join(repoRoot, 'node_modules', name);
    fs.mkdirSync(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true });
    fs.symlinkSync(from, path.join(dir, 'node_modules', name));
  }
  // koffi finds its prebuilt binary in its platform package, a sibling under node_modules.
  if (visible.includes('koffi')) fs.symlinkSync(path.join(repoRoot, 'node_modules', '@koromix'), path.join(dir, 'node_modules', '@koromix'));
  const script = path.join(dir, 'probe.ts');
  fs.writeFileSync(
    script,
    `import { Store, nativeMmapAvailable, isSplinterError } from './src/index.js';
let error: unknown; let mapping: string | undefined;
try { const s = Store.create('splinter-probe-${process.pid}', { slots: 4, maxValueSize: 16 }); mapping = s.mapping; s.close(); Store.unlink('splinter-probe-${process.pid}'); } catch (e) { error = e; }
${body}
console.log(JSON.stringify({ available: nativeMmapAvailable(), mapping, code: isSplinterError(error) ? error.code : String(error), message: error instanceof Error ? error.message : '' }));
`,
  );
  // cwd is the checkout so `--import tsx` resolves; the copy sees only what was linked in.
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, SPLINTER_MAPPING: '', ...env } });
  return JSON.parse(out) as { available: boolean; mapping?: string; code: string; message: string; shared?: string };
}

t.test('with neither koffi nor mmap-io: SharedArrayBuffer stores work, shm/file stores say to install koffi', async (t) => {
  const out = probeInCopy(t, [], `const shared = Store.createShared({ slots: 4, maxValueSize: 16 }); shared.set('k', 'works'); if (shared.getString('k') !== 'works') throw new Error('shared');`);
  t.equal(out.available, false, 'no route is found from the copy');
  t.equal(out.code, 'ENOTSUP', 'shm/file stores fail with ENOTSUP');
  t.match(out.message, /npm install koffi \(prebuilt: no compiler needed\)/, 'the message says what to install, and that it needs no compiler');
  t.notMatch(out.message, /python3|C\+\+/, 'it does not send the user to a compiler');
  t.match(out.message, /createShared/, 'and what works without it');
  t.equal(fs.existsSync(`/dev/shm/splinter-probe-${process.pid}`), false, 'no half-created object is left');
});

t.test('with koffi alone: the koffi route; asking for mmap-io is ENOTSUP saying what to install', async (t) => {
  const out = probeInCopy(t, ['koffi'], '');
  t.equal(out.mapping, 'koffi');
  const forced = probeInCopy(t, ['koffi'], '', { SPLINTER_MAPPING: 'mmap-io' });
  t.equal(forced.code, 'ENOTSUP');
  t.match(forced.message, /the 'mmap-io' mapping route was asked for and cannot be loaded here .*npm install @riaskov\/mmap-io/);
  t.equal(fs.existsSync(`/dev/shm/splinter-probe-${process.pid}`), false, 'no half-created object is left');
});

t.test('with mmap-io alone: the mmap-io route; asking for koffi is ENOTSUP saying what to install', { skip: routeSkip('mmap-io') }, async (t) => {
  const out = probeInCopy(t, ['@riaskov'], '');
  t.equal(out.code, 'undefined', 'opens');
  t.equal(out.mapping, 'mmap-io');
  const forced = probeInCopy(t, ['@riaskov'], '', { SPLINTER_MAPPING: 'koffi' });
  t.equal(forced.code, 'ENOTSUP');
  t.match(forced.message, /the 'koffi' mapping route was asked for and cannot be loaded here .*npm install koffi/);
});
