/**
 * The keeper of a store (docs/keep.md): removes keys past their deadline so C readers see them
 * gone too, and (with `persist`) keeps a file-backed copy of a memory store. One per store: a
 * second keeper is refused by a lock naming the first one's pid.
 */
import { describe, SplinterError } from '../errors.js';
import { Store } from '../facade/store.js';
import { expiredName, Expirer, type ExpiredKey } from './expiry.js';
import { takeKeeperLock, type KeeperLock } from './lock.js';

export type { ExpiredKey } from './expiry.js';
export { expiredName } from './expiry.js';

/** How often the keeper looks for new deadlines when none is due sooner. */
export const CHECK_MS = 25;

/** What a keeper tells its owner: each event worth a log line. */
export type KeepEvent =
  | { type: 'expired'; keys: ExpiredKey[] }
  | { type: 'error'; error: unknown };

export interface KeepOptions {
  /** The store: a shm name or a path (opened, and closed with the keeper), or an open handle (left open). */
  store: string | Store;
  /** Called for each event (expired keys, errors the keeper goes on after). */
  onEvent?: ((event: KeepEvent) => void) | undefined;
  /** Open a store another user owns or others may write (as Store.open's option). */
  trustShared?: boolean | undefined;
}

export interface Keeper {
  /** The store kept. */
  readonly store: Store;
  /** The lock file naming this keeper's pid. */
  readonly lockPath: string;
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
  const lock: KeeperLock = takeKeeperLock(target);
  let store: Store;
  try {
    store = typeof given === 'string' ? Store.open(given, { trustShared: options.trustShared === true }) : given;
  } catch (error) {
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

  return {
    store,
    lockPath: lock.path,
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
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
  const error = event.error;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
