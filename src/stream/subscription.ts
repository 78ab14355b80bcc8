/**
 * A stream subscription: an async iterator that reads the cells in seq order straight from the
 * store while messages are there, and hangs from the process's waiter of the store (the bus)
 * only when it has caught up.
 */
import { throwIfAborted, whenAborted, type AbortError } from '../abort.js';
import type { Subscription as BusSubscription } from '../bus/line.js';
import { describe, SplinterError } from '../errors.js';
import { CELL, type CellRead } from './cells.js';
import { decodeCell, type StreamEvent, type StreamGap } from './events.js';
import { checkSeq } from './layout.js';
import { checkBatchSize, StreamBatches } from './batches.js';
import type { Stream } from './stream.js';

export interface SubscribeOptions {
  /** 'earliest': the oldest message kept (the default); 'latest': the next one appended; or a seq. */
  from?: 'earliest' | 'latest' | bigint | number | undefined;
  /** Aborting makes the pending (or next) `next()` reject with an AbortError, then the iteration ends. */
  signal?: AbortSignal | undefined;
  /** Check on every event-loop turn while caught up: the fastest wake-up, for a core's worth of CPU. */
  lowLatency?: boolean | undefined;
}

interface Pull {
  resolve(result: IteratorResult<StreamEvent>): void;
  reject(error: unknown): void;
}

/** How long a reader that caught up keeps looking before it sleeps (ms). */
const CATCH_UP_SPIN_MS = 0.02;

/** Looks between two readings of the clock while catching up: performance.now() allocates (on Node 20, an hrtime array per call). */
const LOOKS_PER_CLOCK = 16;

/** Reads of a busy cell in a row before waiting for a wake instead. */
const BUSY_TRIES = 64;
/** A batch reader touches the cells this many seqs ahead, this many at a time (Cells.touch). */
const PREFETCH = 16;

/** What `subscribe` returns: an async iterator of events, which can also be read in batches. */
export interface Subscription<T = unknown> extends AsyncIterableIterator<StreamEvent<T>> {
  /** The seq delivered next. */
  readonly position: bigint;
  /** The same subscription read in batches (see StreamSubscription.batches). @throws {SplinterError} EINVAL */
  batches(max?: number): AsyncIterableIterator<StreamEvent<T>[]>;
}

export class StreamSubscription<T = unknown> implements Subscription<T> {
  /** The next seq to deliver. */
  private next_: number;
  private readonly pulls: Pull[] = [];
  private ended = false;
  private failedWith: AbortError | SplinterError | undefined;
  private readonly subscription: BusSubscription;
  private readonly stopListening: () => void;
  private readonly out: CellRead = { holds: 0, type: 0, length: 0, oddEpoch: -1, reason: '', atime: 0, userFlag: 0 };
  /** The claimed seq we are waiting for, since when, and the odd epoch its cell showed then (-1: none). */
  private waitingFor = -1;
  private waitingSince = 0;
  private waitingOdd = -1;
  private timeoutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: Stream,
    options: SubscribeOptions,
  ) {
    if (typeof options !== 'object' || options === null) throw new SplinterError('EINVAL', `subscribe takes an options object, received ${describe(options)}`);
    const from = options.from === undefined ? 'earliest' : options.from;
    if (from === 'earliest') this.next_ = Number(stream.oldest());
    else if (from === 'latest') this.next_ = stream.headNumber() + 1;
    else if (typeof from === 'bigint' || typeof from === 'number') this.next_ = checkSeq(from, 'subscribe({ from })');
    else throw new SplinterError('EINVAL', `subscribe's from is 'earliest', 'latest' or a seq, received ${describe(from)}`);
    const host = stream.host;
    this.subscription = {
      lowLatency: options.lowLatency === true,
      wakesOnDemand: true,
      check: () => this.deliver(),
      fail: (error) => this.abort(error),
    };
    throwIfAborted(options.signal);
    host.endOnClose.add(this);
    this.stopListening = whenAborted(options.signal, (error) => this.abort(error));
    host.line.waiterSide().add(this.subscription);
  }

  /** The seq this subscription delivers next. */
  get position(): bigint {
    return BigInt(this.next_);
  }

  next(): Promise<IteratorResult<StreamEvent<T>>> {
    if (this.pulls.length === 0 && !this.ended) {
      let event: StreamEvent | undefined;
      try {
        event = this.take() ?? this.spinForNext();
      } catch (error) {
        this.end(); // the stream was dropped, or its cells damaged: reported once, then done
        return Promise.reject(error);
      }
      if (event !== undefined) return Promise.resolve({ value: event as StreamEvent<T>, done: false });
    }
    const failed = this.failedWith;
    if (failed !== undefined) {
      this.failedWith = undefined; // reported once; the iteration is over after it
      return Promise.reject(failed);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.pulls.push({ resolve: resolve as Pull['resolve'], reject });
      this.askForWakes();
    });
  }

  /**
   * The same subscription read in batches: each step gives every event already there (up to
   * `max`, waiting only for the first) as one array, in seq order. Read it or the subscription
   * itself, not both.
   * @throws {SplinterError} EINVAL (max not an integer 1..65536)
   */
  batches(max = 1024): AsyncIterableIterator<StreamEvent<T>[]> {
    return new StreamBatches<T>(this, checkBatchSize(max));
  }

  /** @internal Moves up to `max` events there now into `into`, without waiting (a batch's step). */
  takeAvailable(into: StreamEvent<T>[], max: number): void {
    if (this.pulls.length > 0 || this.ended || this.failedWith !== undefined) return;
    try {
      // The head once a batch: cells up to it are claimed, most of them written, and may be touched ahead of reading.
      const head = this.stream.headNumber();
      while (into.length < max) {
        if (this.next_ % PREFETCH === 0) {
          const from = this.next_ + PREFETCH;
          this.stream.cells.touch(from, Math.min(from + PREFETCH - 1, head));
        }
        const event = this.take();
        if (event === undefined) return;
        into.push(event as StreamEvent<T>);
      }
    } catch (error) {
      if (into.length === 0) {
        this.end();
        throw error;
      }
      // The events before it go out first; the error ends the next step.
      this.failedWith = error as SplinterError;
      this.end();
    }
  }

  /**
   * Caught up: looks again for a few microseconds before sleeping. A producer a little slower than
   * this reader then finds nobody asleep, and rings nobody (a FIFO write and a wake per message
   * would cost both sides more than the look).
   */
  private spinForNext(): StreamEvent | undefined {
    const until = performance.now() + CATCH_UP_SPIN_MS;
    for (let looks = 1; ; looks++) {
      const event = this.take();
      if (event !== undefined) return event;
      if (looks % LOOKS_PER_CLOCK === 0 && performance.now() >= until) return undefined;
    }
  }

  /** A pull waits: writers must ring us from now on; then one more look, for a write that came before. */
  private askForWakes(): void {
    this.stream.host.line.waiterSide().setIdle(this.subscription, false);
    this.deliver();
  }

  /** A wake from the bus: hands what is there to the waiting pulls. */
  private deliver(): boolean {
    if (this.ended || this.pulls.length === 0) return false;
    let delivered = false;
    while (this.pulls.length > 0) {
      let event: StreamEvent | undefined;
      try {
        event = this.take();
      } catch (error) {
        // Called from the waiter's wake: the error goes to the waiting pull, never up into the bus.
        this.abort(error as SplinterError);
        return true;
      }
      if (event === undefined) break;
      this.pulls.shift()!.resolve({ value: event, done: false });
      delivered = true;
    }
    // Nobody waits now: reading goes on from next(), with no wakes needed until it catches up.
    if (this.pulls.length === 0) this.stream.host.line.waiterSide().setIdle(this.subscription, true);
    return delivered;
  }

  /** The next event, reading the store now; undefined when caught up (or the cell is busy). */
  private take(): StreamEvent | undefined {
    const cells = this.stream.cells;
    const out = this.out;
    for (let tries = 0; ; tries++) {
      const n = this.next_;
      const state = cells.read(n, out);
      if (state === CELL.message || state === CELL.malformed) {
        this.next_ = n + 1;
        this.waitingFor = -1;
        return decodeCell(state, n, cells, out);
      }
      if (state === CELL.lost || state === CELL.abandoned) {
        this.waitingFor = -1;
        return this.gap(n, state);
      }
      if (state === CELL.busy && tries < BUSY_TRIES) continue;
      // Pending, or a writer inside: wait, unless a claimed seq has stayed so past the claim timeout.
      if (this.overdue(n, state === CELL.busy ? out.oddEpoch : -1)) continue;
      return undefined;
    }
  }

  /** A run of seqs lost for one reason, from `n` on, as one gap (bounded: a later gap goes on from where it stopped). */
  private gap(n: number, state: number): StreamGap {
    const cells = this.stream.cells;
    const out = this.out;
    const limit = n + 16 * cells.capacity;
    let to = n;
    while (to + 1 < limit && cells.read(to + 1, out) === state) to++;
    this.next_ = to + 1;
    return { kind: 'gap', from: BigInt(n), to: BigInt(to), reason: state === CELL.lost ? 'overwritten' : 'abandoned' };
  }

  /**
   * Whether seq `n`, claimed by some producer, has stayed unpublished past the claim timeout (then
   * it is declared abandoned here, and the caller reads it again). Schedules a look for when the
   * timeout ends, since no write may come to wake us.
   */
  private overdue(n: number, oddEpoch: number): boolean {
    if (this.stream.headNumber() < n) {
      this.waitingFor = -1;
      return false; // not claimed yet: an ordinary wait for the next message
    }
    const now = performance.now();
    const timeout = this.stream.claimTimeoutMs;
    if (this.waitingFor !== n) {
      this.waitingFor = n;
      this.waitingSince = now;
      this.waitingOdd = oddEpoch;
      this.lookAgainIn(timeout);
      return false;
    }
    if (now - this.waitingSince < timeout) return false;
    // Odd at the start and still the same odd value: a writer died inside; otherwise never force.
    const stuck = oddEpoch >= 0 && oddEpoch === this.waitingOdd ? oddEpoch : -1;
    this.stream.cells.abandon(n, stuck);
    this.waitingFor = -1;
    return true;
  }

  private lookAgainIn(ms: number): void {
    if (this.timeoutTimer !== undefined) clearTimeout(this.timeoutTimer);
    // Unref'd: the waiter's keep-alive holds the process while we wait.
    this.timeoutTimer = setTimeout(() => {
      this.timeoutTimer = undefined;
      this.deliver();
      if (!this.ended && this.waitingFor >= 0) this.lookAgainIn(Math.max(1, this.stream.claimTimeoutMs / 4));
    }, ms + 1);
    this.timeoutTimer.unref();
  }

  /** Stops; the first waiting pull (or else the next one) gets the error. */
  private abort(error: AbortError | SplinterError): void {
    if (this.ended) return;
    const waiting = this.pulls.shift();
    if (waiting !== undefined) waiting.reject(error);
    else this.failedWith = error;
    this.end();
  }

  return(): Promise<IteratorResult<StreamEvent<T>>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops reading: waiting pulls end (done); the store handle's close calls it too. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timeoutTimer !== undefined) clearTimeout(this.timeoutTimer);
    const host = this.stream.host;
    host.endOnClose.delete(this);
    this.stopListening();
    host.line.waiterSide().remove(this.subscription);
    for (const pull of this.pulls.splice(0)) pull.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
