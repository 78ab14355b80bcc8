/** The CLI's raw reader (cli/scan.ts): the header it decodes from the file's bytes, and a file cut short after it was opened. */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { checkGeometry, RawStore } from '../../src/cli/scan.js';
import { Store } from '../../src/index.js';
import { tempDir } from '../helpers/fixtures.js';

t.test('the raw header is the header the library reads', async (t) => {
  const file = path.join(tempDir(t), 'store.spl');
  using store = Store.create(file, { slots: 16, maxValueSize: 64 });
  store.set('k', 'v');
  store.flush();
  const raw = RawStore.open(file);
  t.teardown(() => raw.close());
  t.same(raw.header(), store.headerSnapshot());
});

t.test('a file cut short after it was opened: no header, reported as truncated', async (t) => {
  const file = path.join(tempDir(t), 'store.spl');
  Store.create(file, { slots: 16, maxValueSize: 64 }).close();
  const raw = RawStore.open(file);
  t.teardown(() => raw.close());
  fs.truncateSync(file, 100);
  t.equal(raw.header(), undefined, 'the short read gives no header (not a RangeError)');
  const check = checkGeometry(raw.size, raw.header(), file);
  t.equal(check.ok, false);
  t.equal(!check.ok && check.kind, 'truncated');
});
