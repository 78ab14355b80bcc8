/**
 * Child process, run inside a private mount namespace where DIR is a 1 MiB tmpfs (test/store/full-disk.test.ts):
 * one scenario of creating and writing stores on a file system with no room, on mapping route ROUTE.
 * Prints { code, left, sets } as JSON; a SIGBUS kills it instead (what the test must never see).
 *
 *   too-big            create a 4.3 MB store
 *   fill-then-write    create a 270 KB store, fill the rest of the file system, then write 48 values of 4 KiB
 *   no-room-for-table  fill all but 64 KiB, then create a 150 KB store (its slot table does not fit)
 *
 * argv: SCENARIO ROUTE DIR TARGET (TARGET: a shm name when DIR is /dev/shm, else a path in DIR)
 */
import fs from 'node:fs';
import path from 'node:path';
import { isSplinterError, Store } from '../../../src/index.js';
import type { MappingRouteName } from '../../../src/store/backing/mapping/index.js';

const [scenario, route, dir, target] = process.argv.slice(2) as [string, MappingRouteName, string, string];
const file = target.includes('/') ? target : `/dev/shm/${target}`;
const CHUNK = Buffer.alloc(4096, 0x55);

/** Writes a file of DIR until the file system is full, then gives back `spare` bytes. */
function fill(spare: number): void {
  const filler = path.join(dir, `filler-${process.pid}`);
  const fd = fs.openSync(filler, 'w');
  let size = 0;
  try {
    for (;;) size += fs.writeSync(fd, CHUNK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  fs.ftruncateSync(fd, Math.max(0, size - spare));
  fs.closeSync(fd);
}

function report(result: { code?: string; message?: string; sets?: number }): void {
  process.stdout.write(JSON.stringify({ ...result, left: fs.existsSync(file) }));
}

function attempt(create: () => Store, then: (store: Store) => number): void {
  let store: Store;
  try {
    store = create();
  } catch (error) {
    if (!isSplinterError(error)) throw error;
    report({ code: error.code, message: error.message });
    return;
  }
  const sets = then(store);
  store.close();
  report({ sets });
}

const value = new Uint8Array(4096).fill(7);
switch (scenario) {
  case 'too-big':
    attempt(
      () => Store.create(target, { slots: 1024, maxValueSize: 4096 }, { mapping: route }),
      (store) => {
        let sets = 0;
        for (let i = 0; i < 1000; i++, sets++) store.set(`k${i}`, value);
        return sets;
      },
    );
    break;
  case 'fill-then-write':
    attempt(
      () => {
        const store = Store.create(target, { slots: 64, maxValueSize: 4096 }, { mapping: route });
        fill(0);
        return store;
      },
      (store) => {
        let sets = 0;
        for (let i = 0; i < 48; i++, sets++) store.set(`k${i}`, value);
        return sets;
      },
    );
    break;
  case 'no-room-for-table':
    fill(64 * 1024);
    attempt(
      () => Store.create(target, { slots: 1024, maxValueSize: 16 }, { mapping: route }),
      () => 0,
    );
    break;
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
