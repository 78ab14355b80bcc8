/**
 * The README's quick start runs as written, importing 'splinter-ts' by name from the checkout (the
 * package resolves itself through its "exports", to dist/), and prints what the README says it prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { distStaleness } from './helpers/dist.js';
import { runInCheckout } from './helpers/checkout.js';
import { repoRoot } from './helpers/fixtures.js';

t.test('README quick start', async (t) => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const quickStart = readme.slice(readme.indexOf('## Quick start'));
  const code = /```ts\n([\s\S]*?)```/.exec(quickStart)?.[1];
  const expected = /prints\n\n```\n([\s\S]*?)```/.exec(quickStart)?.[1];
  t.ok(code, 'the quick start has a ts block');
  t.ok(expected, 'and says what it prints');
  t.match(code, /^import \{ Store \} from 'splinter-ts';\n/, 'it imports the package by name');

  const stale = distStaleness();
  t.equal(stale, undefined, 'dist/ is built from the current sources (npm ci and npm test build it)');
  if (stale !== undefined) return;
  t.equal(runInCheckout("console.log(import.meta.resolve('splinter-ts'))"), `${pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href}\n`, "'splinter-ts' is dist/index.js");

  // Only the store's name is made unique to this run.
  const name = `quickstart-readme-${process.pid}`;
  t.teardown(() => fs.rmSync(`/dev/shm/${name}`, { force: true }));
  t.equal(runInCheckout(code!.replaceAll('quickstart-demo', name)), expected);
  t.equal(fs.existsSync(`/dev/shm/${name}`), false, 'the quick start cleans up after itself');
});
