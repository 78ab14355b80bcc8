/**
 * Opening and creating stores: the bodies of the Store class's static openers (create, open,
 * createOrOpen, openOrCreate, createShared, attach, unlink), kept apart from its operations. The
 * public statics and their documentation stay on Store; each hands its private constructor in as `make`.
 */
import fs from 'node:fs';
import { removeSidecar } from '../bus/sidecar.js';
import { describe, SplinterError } from '../errors.js';
import { HEADER } from '../layout/constants.js';
import { storeSize, type Geometry } from '../layout/geometry.js';
import { sharedArrayBufferBacking, type Backing } from '../store/backing/backing.js';
import { createFileBacking, openFileBacking, storeFileState, unlinkTarget } from '../store/backing/file-backing.js';
import { initialiseStore } from '../store/format/init.js';
import { StoreMemory } from '../store/backing/memory.js';
import { sleepSync } from '../store/sync/sleep.js';
import { resolveTarget } from '../store/backing/target.js';
import { validateStore } from '../store/format/validate.js';
import { removeDeadlineFile } from './deadline-file.js';
import { checkGeometry, checkOptions, type CheckedOptions, type CreateGeometry, type StoreOptions } from './options.js';
import type { Store } from './store.js';

/** How long open waits for a store another process is still creating. */
const OPEN_INIT_WAIT_MS = 250;

/** Makes a handle over a backing just opened or created: the Store class's private constructor. */
export type MakeStore = (backing: Backing, geometry: Geometry, target: string | undefined, options: CheckedOptions) => Store;

/** Store.create (its documentation is there). */
export function createStore(make: MakeStore, target: string, geometry: CreateGeometry, options?: StoreOptions): Store {
  const resolved = resolveTarget(target);
  const g = checkGeometry(geometry, 'Store.create');
  const checked = checkOptions(options, 'Store.create');
  const size = storeSize(g.slots, g.maxValueSize, g.embeddings);
  let backing: Backing;
  try {
    backing = createFileBacking(resolved, size, checked.mapping, (bytes) => initialiseStore(new StoreMemory(bytes, g)));
  } catch (error) {
    throw explainTaken(error, resolved.path, target);
  }
  return fresh(make(backing, g, target, checked));
}

/** An EEXIST over a file with no magic says what it is and how to remove it. */
function explainTaken(error: unknown, path: string, target: string): unknown {
  if (!(error instanceof SplinterError) || error.code !== 'EEXIST') return error;
  const state = storeFileState(path);
  if (state.kind !== 'unfinished') return error;
  const why = state.inProgress
    ? 'another process may be creating it right now'
    : `a creation that died left it (untouched for ${Math.round(state.ageMs / 1000)} s): Store.unlink(${JSON.stringify(target)}) or splinter drop removes it`;
  return new SplinterError('EEXIST', `cannot create ${path}: a file without a store's magic is there; ${why}`, { cause: error });
}

/** Store.open (its documentation is there). */
export function openStore(make: MakeStore, target: string, options?: StoreOptions): Store {
  const resolved = resolveTarget(target);
  const checked = checkOptions(options, 'Store.open');
  const where = resolved.kind === 'shm' ? `shared-memory store "${target}"` : `store file ${target}`;
  // Taken at the first look that finds the store initialising: performance.now() loads perf_hooks, 1 ms of a one-shot command.
  let deadline: number | undefined;
  for (;;) {
    const opened = openFileBacking(resolved, checked.mapping, checked.trustShared);
    // Size 0 or no magic yet: possibly a store another process is creating right now.
    const initialising =
      !('backing' in opened) || (opened.size >= HEADER.size && Atomics.load(new Uint32Array(opened.backing.bytes.buffer, 0, 1), 0) === 0);
    if (initialising && performance.now() < (deadline ??= performance.now() + OPEN_INIT_WAIT_MS)) {
      if ('backing' in opened) opened.backing.release(); // each look maps anew: let this one go
      sleepSync(5);
      continue;
    }
    if (!('backing' in opened)) {
      throw new SplinterError('ECORRUPT', `${where} is 0 bytes; a store is at least ${HEADER.size} bytes (its header)`);
    }
    try {
      const geometry = validateStore(opened.backing.bytes, where);
      return make(opened.backing, geometry, target, checked);
    } catch (error) {
      opened.backing.release();
      throw error;
    }
  }
}

/** Store.createOrOpen (its documentation is there). */
export function createOrOpenStore(make: MakeStore, target: string, geometry: CreateGeometry, options?: StoreOptions): Store {
  checkGeometry(geometry, 'Store.createOrOpen');
  checkOptions(options, 'Store.createOrOpen');
  try {
    return createStore(make, target, geometry, options);
  } catch (error) {
    if (!(error instanceof SplinterError) || error.code !== 'EEXIST') throw error;
  }
  return openMatching(make, target, geometry, options);
}

/** Store.openOrCreate (its documentation is there). */
export function openOrCreateStore(make: MakeStore, target: string, geometry: CreateGeometry, options?: StoreOptions): Store {
  checkGeometry(geometry, 'Store.openOrCreate');
  checkOptions(options, 'Store.openOrCreate');
  try {
    return openMatching(make, target, geometry, options);
  } catch (error) {
    if (!(error instanceof SplinterError) || error.code !== 'ENOENT') throw error;
  }
  return createOrOpenStore(make, target, geometry, options);
}

/** Opens the store, refusing one of another geometry (EEXIST). */
function openMatching(make: MakeStore, target: string, geometry: CreateGeometry, options: StoreOptions | undefined): Store {
  const wanted = checkGeometry(geometry, 'Store.openOrCreate');
  const store = openStore(make, target, options);
  if (store.slots !== wanted.slots || store.maxValueSize !== wanted.maxValueSize || store.embeddings !== wanted.embeddings) {
    store.close();
    throw new SplinterError(
      'EEXIST',
      `${target} exists as ${store.slots} slots × ${store.maxValueSize} bytes${store.embeddings ? ' with embeddings' : ''}, ` +
        `not the ${wanted.slots} × ${wanted.maxValueSize}${wanted.embeddings ? ' with embeddings' : ''} asked for`,
    );
  }
  return store;
}

/** Store.createShared (its documentation is there). */
export function createSharedStore(make: MakeStore, geometry: CreateGeometry, options?: StoreOptions): Store {
  const g = checkGeometry(geometry, 'Store.createShared');
  const checked = checkOptions(options, 'Store.createShared');
  const buffer = new SharedArrayBuffer(storeSize(g.slots, g.maxValueSize, g.embeddings));
  const backing = sharedArrayBufferBacking(buffer);
  initialiseStore(new StoreMemory(backing.bytes, g));
  return fresh(make(backing, g, undefined, checked));
}

/** A handle on a store it has just created: no key anywhere, so its reach needs no first pass (reach.ts). */
function fresh(store: Store): Store {
  store.memory.trust.scanned = true;
  return store;
}

/** Store.attach (its documentation is there). */
export function attachStore(make: MakeStore, buffer: SharedArrayBuffer, options?: StoreOptions): Store {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new SplinterError('EINVAL', `attach needs the SharedArrayBuffer of a shared store, received ${describe(buffer)}`);
  }
  const backing = sharedArrayBufferBacking(buffer);
  const geometry = validateStore(backing.bytes, 'the SharedArrayBuffer');
  return make(backing, geometry, undefined, checkOptions(options, 'Store.attach'));
}

/** Store.unlink (its documentation is there). */
export function unlinkStore(target: string): void {
  const resolved = resolveTarget(target);
  let found: fs.Stats | undefined;
  try {
    found = fs.statSync(resolved.path);
  } catch {
    // unlinkTarget reports the missing target
  }
  unlinkTarget(resolved);
  if (found !== undefined) {
    removeSidecar(`${found.dev}-${found.ino}`, found.uid);
    removeDeadlineFile(`${found.dev}-${found.ino}`, found.uid);
  }
}
