/**
 * A subscription read in batches: each step hands over every event already there (up to a
 * maximum) as one array, so a fast consumer pays one promise and one turn of the loop per batch
 * instead of per message, as Redis's XREAD COUNT or Kafka's poll do.
 */
import { describe, SplinterError } from '../errors.js';
import type { StreamEvent } from './events.js';

/** What a batch reader needs of a subscription: its one-event step, and the events it has now without waiting. */
export interface BatchSource<T> {
  next(): Promise<IteratorResult<StreamEvent<T>>>;
  return(): Promise<IteratorResult<StreamEvent<T>>>;
  /** Moves up to `max` events that are there now into `into`; never waits. */
  takeAvailable(into: StreamEvent<T>[], max: number): void;
}

export const MAX_BATCH = 65_536;

/** @throws {SplinterError} EINVAL for a maximum that is not an integer 1..65536 */
export function checkBatchSize(max: unknown): number {
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_BATCH) {
    throw new SplinterError('EINVAL', `a batch holds 1..${MAX_BATCH} events, received ${describe(max)}`);
  }
  return max;
}

export class StreamBatches<T> implements AsyncIterableIterator<StreamEvent<T>[]> {
  constructor(
    private readonly source: BatchSource<T>,
    private readonly max: number,
  ) {}

  /** The events there now (at least one: it waits for the first), in seq order. */
  async next(): Promise<IteratorResult<StreamEvent<T>[]>> {
    const batch: StreamEvent<T>[] = [];
    this.source.takeAvailable(batch, this.max);
    if (batch.length > 0) return { value: batch, done: false };
    // Nothing there: wait as a one-event reader waits (the bus, the claim timeout), then take what came with it.
    const first = await this.source.next();
    if (first.done === true) return { value: undefined, done: true };
    batch.push(first.value);
    this.source.takeAvailable(batch, this.max - 1);
    return { value: batch, done: false };
  }

  return(): Promise<IteratorResult<StreamEvent<T>[]>> {
    return this.source.return().then(() => ({ value: undefined, done: true }));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
