/** A synchronous sleep, for the few waits that cannot yield to the event loop. */

/** A private cell nobody notifies: Atomics.wait on it sleeps without a timer. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
