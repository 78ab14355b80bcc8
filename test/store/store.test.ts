/** Opening, creating, closing and validating stores. */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { HEADER, SLOT } from '../../src/layout/constants.js';
import { Store } from '../../src/index.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { copyFixture, shmName, tempDir } from '../helpers/fixtures.js';

t.test('shm: create, reopen from another handle, unlink', async (t) => {
  const name = shmName(t);
  const a = Store.create(name, { slots: 8, maxValueSize: 32 });
  t.equal(a.target, name);
  t.ok(fs.existsSync(`/dev/shm/${name}`), 'the object is /dev/shm/NAME');
  a.set('k', 'v');
  const b = Store.open(name);
  t.equal(b.getString('k'), 'v', 'a second handle sees the first one’s write');
  b.set('k', 'w');
  t.equal(a.getString('k'), 'w', 'and the other way round');
  t.same([b.slots, b.maxValueSize, b.embeddings, b.buffer], [8, 32, false, undefined]);
  throwsCode(t, () => Store.create(name, { slots: 8, maxValueSize: 32 }), 'EEXIST', 'create is exclusive');
  a.close();
  b.close();
  Store.unlink(name);
  throwsCode(t, () => Store.open(name), 'ENOENT', 'open after unlink');
  throwsCode(t, () => Store.unlink(name), 'ENOENT', 'unlink twice');
});

t.test('file: persistent across close and reopen', async (t) => {
  const file = path.join(tempDir(t), 'store.spl');
  const store = Store.create(file, { slots: 4, maxValueSize: 16 });
  store.set('persist', 'me');
  store.flush();
  store.close();
  t.equal(fs.statSync(file).size, 5440 + 4 * 128 + 4 * 16);
  using again = Store.open(file);
  t.equal(again.getString('persist'), 'me');
});

t.test('createOrOpen and openOrCreate', async (t) => {
  const name = shmName(t);
  const g = { slots: 4, maxValueSize: 16 };
  const a = Store.openOrCreate(name, g);
  a.set('k', 'v');
  const b = Store.openOrCreate(name, g);
  t.equal(b.getString('k'), 'v', 'openOrCreate opened the existing store');
  const c = Store.createOrOpen(name, g);
  t.equal(c.getString('k'), 'v', 'createOrOpen opened the existing store');
  throwsCode(t, () => Store.createOrOpen(name, { slots: 8, maxValueSize: 16 }), 'EEXIST', 'createOrOpen with other geometry');
  throwsCode(t, () => Store.openOrCreate(name, { slots: 4, maxValueSize: 16, embeddings: true }), 'EEXIST', 'openOrCreate with other layout');
  for (const s of [a, b, c]) s.close();
  const fresh = shmName(t);
  const d = Store.createOrOpen(fresh, g);
  t.equal(d.slots, 4, 'createOrOpen created');
  d.close();
});

t.test('bad geometry and targets', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'g.spl');
  throwsCode(t, () => Store.create(file, { slots: 0, maxValueSize: 16 }), 'EINVAL', '0 slots');
  throwsCode(t, () => Store.create(file, { slots: 4, maxValueSize: 0 }), 'EINVAL', '0-byte values');
  throwsCode(t, () => Store.create(file, { slots: 1.5, maxValueSize: 16 }), 'EINVAL', 'fractional slots');
  throwsCode(t, () => Store.create(file, { slots: 1 << 20, maxValueSize: 1 << 20 }), 'EINVAL', 'over 4 GiB');
  throwsCode(t, () => Store.create(file, { slots: 4, maxValueSize: 16, embeddings: 'yes' as unknown as boolean }), 'EINVAL', 'embeddings not boolean');
  throwsCode(t, () => Store.create(file, null as unknown as { slots: number; maxValueSize: number }), 'EINVAL', 'no geometry');
  throwsCode(t, () => Store.createShared({ slots: -1, maxValueSize: 16 }), 'EINVAL', 'negative slots');
  throwsCode(t, () => Store.create('', { slots: 4, maxValueSize: 16 }), 'EINVAL', 'empty target');
  throwsCode(t, () => Store.create('..', { slots: 4, maxValueSize: 16 }), 'EINVAL', '".." as shm name');
  throwsCode(t, () => Store.open(5 as unknown as string), 'EINVAL', 'non-string target');
  throwsCode(t, () => Store.create(file, { slots: 4, maxValueSize: 16 }, { contentionBudgetMs: -1 }), 'EINVAL', 'negative budget');
  throwsCode(t, () => Store.open(path.join(dir, 'missing.spl')), 'ENOENT', 'open of a missing file');
  throwsCode(t, () => Store.open(dir), 'EINVAL', 'open of a directory');
  t.equal(fs.existsSync(file), false, 'nothing was left behind by refused creates');
});

t.test('creation refuses a planted symlink', async (t) => {
  const dir = tempDir(t);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious');
  const link = path.join(dir, 'store.spl');
  fs.symlinkSync(victim, link);
  throwsCode(t, () => Store.create(link, { slots: 4, maxValueSize: 16 }), 'EEXIST', 'symlink at the path');
  t.equal(fs.readFileSync(victim, 'utf8'), 'precious', 'the link target is untouched');
});

t.test('SPLINTER_DEFAULT_UMASK applies during creation', async (t) => {
  const dir = tempDir(t);
  const saved = process.env['SPLINTER_DEFAULT_UMASK'];
  t.teardown(() => {
    if (saved === undefined) delete process.env['SPLINTER_DEFAULT_UMASK'];
    else process.env['SPLINTER_DEFAULT_UMASK'] = saved;
  });
  process.env['SPLINTER_DEFAULT_UMASK'] = '077';
  Store.create(path.join(dir, 'private.spl'), { slots: 2, maxValueSize: 8 }).close();
  t.equal(fs.statSync(path.join(dir, 'private.spl')).mode & 0o777, 0o600, 'umask 077 → 0600');
  process.env['SPLINTER_DEFAULT_UMASK'] = '002';
  Store.create(path.join(dir, 'group.spl'), { slots: 2, maxValueSize: 8 }).close();
  t.equal(fs.statSync(path.join(dir, 'group.spl')).mode & 0o777, 0o664, 'umask 002 → 0664, wider than the process umask');
  process.env['SPLINTER_DEFAULT_UMASK'] = 'rwx';
  throwsCode(t, () => Store.create(path.join(dir, 'bad.spl'), { slots: 2, maxValueSize: 8 }), 'EINVAL', 'non-octal umask');
  delete process.env['SPLINTER_DEFAULT_UMASK'];
  const mask = process.umask();
  Store.create(path.join(dir, 'plain.spl'), { slots: 2, maxValueSize: 8 }).close();
  t.equal(fs.statSync(path.join(dir, 'plain.spl')).mode & 0o777, 0o666 & ~mask, 'otherwise the process umask');
});

/** Writes a store file whose bytes were changed by `damage`. */
function damaged(t: Test, damage: (bytes: Buffer) => Buffer): string {
  const file = copyFixture(t, 'basic-16x128');
  fs.writeFileSync(file, damage(fs.readFileSync(file)));
  return file;
}

t.test('corrupt or foreign files are refused with ECORRUPT before anything is trusted', async (t) => {
  const cases: Array<[string, (b: Buffer) => Buffer]> = [
    ['truncated by one byte', (b) => b.subarray(0, b.length - 1)],
    ['truncated inside the header', (b) => b.subarray(0, 100)],
    ['extended by a page', (b) => Buffer.concat([b, Buffer.alloc(4096)])],
    ['wrong magic', (b) => (b.writeUInt32LE(0xdeadbeef, HEADER.magic), b)],
    ['format version 3', (b) => (b.writeUInt32LE(3, HEADER.version), b)],
    ['zero slots', (b) => (b.writeUInt32LE(0, HEADER.slots), b)],
    ['slots that do not match the size', (b) => (b.writeUInt32LE(17, HEADER.slots), b)],
    ['val_sz lies about the size', (b) => (b.writeUInt32LE(b.length + 64, HEADER.val_sz), b)],
    ['a text file', () => Buffer.from('not a store\n'.repeat(1000))],
  ];
  for (const [what, damage] of cases) throwsCode(t, () => Store.open(damaged(t, damage)), 'ECORRUPT', what);
  const empty = path.join(tempDir(t), 'empty.spl');
  fs.writeFileSync(empty, '');
  throwsCode(t, () => Store.open(empty), 'ECORRUPT', 'an empty file (after waiting for a creator)');
});

t.test('a slot pointing outside the arena is refused on access, never read or written', async (t) => {
  const slotOf = (store: Store, key: string): number => store.slotSnapshot(key)!.index;
  const probe = Store.open(copyFixture(t, 'basic-16x128'));
  const index = slotOf(probe, 'log');
  probe.close();
  const base = HEADER.size + index * 128;
  for (const [what, field, value] of [
    ['val_off past the arena', SLOT.val_off, 16 * 128],
    ['val_off near 4 GiB', SLOT.val_off, 0xfffffff0],
    ['val_len past the arena', SLOT.val_len, 0xffffffff],
    ['val_len over max_val_sz, inside the arena (it would read the next slot’s value)', SLOT.val_len, 129],
  ] as const) {
    const store = Store.open(damaged(t, (b) => (b.writeUInt32LE(value, base + field), b)));
    throwsCode(t, () => store.get('log'), 'ECORRUPT', `get with ${what}`);
    throwsCode(t, () => store.getString('log'), 'ECORRUPT', `getString with ${what}`);
    throwsCode(t, () => store.rawView('log'), 'ECORRUPT', `rawView with ${what}`);
    t.equal(store.getString('alpha'), 'short', 'other keys still read');
    store.close();
  }
  const noNul = Store.open(damaged(t, (b) => (b.fill(0x41, base + SLOT.key, base + SLOT.key + 64), b)));
  throwsCode(t, () => noNul.keys(), 'ECORRUPT', 'keys() with a key that has no NUL');
  noNul.close();
});

t.test('SharedArrayBuffer: attach validates like open', async (t) => {
  const store = Store.createShared({ slots: 4, maxValueSize: 16 });
  store.set('k', 'v');
  const other = Store.attach(store.buffer!);
  t.equal(other.getString('k'), 'v');
  throwsCode(t, () => Store.attach(new SharedArrayBuffer(6208)), 'ECORRUPT', 'zeroed buffer');
  throwsCode(t, () => Store.attach(new ArrayBuffer(6208) as unknown as SharedArrayBuffer), 'EINVAL', 'plain ArrayBuffer');
});

t.test('Symbol.dispose closes', async (t) => {
  let kept: Store | undefined;
  {
    using store = Store.createShared({ slots: 2, maxValueSize: 8 });
    kept = store;
    t.equal(store.closed, false);
  }
  t.equal(kept.closed, true);
});
