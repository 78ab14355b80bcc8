/**
 * SharedArrayBuffer stores: writers bump a sequence word in the header padding and notify it;
 * the waiter waits on that word with Atomics.waitAsync. Every writer of such a store is ours
 * (C never sees it), so no fallback poll is needed.
 */
import { SAB_SEQUENCE_W32, SAB_WAITERS_W32 } from '../layout/constants.js';

/** How long one waitAsync lasts before the waiter looks again anyway. */
const SAB_WAIT_SLICE_MS = 1000;

/** The header words a SharedArrayBuffer store's writers and waiters share. */
export function sabWords(bytes: Uint8Array): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset, SAB_SEQUENCE_W32 + 1);
}

/** The writer side, after each write: one plain load when nobody waits. */
export function ringSab(sab: Int32Array): void {
  if (sab[SAB_WAITERS_W32] === 0) return;
  // Bump, then notify: a waiter that read the old sequence either sees the new one or is woken.
  Atomics.add(sab, SAB_SEQUENCE_W32, 1);
  Atomics.notify(sab, SAB_SEQUENCE_W32);
}

/** The waiting side: checks, then waits for the sequence to move, for as long as it is started. */
export class SabWait {
  private started = false;
  private waiting = false;
  private disposed = false;

  constructor(
    private readonly sab: Int32Array,
    /** LocalWaiter.checkAll (waiter.ts): looks for changes; called on every wake. */
    private readonly checkAll: () => void,
  ) {}

  start(): void {
    this.started = true;
    Atomics.add(this.sab, SAB_WAITERS_W32, 1);
    this.wait();
  }

  stop(): void {
    this.started = false;
    Atomics.sub(this.sab, SAB_WAITERS_W32, 1);
    Atomics.add(this.sab, SAB_SEQUENCE_W32, 1);
    Atomics.notify(this.sab, SAB_SEQUENCE_W32); // lets our own pending waitAsync finish
  }

  dispose(): void {
    this.disposed = true;
  }

  private wait(): void {
    if (this.waiting || !this.started || this.disposed) return;
    const sab = this.sab;
    const seen = Atomics.load(sab, SAB_SEQUENCE_W32);
    this.checkAll();
    const result = Atomics.waitAsync(sab, SAB_SEQUENCE_W32, seen, SAB_WAIT_SLICE_MS);
    if (!result.async) {
      queueMicrotask(() => this.wait());
      return;
    }
    this.waiting = true;
    void result.value.then(() => {
      this.waiting = false;
      if (this.started && !this.disposed) this.wait();
    });
  }
}
