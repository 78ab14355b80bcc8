/** CommonJS: a .cjs file require()s 'splinter-ts' (Node's require of ES modules), in a child process. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { distStaleness } from '../helpers/dist.js';
import { repoRoot, shmName } from '../helpers/fixtures.js';
import { asHex, peerReads } from './consumer/peer-reads.js';

t.test("require('splinter-ts') from CommonJS", async (t) => {
  const stale = distStaleness();
  t.equal(stale, undefined, 'dist/ is built from the current sources');
  if (stale !== undefined) return;
  const name = shmName(t, 'cjs');
  const env = { ...process.env };
  delete env['NODE_OPTIONS']; // no loader of tap's: what a user's `node` has
  // The script sits inside the package, so 'splinter-ts' resolves to the package itself (dist/).
  const script = path.join(repoRoot, 'test', 'package', 'consumer', 'require-stores.cjs');
  const report = JSON.parse(execFileSync(process.execPath, [script, name], { cwd: repoRoot, env, encoding: 'utf8' })) as {
    sab: unknown;
    badGeometry: unknown;
    shm: { ok: boolean; keys?: string[]; code?: string; message?: string };
  };
  t.same(report.sab, { isShared: true, readBack: 'set through one handle' }, 'a SharedArrayBuffer store, shared by two handles');
  t.same(report.badGeometry, { thrown: true, isSplinterError: true, code: 'EINVAL' }, 'bad input: a SplinterError, the class the script required');
  t.same(report.shm, { ok: true, keys: ['cjs/key'] }, 'an shm store');
  if (!report.shm.ok) return;
  t.same(await peerReads(name, ['cjs/key']), asHex({ 'cjs/key': 'required from CommonJS' }), 'the C peer reads what it wrote');
});
