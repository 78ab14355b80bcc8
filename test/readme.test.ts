/** The README's quick start runs as written and prints what the README says it prints. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot, tempDir } from './helpers/fixtures.js';

t.test('README quick start', async (t) => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const quickStart = readme.slice(readme.indexOf('## Quick start'));
  const code = /```ts\n([\s\S]*?)```/.exec(quickStart)?.[1];
  const expected = /prints\n\n```\n([\s\S]*?)```/.exec(quickStart)?.[1];
  t.ok(code, 'the quick start has a ts block');
  t.ok(expected, 'and says what it prints');
  const name = `quickstart-readme-${process.pid}`;
  const script = path.join(tempDir(t), 'quickstart.ts');
  const source = path.join(repoRoot, 'src', 'index.js');
  fs.writeFileSync(script, code!.replace("from 'splinter-ts'", `from ${JSON.stringify(source)}`).replaceAll('quickstart-demo', name));
  t.teardown(() => fs.rmSync(`/dev/shm/${name}`, { force: true }));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8' });
  t.equal(out, expected);
  t.equal(fs.existsSync(`/dev/shm/${name}`), false, 'the quick start cleans up after itself');
});
