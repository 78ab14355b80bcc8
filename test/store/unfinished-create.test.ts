/**
 * A file a creation left without its magic (C's create killed by SIGBUS on a full disk, or any
 * creator killed before it wrote the magic, which comes last): Store.unlink removes it once it has
 * been untouched for a while, but never while another process may be creating it right now, and
 * Store.create says what is in the way.
 */
import fs from 'node:fs';
import t from 'tap';
import { Store } from '../../src/index.js';
import { HEADER } from '../../src/layout/constants.js';
import { throwsCode } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';

const geometry = { slots: 16, maxValueSize: 64 };

/** A store whose magic was never written (the rest of the header is), last changed `ageMs` ago. */
function unfinishedStore(t: Parameters<typeof shmName>[0], ageMs: number): string {
  const name = shmName(t, 'unfinished');
  Store.create(name, geometry).close();
  const file = `/dev/shm/${name}`;
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(4), 0, 4, HEADER.magic);
  fs.closeSync(fd);
  const then = new Date(Date.now() - ageMs);
  fs.utimesSync(file, then, then);
  return name;
}

t.test('a creation that died long ago: create names it, unlink removes it, create then works', async (t) => {
  const name = unfinishedStore(t, 10 * 60_000) // far past the grace the library gives a creation (10 s);
  const taken = throwsCode(t, () => Store.create(name, geometry), 'EEXIST', 'create finds the name taken');
  t.match(taken?.message ?? '', /without a store's magic.*a creation that died left it.*Store\.unlink/, 'and says what is there and how to remove it');
  Store.unlink(name);
  t.notOk(fs.existsSync(`/dev/shm/${name}`), 'Store.unlink removed it');
  Store.create(name, geometry).close();
  t.pass('the store can be created again');
});

t.test('a file with no magic yet, changed just now: another process may be creating it, so it stays', async (t) => {
  const name = unfinishedStore(t, 0);
  const busy = throwsCode(t, () => Store.unlink(name), 'EBUSY', 'unlink refuses to yank it');
  t.match(busy?.message ?? '', /no magic yet.*may be creating it right now/);
  t.ok(fs.existsSync(`/dev/shm/${name}`), 'the file is still there');
  t.match(throwsCode(t, () => Store.create(name, geometry), 'EEXIST', 'create')?.message ?? '', /another process may be creating it right now/);
});

t.test('a file that is no store at all is removed by unlink as before (it checks no magic)', async (t) => {
  const name = shmName(t, 'plain');
  fs.writeFileSync(`/dev/shm/${name}`, 'plain text, not a store\n');
  Store.unlink(name);
  t.notOk(fs.existsSync(`/dev/shm/${name}`));
});
