/** docs/bridge.md's ts block runs as written (against a Redis of the test's own) and prints what the doc says. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot, tempDir } from '../helpers/fixtures.js';
import { RedisServer } from './helpers.js';

t.test('docs/bridge.md example', async (t) => {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'bridge.md'), 'utf8');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  t.equal(blocks.length, 1, 'one ts block (the others are not TypeScript to run)');
  const expected = /prints `([^`]*)`/.exec(doc)?.[1];
  t.ok(expected, 'the doc says what it prints');
  const redis = await RedisServer.start(t);
  const names = ['bridge-demo-east', 'bridge-demo-west'].map((name) => [name, `${name}-${process.pid}`] as const);
  let code = blocks[0]!.replace("from 'splinter-ts'", `from ${JSON.stringify(path.join(repoRoot, 'src', 'index.js'))}`).replace('redis://127.0.0.1:6379', redis.url);
  for (const [name, unique] of names) code = code.replaceAll(`'${name}'`, `'${unique}'`);
  const script = path.join(tempDir(t), 'bridge-example.mts');
  fs.writeFileSync(script, code);
  t.teardown(() => {
    for (const [, unique] of names) fs.rmSync(`/dev/shm/${unique}`, { force: true });
  });
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  t.equal(out.trim(), expected);
  for (const [, unique] of names) t.equal(fs.existsSync(`/dev/shm/${unique}`), false, 'the example cleans up after itself');
});
