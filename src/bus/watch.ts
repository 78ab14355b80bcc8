/** poll, pollSync, watch and signals: subscriptions that hang from the process's waiter of a store. */
import { SplinterError } from '../errors.js';
import { describe, type KvContext } from '../store/kv.js';
import type { BusLine, Subscription } from './line.js';
import { SAB_SEQUENCE_W32, SAB_WAITERS_W32 } from './line.js';
import { checkGroup } from './signals.js';
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
  /** Milliseconds to wait; undefined waits until a change or an abort. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Check on every event-loop turn: the fastest wake-up, for a core's worth of CPU. */
  lowLatency?: boolean | undefined;
}

export interface WatchOptions {
  signal?: AbortSignal | undefined;
  lowLatency?: boolean | undefined;
}

export interface KeyChange {
  key: string;
  epoch: bigint;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function checkTimeout(timeout: unknown): number {
  if (timeout === undefined) return Infinity;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new SplinterError('EINVAL', `a timeout is a number of milliseconds ≥ 0, received ${describe(timeout)}`);
  }
  return timeout;
}

function checkKeys(keys: unknown): string[] {
  const list = typeof keys === 'string' ? [keys] : keys;
  if (!Array.isArray(list) || list.length === 0) {
    throw new SplinterError('EINVAL', `watch takes a key or a non-empty array of keys, received ${describe(keys)}`);
  }
  return [...new Set(list as string[])];
}

function closedError(): SplinterError {
  return new SplinterError('ECLOSED', 'the store was closed while waiting');
}

/** Resolves true when the key's epoch changes (creation and unset included), false at the timeout. */
export function poll(host: BusHost, key: string, options: PollOptions = {}): Promise<boolean> {
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
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (timeout === 0) return Promise.resolve(tracker.changed());
  const waiter = host.line.waiterSide();
  return new Promise<boolean>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => finish(() => reject(abortReason(signal!)));
    const finish = (settle: () => void): void => {
      if (!host.endOnClose.delete(closer)) return;
      waiter.remove(subscription);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const subscription: Subscription = {
      lowLatency: options.lowLatency === true,
      check: () => {
        if (!tracker.changed()) return false;
        finish(() => resolve(true));
        return true;
      },
    };
    const closer = { end: () => finish(() => reject(closedError())) };
    host.endOnClose.add(closer);
    if (timeout !== Infinity) timer = setTimeout(() => finish(() => resolve(false)), timeout);
    signal?.addEventListener('abort', onAbort, { once: true });
    waiter.add(subscription);
    subscription.check(); // closes the window between taking the baseline and being armed
  });
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const SYNC_STEP_MS = 0.1;

/** Blocks the thread until the key's epoch changes (true) or `timeoutMs` passes (false). */
export function pollSync(host: BusHost, key: string, timeoutMs: number): boolean {
  host.live();
  const timeout = checkTimeout(timeoutMs);
  const tracker = new KeyTracker(host.kv, key);
  const deadline = performance.now() + timeout;
  const sab = host.sabWords;
  if (sab !== undefined) Atomics.add(sab, SAB_WAITERS_W32, 1);
  try {
    for (;;) {
      const seen = sab === undefined ? 0 : Atomics.load(sab, SAB_SEQUENCE_W32);
      if (tracker.changed()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      // SharedArrayBuffer: sleep until a writer notifies; elsewhere, short sleeps.
      if (sab !== undefined) Atomics.wait(sab, SAB_SEQUENCE_W32, seen, Math.min(left, 50));
      else Atomics.wait(sleepCell, 0, 0, Math.min(left, SYNC_STEP_MS));
    }
  } finally {
    if (sab !== undefined) Atomics.sub(sab, SAB_WAITERS_W32, 1);
  }
}

/**
 * An async iterator over changes: `collect` gathers what changed since the last look (in the
 * order found); values are delivered one per `next()`. Ends on abort, `return()` or close.
 */
class ChangeStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private readonly pulls: Array<(result: IteratorResult<T>) => void> = [];
  private ended = false;
  private readonly subscription: Subscription;
  private readonly onAbort = (): void => this.end();

  constructor(
    private readonly host: BusHost,
    private readonly collect: (into: T[]) => void,
    lowLatency: boolean,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.subscription = { lowLatency, check: () => this.deliver() };
    if (signal?.aborted) {
      this.ended = true;
      return;
    }
    host.endOnClose.add(this);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    host.line.waiterSide().add(this.subscription);
    this.deliver();
  }

  private deliver(): boolean {
    if (this.ended) return false;
    this.collect(this.queue);
    if (this.queue.length === 0) return false;
    while (this.queue.length > 0 && this.pulls.length > 0) this.pulls.shift()!({ value: this.queue.shift()!, done: false });
    return true;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length === 0 && !this.ended) this.collect(this.queue);
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.pulls.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.host.endOnClose.delete(this);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.host.line.waiterSide().remove(this.subscription);
    for (const pull of this.pulls.splice(0)) pull({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Changes of one or many keys, as `{ key, epoch }`. Keys that do not exist yet are watched too
 * (creation is a change). Several changes of one key between two pulls may arrive as one.
 */
export function watch(host: BusHost, keys: string | string[], options: WatchOptions = {}): AsyncIterableIterator<KeyChange> {
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
        if (waiting !== undefined) waiting.epoch = tracker.epoch();
        else into.push({ key: tracker.key, epoch: tracker.epoch() });
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
