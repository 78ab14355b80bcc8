import { SplinterError } from '../../errors.js';
import type { RawView } from './snapshot.js';

/**
 * A raw view that ends with its handle: once the store is closed (and unmapped) `bytes` throws
 * ECLOSED and `stillValid()` is false, without touching the mapping. Typed arrays taken from
 * `bytes` before the close are detached or neutralised by the mapping route (docs/api.md).
 */
export class ClosableRawView implements RawView {
  constructor(
    private readonly view: RawView,
    private readonly handle: { readonly closed: boolean; readonly target: string | undefined },
  ) {}

  get bytes(): Uint8Array {
    if (this.handle.closed) {
      throw new SplinterError('ECLOSED', `the store ${this.handle.target ?? '(shared)'} is closed: its raw views are no longer readable`);
    }
    return this.view.bytes;
  }

  get epoch(): bigint {
    return this.view.epoch;
  }

  stillValid(): boolean {
    // Closed first: the check must not read an unmapped slot.
    return !this.handle.closed && this.view.stillValid();
  }
}
