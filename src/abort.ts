/**
 * The one abort behaviour of every waiting call (poll, pollSync, watch, signals, shards.madvise),
 * shaped like Node's own (`timers/promises`, `events.on`): an `AbortError` whose `cause` is the
 * signal's reason.
 */

/** What every waiting call rejects or throws with when its signal aborts: `name` 'AbortError', `code` 'ABORT_ERR'. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The error for an aborted signal, carrying its reason as `cause` (as Node's APIs do). */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/** Throws the AbortError of a signal that is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * Calls `onAbort` with the AbortError once, when the signal aborts; returns what stops listening.
 * A signal without abort, or none, costs nothing.
 */
export function whenAborted(signal: AbortSignal | undefined, onAbort: (error: AbortError) => void): () => void {
  if (signal === undefined) return () => {};
  const listener = (): void => onAbort(abortError(signal));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** The longest delay one setTimeout keeps: Node fires a longer one (up to Infinity) after 1 ms. */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** A timer that may be cleared. */
export interface LongTimer {
  clear(): void;
}

/**
 * setTimeout for any delay ≥ 0: past TIMER_MAX_MS it chains timers, so the callback truly runs
 * `ms` later (Infinity: never). Only the current link is armed, so clearing costs nothing.
 */
export function longTimeout(callback: () => void, ms: number): LongTimer {
  let left = ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const step = Math.min(left, TIMER_MAX_MS);
    left -= step;
    timer = setTimeout(() => (left > 0 ? arm() : callback()), step);
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

/** Resolves after `ms` (any delay: see longTimeout), or rejects with the AbortError when the signal aborts first. */
export function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const stop = whenAborted(signal, (error) => {
      timer.clear();
      reject(error);
    });
    const timer = longTimeout(() => {
      stop();
      resolve();
    }, ms);
  });
}
