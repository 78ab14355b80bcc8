/** The README's command-line quick start runs as written (npx splinter …) and prints what the README says. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { distStaleness } from '../helpers/dist.js';
import { repoRoot } from '../helpers/fixtures.js';
import { cliEnv } from './helpers.js';

t.setTimeout(600_000); // many CLI processes: minutes on a loaded machine

t.test('README command-line quick start', async (t) => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Command line'));
  const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  const expected = /prints\n\n```\n([\s\S]*?)```/.exec(section)?.[1];
  t.ok(script, 'the section has a sh block');
  t.ok(expected, 'and says what it prints');
  const commands = script!.trim().split('\n');
  t.same(
    commands.filter((c) => c.startsWith('npx splinter')).map((c) => c.replace(/^npx splinter /, '').split(' ')[0]),
    ['init', 'set', 'get', 'head', 'list', 'unset'],
    'the sequence the issue asks for',
  );

  // The store's name is made unique to this run; everything else runs as written, through npx.
  const name = `readme-cli-${process.pid}`;
  const unique = (text: string): string => text.replace(/\bdemo\b/g, name);
  t.teardown(() => {
    try {
      Store.unlink(name);
    } catch {
      // the quick start did not get as far as creating it
    }
  });
  // The checkout's own launcher, which runs dist/ as `npm ci` (prepare) and `npm test` build it.
  const stale = distStaleness();
  t.equal(stale, undefined, 'dist/ is built from the current sources');
  if (stale !== undefined) return;
  const env = cliEnv();
  const run = spawnSync('bash', ['-eo', 'pipefail', '-c', unique(script!)], { cwd: repoRoot, env, encoding: 'utf8', timeout: 240_000 });
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout, unique(expected!));
  const store = Store.open(name);
  t.teardown(() => store.close());
  t.same(store.keys(), [], 'the quick start leaves the store empty');
});
