/**
 * The keeper of a store (docs/keep.md): removes keys past their deadline so C readers see them
 * gone too, and (with `persist`) keeps a file-backed copy of a memory store. One per store: a
 * second keeper is refused by a lock naming the first one's pid.
 */
import { describe, SplinterError } from '../errors.js';
import { Store } from '../facade/store.js';
import { expiredName, Expirer, type ExpiredKey } from './expiry.js';
import { takeKeeperLock, type KeeperLock } from './lock.js';
import { DEFAULT_PERSIST_INTERVAL_MS, passEvery, Persister, restoreStore, storeExists, type RestoreReport } from './persist.js';

export type { ExpiredKey } from './expiry.js';
export { restoreStore, DEFAULT_PERSIST_INTERVAL_MS, type RestoreReport } from './persist.js';
export { expiredName } from './expiry.js';

/** How often the keeper looks for new deadlines when none is due sooner. */
export const CHECK_MS = 50;

/** What a keeper tells its owner: each event worth a log line. */
export type KeepEvent =
  | { type: 'expired'; keys: ExpiredKey[] }
  | { type: 'restored'; from: string; report: RestoreReport }
  /**
   * A copy into the persist file finished: everything written before `startedAt` (ms since the Unix epoch) and left
   * alone is in it. `flushed`: a write of the file to disk began after it (the `sync` option; at close, it finished).
   * Not logged by the daemon.
   */
  | { type: 'persisted'; startedAt: number; copied: number; flushed: boolean }
  | { type: 'error'; error: unknown };

export interface KeepOptions {
  /** The store: a shm name or a path (opened, and closed with the keeper), or an open handle (left open). */
  store: string | Store;
  /** Called for each event (expired keys, errors the keeper goes on after). */
  onEvent?: ((event: KeepEvent) => void) | undefined;
  /** Open a store another user owns or others may write (as Store.open's option). */
  trustShared?: boolean | undefined;
  /**
   * A file kept as a copy of the store (the same format: C can open it), within `interval` of it. When the store
   * (a name or path given as a string) is missing at start, it is first restored from this file.
   */
  persist?: string | undefined;
  /** The longest the `persist` file may lag the store, in milliseconds (default 100); copies run every half of it. */
  interval?: number | undefined;
  /**
   * Milliseconds between two writes of the `persist` file's pages to disk (fdatasync on the thread pool). Unset
   * (the default): the kernel writes them back on its own schedule (Linux: within about 30 s), and the keeper at
   * close. A sync makes the file system flush every page changed since the last one; on ext4 at 100,000 writes/s
   * copies that fault on those pages wait for it (bench/README.md "Keep").
   */
  sync?: number | undefined;
}

export interface Keeper {
  /** The store kept. */
  readonly store: Store;
  /** The lock file naming this keeper's pid. */
  readonly lockPath: string;
  /** The persisted copy, when `persist` was given. */
  readonly persistPath: string | undefined;
  /** Stops the keeper, releases its lock, closes a store it opened. Closing twice is harmless. */
  close(): Promise<void>;
}

/**
 * Starts a keeper on a store (shm or file). It runs on timers of this process until closed.
 * @throws {SplinterError} EBUSY when another keeper keeps the store (the message names its pid); EINVAL for bad
 *   options or a SharedArrayBuffer store; what Store.open throws.
 */
export function keep(options: KeepOptions): Keeper {
  if (typeof options !== 'object' || options === null) {
    throw new SplinterError('EINVAL', `keep takes an options object with a store, received ${describe(options)}`);
  }
  const given = options.store;
  const target = typeof given === 'string' ? given : given instanceof Store ? given.target : undefined;
  if (target === undefined) {
    throw new SplinterError('EINVAL', `keep needs a shm or file store (a name, a path, or a handle of one), received ${describe(given)}`);
  }
  const onEvent = options.onEvent ?? (() => {});
  const interval = options.interval ?? DEFAULT_PERSIST_INTERVAL_MS;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1 || interval > 2 ** 31 - 1) {
    throw new SplinterError('EINVAL', `keep: interval is a whole number of milliseconds from 1 to 2^31 - 1, received ${describe(interval)}`);
  }
  const sync = options.sync;
  if (sync !== undefined && (typeof sync !== 'number' || !Number.isInteger(sync) || sync < 1 || sync > 2 ** 31 - 1)) {
    throw new SplinterError('EINVAL', `keep: sync is a whole number of milliseconds from 1 to 2^31 - 1, received ${describe(sync)}`);
  }
  const persistPath = options.persist;
  if (persistPath !== undefined && (typeof persistPath !== 'string' || persistPath === '')) {
    throw new SplinterError('EINVAL', `keep: persist is a file path, received ${describe(persistPath)}`);
  }
  const lock: KeeperLock = takeKeeperLock(target);
  let store: Store;
  let persister: Persister | undefined;
  try {
    // After a reboot the memory store is gone: made again from the file before the keeper is ready.
    if (typeof given === 'string' && persistPath !== undefined && !storeExists(given) && storeExists(persistPath)) {
      onEvent({ type: 'restored', from: persistPath, report: restoreStore(given, persistPath) });
    }
    store = typeof given === 'string' ? Store.open(given, { trustShared: options.trustShared === true }) : given;
    if (persistPath !== undefined) {
      try {
        persister = new Persister(store, persistPath);
        persister.pass();
      } catch (error) {
        if (typeof given === 'string') store.close();
        throw error;
      }
    }
  } catch (error) {
    persister?.close();
    lock.release();
    throw error;
  }
  const ownsStore = typeof given === 'string';
  const expirer = new Expirer(store);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const tick = (): void => {
    timer = undefined;
    if (closed) return;
    let next = Infinity;
    try {
      const now = Date.now();
      const { removed, next: due } = expirer.run(now);
      next = due;
      if (removed.length > 0) onEvent({ type: 'expired', keys: removed });
    } catch (error) {
      onEvent({ type: 'error', error });
    }
    // Wake at the next deadline, or in CHECK_MS to look for deadlines given meanwhile.
    const delay = Math.max(1, Math.min(CHECK_MS, next - Date.now()));
    timer = setTimeout(tick, delay);
  };
  tick();

  let persistTimer: NodeJS.Timeout | undefined;
  let flushedAt = performance.now();
  const persistTick = (last = false): void => {
    try {
      const startedAt = Date.now();
      // The last pass writes to disk before returning; the others leave it to the kernel, or to the thread pool every `sync` ms.
      const { copied } = persister!.pass(last);
      let flushed = last;
      if (!last && sync !== undefined && performance.now() - flushedAt >= sync) {
        flushed = persister!.flushInBackground((error) => {
          if (error === null) return;
          const full = error.code === 'ENOSPC' || error.code === 'EDQUOT';
          onEvent({ type: 'error', error: new SplinterError(full ? 'ENOSPC' : 'ENOTSUP', `keep: writing ${persistPath} to disk failed (${error.code ?? 'no code'}): ${error.message}`) });
        });
        if (flushed) flushedAt = performance.now();
      }
      onEvent({ type: 'persisted', startedAt, copied, flushed });
    } catch (error) {
      onEvent({ type: 'error', error });
    }
  };
  if (persister !== undefined) persistTimer = setInterval(() => persistTick(), passEvery(interval));

  return {
    store,
    lockPath: lock.path,
    persistPath,
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (persistTimer !== undefined) clearInterval(persistTimer);
      if (persister !== undefined) {
        persistTick(true); // the last copy, written to disk: what was written before the stop is in the file
        persister.close();
      }
      lock.release();
      if (ownsStore) store.close();
    },
  };
}

/** One log line for an event. */
export function describeEvent(event: KeepEvent): string {
  if (event.type === 'expired') {
    const shown = event.keys.slice(0, 10).map(expiredName).join(' ');
    const more = event.keys.length > 10 ? ` and ${event.keys.length - 10} more` : '';
    return `expired ${event.keys.length} key${event.keys.length === 1 ? '' : 's'}: ${shown}${more}`;
  }
  if (event.type === 'persisted') return `copied ${event.copied} slot${event.copied === 1 ? '' : 's'} to the file${event.flushed ? ' (written to disk)' : ''}`;
  if (event.type === 'restored') {
    const { keys, dropped } = event.report;
    return `restored from ${event.from}: ${keys} key${keys === 1 ? '' : 's'}${dropped > 0 ? `, ${dropped} slot${dropped === 1 ? '' : 's'} dropped (held mid-copy by a keeper that was killed)` : ''}`;
  }
  const error = event.error;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
