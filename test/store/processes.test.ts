/** One store, several processes and threads: what one writes, the others read. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');
const runTs = (script: string, args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', path.join(children, script), ...args], { encoding: 'utf8', timeout: 30_000 });

for (const kind of ['shm', 'file'] as const) {
  t.test(`${kind}: a store written by one Node process is read by another`, async (t) => {
    const target = kind === 'shm' ? shmName(t) : path.join(tempDir(t), 'x.spl');
    const store = Store.create(target, { slots: 32, maxValueSize: 64 });
    t.teardown(() => store.close());
    store.set('parent', 'from the parent');
    t.equal(runTs('writer.ts', [target, 'child=from the child', 'ключ=значение']).trim(), 'done');
    t.equal(store.getString('child'), 'from the child', 'the parent reads the child’s write through its own mapping');
    t.equal(store.getString('ключ'), 'значение');
    const seen = JSON.parse(runTs('reader.ts', [target, 'parent', 'child', 'missing'])) as Record<string, string | null>;
    t.same(seen, { parent: 'from the parent', child: 'from the child', missing: null }, 'another child reads both');
    t.equal(store.epoch, 4n, 'three sets across processes moved the global epoch by 3');
  });
}

t.test('SharedArrayBuffer: a store shared with a worker thread', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 64 });
  store.set('from-main', 'hello');
  store.set('counter-log', 'm');
  // execArgv: [] keeps tap's own loaders out of the worker (ts-worker.mjs registers tsx itself).
  const worker = new Worker(new URL('../helpers/ts-worker.mjs', import.meta.url), {
    execArgv: [],
    workerData: { script: pathToFileURL(path.join(children, 'worker.ts')).href, buffer: store.buffer },
  });
  const message = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.equal(message, 'done');
  t.equal(store.getString('from-worker'), 'worker saw hello', 'the worker read ours and we read its write');
  t.equal(store.getString('counter-log'), 'mw');
});
