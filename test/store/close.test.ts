/**
 * Closed means closed: after close() a handle's raw views neither read, write nor validate, the
 * mapping is let go (koffi: munmap, or private zero pages where Node cannot detach), and waiters,
 * other handles and other processes carry on untouched.
 */
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import type { MappingRouteName } from '../../src/store/backing/mapping/index.js';
import { throwsCode, type Test } from '../helpers/assert.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { ROUTES, routeSkip } from '../helpers/routes.js';

interface Kind {
  name: string;
  mapping: MappingRouteName | undefined;
  /** A first handle, and a way to open another on the same store. */
  make(t: Test): { first: Store; another(): Store };
}

const kinds: Kind[] = [
  {
    name: 'shared',
    mapping: undefined,
    make: () => {
      const first = Store.createShared({ slots: 8, maxValueSize: 64 });
      return { first, another: () => Store.attach(first.buffer!) };
    },
  },
];
for (const mapping of ROUTES) {
  kinds.push({
    name: `shm/${mapping}`,
    mapping,
    make: (t) => {
      const name = shmName(t);
      return { first: Store.create(name, { slots: 8, maxValueSize: 64 }, { mapping }), another: () => Store.open(name, { mapping }) };
    },
  });
  kinds.push({
    name: `file/${mapping}`,
    mapping,
    make: (t) => {
      const file = path.join(tempDir(t), 'c.spl');
      return { first: Store.create(file, { slots: 8, maxValueSize: 64 }, { mapping }), another: () => Store.open(file, { mapping }) };
    },
  });
}

/** Node 21+ detaches the buffer of a closed koffi or mmap-io mapping; Node 20 cannot. */
const canDetach = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

for (const kind of kinds) {
  t.test(`${kind.name}: a raw view after close neither reads, writes nor claims to be valid`, { skip: kind.mapping === undefined ? false : routeSkip(kind.mapping) }, async (t) => {
    const { first, another } = kind.make(t);
    const other = another();
    t.teardown(() => other.close());
    first.set('k', 'the stored value');
    const view = first.rawView('k')!;
    t.equal(view.stillValid(), true, 'valid while open');
    const taken = view.bytes; // a typed array the caller kept from before the close
    t.equal(Buffer.from(taken).toString(), 'the stored value');
    first.close();
    throwsCode(t, () => view.bytes, 'ECLOSED', 'reading the view');
    throwsCode(t, () => view.bytes.fill(0x58), 'ECLOSED', 'writing through the view');
    t.equal(view.stillValid(), false, 'stillValid() is false after close');
    t.equal(view.epoch, other.getEpoch('k'), 'the epoch it was taken at is still there to read');
    if (kind.mapping === 'koffi') {
      // What was taken before: detached (length 0), or over private zero pages; never the store.
      if (canDetach) t.equal(taken.length, 0, 'the typed array kept from before is detached');
      else t.equal(Buffer.from(taken).toString(), '\0'.repeat(16), 'the typed array kept from before reads zeros, not the store');
      for (let i = 0; i < 16; i++) taken[i] = 0x58; // element writes: dropped when detached, private pages otherwise
      t.equal(other.getString('k'), 'the stored value', 'a write through it does not reach the store');
    } else if (kind.mapping === 'mmap-io' && canDetach) {
      t.equal(taken.length, 0, 'the typed array kept from before is detached');
    }
    t.equal(other.getString('k'), 'the stored value', 'another handle reads what was stored');
    other.set('k', 'changed later');
    t.equal(view.stillValid(), false, 'still not valid');
    t.equal(other.getString('k'), 'changed later');
  });

  t.test(`${kind.name}: closing one handle while it waits ends its waits; another handle's watch goes on`, { skip: kind.mapping === undefined ? false : routeSkip(kind.mapping) }, async (t) => {
    const { first, another } = kind.make(t);
    const other = another();
    t.teardown(() => other.close());
    const polled = first.poll('k');
    const iterator = first.watch('k');
    const pulled = iterator.next();
    const otherChanges = other.watch('k');
    const otherPoll = other.poll('k', { timeout: 5000 });
    first.close();
    await t.rejects(polled, { code: 'ECLOSED' }, 'the pending poll rejects');
    t.same(await pulled, { value: undefined, done: true }, 'the watch ends');
    other.set('k', 'after the close');
    t.equal(await otherPoll, true, "the other handle's poll sees the write");
    const next = await otherChanges.next();
    t.equal(next.value?.key, 'k', "the other handle's watch sees it");
    await otherChanges.return!();
    throwsCode(t, () => first.get('k'), 'ECLOSED', 'the closed handle refuses');
  });
}
