/**
 * The write-to-wake seam: the store calls its handle's `WriteListener` after every write, and the
 * bus side implements it; this is the only way a write of ours reaches a waiter. The flow, top-down
 * (paths under src/): a store operation (store/values/kv.ts, clear.ts, biguint.ts, store/slot/labels.ts, …)
 * releases the slot's seqlock and calls `ctx.writeListener.afterWrite(index, dirty)`; the facade gave
 * each handle a `WakeOnWrite` (bus/wake-on-write.ts), which sets the event-bus dirty bit where C
 * would notify (store/slot/dirty.ts) and calls `BusLine.ring` (bus/line.ts): a kick of this process's
 * own waiter, one byte to the FIFO doorbell of each armed waiter in other processes (bus/doorbell.ts),
 * or a bump of the sequence word of a SharedArrayBuffer store (bus/sab-wait.ts). On the reading side
 * every wake source — the doorbell's read, the SharedArrayBuffer wait, the fallback poll, the spin,
 * the kick — calls `LocalWaiter.checkAll` (bus/waiter.ts), which calls `check()` of each
 * `Subscription`: a poll's look at its key (bus/watch.ts), a watch or signals iterator
 * (`ChangeStream.deliver`, bus/watch.ts), a stream subscription (`StreamSubscription.deliver`,
 * stream/subscription.ts); each looks at its epochs and delivers what changed.
 */

/** What a handle's store operations call after each write of theirs. */
export interface WriteListener {
  /**
   * After a write to slot `index` (-1: every slot, once), the slot's seqlock released. `dirty`: the
   * write is one C would notify the event bus of (its dirty bit is to be set).
   */
  afterWrite(index: number, dirty: boolean): void;
}

/** The listener of a context no one listens to yet (the handle's owner sets its own). */
export const NO_WRITE_LISTENER: WriteListener = { afterWrite() {} };
