/** poll, pollSync, watch and signals: subscriptions that hang from the process's waiter of a store. */
import { abortError, AbortError, longTimeout, throwIfAborted, whenAborted, type LongTimer } from '../abort.js';
import { describe, SplinterError } from '../errors.js';
import type { KvContext } from '../store/handle/context.js';
import { deadlinesPresent } from '../store/slot/deadlines.js';
import { checkGroup } from '../store/slot/signals.js';
import { sleepSync } from '../store/sync/sleep.js';
import { keyIdentity, keyOfBytes, type Key } from '../store/keys/key-text.js';
import type { BusLine, Subscription } from './line.js';
import { SAB_SEQUENCE_W32, SAB_WAITERS_W32, STALE_CHECK_MS } from './line.js';
import { KeyTracker, SignalTracker } from './trackers.js';

/** What a store handle gives the bus: its key context, its line, and a registry closed with it. */
export interface BusHost {
  readonly kv: KvContext;
  readonly line: BusLine;
  /** Subscriptions to end when the handle closes. */
  readonly endOnClose: Set<{ end(reason?: unknown): void }>;
  readonly sabWords: Int32Array | undefined;
  live(): unknown;
}

export interface PollOptions {
  /** Milliseconds to wait, any number ≥ 0 (Infinity and undefined wait until a change or an abort). */
  timeout?: number | undefined;
  /** Aborting rejects with an AbortError whose `cause` is the signal's reason (pollSync: checked once, before blocking). */
  signal?: AbortSignal | undefined;
  /** Check on every event-loop turn (pollSync: without sleeping): the fastest wake-up, for a core's worth of CPU. */
  lowLatency?: boolean | undefined;
}

export interface WatchOptions {
  /** Aborting makes the iterator throw an AbortError (`cause`: the signal's reason) from `next()`, then end. */
  signal?: AbortSignal | undefined;
  lowLatency?: boolean | undefined;
}

export interface KeyChange<K extends Key = Key> {
  /** The key as it was given to watch. */
  key: K;
  epoch: bigint;
  /** Why the key went, when it went for a reason beyond a write: 'expired' when a keeper removed it at its deadline (docs/keep.md). */
  reason?: 'expired';
}

/** 'expired' when the key a tracker saw leave was removed by a keeper for its deadline. */
function leaveReason(kv: KvContext, tracker: KeyTracker): 'expired' | undefined {
  const slot = tracker.leftSlot;
  if (slot < 0 || !deadlinesPresent(kv.m)) return undefined;
  const table = kv.deadlines ?? kv.findDeadlines();
  if (table === undefined) return undefined;
  kv.key.encode(tracker.key);
  return table.removedExpired(slot, kv.key.hashLo, kv.key.hashHi) ? 'expired' : undefined;
}

function checkTimeout(timeout: unknown): number {
  if (timeout === undefined) return Infinity;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new SplinterError('EINVAL', `a timeout is a number of milliseconds ≥ 0, received ${describe(timeout)}`);
  }
  return timeout;
}

function checkKeys(keys: unknown): Key[] {
  const list = typeof keys === 'string' || keys instanceof Uint8Array ? [keys] : keys;
  if (!Array.isArray(list) || list.length === 0) {
    throw new SplinterError('EINVAL', `watch takes a key or a non-empty array of keys, received ${describe(keys)}`);
  }
  // One watch per distinct key: the same bytes as a string and as a Uint8Array are one key.
  const distinct = new Map<string, Key>();
  for (const key of list as Key[]) {
    const identity = typeof key === 'string' || key instanceof Uint8Array ? keyIdentity(keyOfBytesIfBytes(key)) : String(key);
    // A Uint8Array is copied: the watch samples its key again and again, and the caller may reuse the array.
    if (!distinct.has(identity)) distinct.set(identity, key instanceof Uint8Array ? new Uint8Array(key) : key);
  }
  return [...distinct.values()];
}

/** A bytes key in the form keys() gives it (a string when UTF-8), so that identities compare bytes. */
function keyOfBytesIfBytes(key: Key): Key {
  return typeof key === 'string' ? key : keyOfBytes(key);
}

function closedError(): SplinterError {
  return new SplinterError('ECLOSED', 'the store was closed while waiting');
}

/** Resolves true when the key's epoch changes (creation and unset included), false at the timeout; rejects with ESTALE when the store is replaced. */
export function poll(host: BusHost, key: Key, options: PollOptions = {}): Promise<boolean> {
  let timeout: number;
  let tracker: KeyTracker;
  try {
    host.live();
    timeout = checkTimeout(options.timeout);
    tracker = new KeyTracker(host.kv, key);
  } catch (error) {
    return Promise.reject(error); // an async API reports bad arguments as a rejection too
  }
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (timeout === 0) return Promise.resolve(tracker.changed());
  const waiter = host.line.waiterSide();
  return new Promise<boolean>((resolve, reject) => {
    let timer: LongTimer | undefined;
    let stopListening = (): void => {};
    const finish = (settle: () => void): void => {
      if (!host.endOnClose.delete(closer)) return;
      waiter.remove(subscription);
      timer?.clear();
      stopListening();
      settle();
    };
    const subscription: Subscription = {
      lowLatency: options.lowLatency === true,
      check: () => {
        if (!tracker.changed()) return false;
        finish(() => resolve(true));
        return true;
      },
      fail: (error) => finish(() => reject(error)),
    };
    const closer = { end: () => finish(() => reject(closedError())) };
    host.endOnClose.add(closer);
    if (timeout !== Infinity) timer = longTimeout(() => finish(() => resolve(false)), timeout); // past 2^31−1 ms too
    stopListening = whenAborted(signal, (error) => finish(() => reject(error)));
    waiter.add(subscription);
    subscription.check(); // closes the window between taking the baseline and being armed
  });
}

const SYNC_STEP_MS = 0.1;

/**
 * Blocks the thread until the key's epoch changes (true) or the timeout passes (false); throws
 * ESTALE when the store is replaced meanwhile. Nothing can abort a blocked thread, so the signal
 * is looked at once, before blocking.
 */
export function pollSync(host: BusHost, key: Key, options: PollOptions = {}): boolean {
  host.live();
  const timeout = checkTimeout(options.timeout);
  throwIfAborted(options.signal);
  const spin = options.lowLatency === true;
  const tracker = new KeyTracker(host.kv, key);
  const deadline = performance.now() + timeout;
  let nameLookAt = performance.now() + STALE_CHECK_MS;
  const sab = host.sabWords;
  if (sab !== undefined) Atomics.add(sab, SAB_WAITERS_W32, 1);
  try {
    for (;;) {
      const seen = sab === undefined ? 0 : Atomics.load(sab, SAB_SEQUENCE_W32);
      if (tracker.changed()) return true;
      const now = performance.now();
      const left = deadline - now;
      if (left <= 0) return false;
      if (now >= nameLookAt) {
        // A replaced store is never written again: waiting on would block this thread for good.
        const stale = host.line.staleness();
        if (stale !== undefined) throw stale;
        nameLookAt = now + STALE_CHECK_MS;
      }
      // SharedArrayBuffer: sleep until a writer notifies; elsewhere, short sleeps.
      if (sab !== undefined) Atomics.wait(sab, SAB_SEQUENCE_W32, seen, Math.min(left, 50));
      else if (!spin) sleepSync(Math.min(left, SYNC_STEP_MS));
    }
  } finally {
    if (sab !== undefined) Atomics.sub(sab, SAB_WAITERS_W32, 1);
  }
}

interface Pull<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

/**
 * An async iterator over changes: `collect` gathers what changed since the last look (in the
 * order found); values are delivered one per `next()`. Ends on `return()` or close; on abort,
 * like Node's `events.on`, the pending (or else the next) `next()` rejects with the AbortError,
 * and later ones are done. A replaced store ends it the same way, with ESTALE.
 */
class ChangeStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private readonly pulls: Array<Pull<T>> = [];
  private ended = false;
  /** The abort (or ESTALE) not yet reported by a `next()`. */
  private failedWith: AbortError | SplinterError | undefined;
  private readonly subscription: Subscription;
  private readonly stopListening: () => void;

  constructor(
    private readonly host: BusHost,
    private readonly collect: (into: T[]) => void,
    lowLatency: boolean,
    signal: AbortSignal | undefined,
  ) {
    this.subscription = { lowLatency, check: () => this.deliver(), fail: (error) => this.abort(error) };
    throwIfAborted(signal); // as events.on: an already aborted signal throws at once
    host.endOnClose.add(this);
    this.stopListening = whenAborted(signal, (error) => this.abort(error));
    host.line.waiterSide().add(this.subscription);
    this.deliver();
  }

  /** The subscription's check (LocalWaiter.checkAll calls it on every wake): collects what changed, hands it to waiting pulls. */
  private deliver(): boolean {
    if (this.ended) return false;
    this.collect(this.queue);
    if (this.queue.length === 0) return false;
    while (this.queue.length > 0 && this.pulls.length > 0) this.pulls.shift()!.resolve({ value: this.queue.shift()!, done: false });
    return true;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length === 0 && !this.ended) this.collect(this.queue);
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    const failed = this.failedWith;
    if (failed !== undefined) {
      this.failedWith = undefined; // reported once; the iteration is over after it
      return Promise.reject(failed);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.pulls.push({ resolve, reject }));
  }

  /** Stops watching; the first waiting pull (or else the next one, after what was queued) gets the error. */
  private abort(error: AbortError | SplinterError): void {
    if (this.ended) return;
    const waiting = this.pulls.shift();
    if (waiting !== undefined) waiting.reject(error);
    else this.failedWith = error;
    this.end(false);
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops watching; `return()` and close drop what was not pulled yet, an abort or ESTALE lets it be pulled first. */
  end(dropQueued = true): void {
    if (this.ended) return;
    this.ended = true;
    if (dropQueued) this.queue.length = 0;
    this.host.endOnClose.delete(this);
    this.stopListening();
    this.host.line.waiterSide().remove(this.subscription);
    for (const pull of this.pulls.splice(0)) pull.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Changes of one or many keys, as `{ key, epoch }`. Keys that do not exist yet are watched too
 * (creation is a change). Several changes of one key between two pulls may arrive as one.
 */
export function watch(host: BusHost, keys: Key | Key[], options: WatchOptions = {}): AsyncIterableIterator<KeyChange> {
  host.live();
  const list = checkKeys(keys);
  for (const key of list) host.kv.key.encode(key); // refuse a bad key now, not at the first check
  const trackers = list.map((key) => new KeyTracker(host.kv, key));
  return new ChangeStream<KeyChange>(
    host,
    (into) => {
      for (const tracker of trackers) {
        if (!tracker.changed()) continue;
        // A key already waiting to be pulled is updated in place: its changes coalesce, none is lost.
        const waiting = into.find((change) => change.key === tracker.key);
        const reason = leaveReason(host.kv, tracker);
        const change: KeyChange = waiting ?? { key: tracker.key, epoch: 0n };
        change.epoch = tracker.epoch();
        if (reason !== undefined) change.reason = reason;
        else delete change.reason; // coalesced: the latest change says why, or nothing
        if (waiting === undefined) into.push(change);
      }
    },
    options.lowLatency === true,
    options.signal,
  );
}

/** The counter of a signal group, each time it changes. */
export function signals(host: BusHost, group: number, options: WatchOptions = {}): AsyncIterableIterator<bigint> {
  host.live();
  checkGroup(group, 'signals');
  const tracker = new SignalTracker(host.kv, group);
  return new ChangeStream<bigint>(
    host,
    (into) => {
      if (tracker.changed()) into.push(tracker.count());
    },
    options.lowLatency === true,
    options.signal,
  );
}
