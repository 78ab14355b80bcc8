/** One store, several processes and threads: what one writes, the others read. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { ROUTES, routeSkip } from '../helpers/routes.js';
import { finishTsWorker, startTsWorker } from '../helpers/ts-worker.js';
import type { MappingRouteName } from '../../src/store/backing/mapping/index.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');
// The children map through the same route as the parent (SPLINTER_MAPPING).
const runTs = (script: string, args: string[], mapping: MappingRouteName): string =>
  execFileSync(process.execPath, ['--import', 'tsx', path.join(children, script), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, SPLINTER_MAPPING: mapping },
  });

for (const mapping of ROUTES) {
  for (const kind of ['shm', 'file'] as const) {
    const skip = routeSkip(mapping);
    t.test(`${kind}/${mapping}: a store written by one Node process is read by another`, { skip }, async (t) => {
      const target = kind === 'shm' ? shmName(t) : path.join(tempDir(t), 'x.spl');
      const store = Store.create(target, { slots: 32, maxValueSize: 64 }, { mapping });
      t.equal(store.mapping, mapping);
      t.teardown(() => store.close());
      store.set('parent', 'from the parent');
      t.equal(runTs('writer.ts', [target, 'child=from the child', 'ключ=значение'], mapping).trim(), 'done');
      t.equal(store.getString('child'), 'from the child', 'the parent reads the child’s write through its own mapping');
      t.equal(store.getString('ключ'), 'значение');
      const seen = JSON.parse(runTs('reader.ts', [target, 'parent', 'child', 'missing'], mapping)) as Record<string, string | null>;
      t.same(seen, { parent: 'from the parent', child: 'from the child', missing: null }, 'another child reads both');
      t.equal(store.epoch, 4n, 'three sets across processes moved the global epoch by 3');
    });
  }
}

t.test('SharedArrayBuffer: a store shared with a worker thread', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 64 });
  store.set('from-main', 'hello');
  store.set('counter-log', 'm');
  const message = await finishTsWorker(startTsWorker(pathToFileURL(path.join(children, 'worker.ts')).href, { buffer: store.buffer }));
  t.equal(message, 'done');
  t.equal(store.getString('from-worker'), 'worker saw hello', 'the worker read ours and we read its write');
  t.equal(store.getString('counter-log'), 'mw');
});
