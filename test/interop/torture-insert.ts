/**
 * The insert race, two roles (run by torture-child.ts):
 *  - inserter: for generation g inserts the new keys race/g/0 … race/g/(count-1), key r at
 *    the agreed CLOCK_MONOTONIC instant start + r × period, so two inserters hit each new
 *    key at the same moment;
 *  - churner: sets and unsets filler keys at random all the time, opening and filling holes
 *    on the probe paths the inserters walk, until its time is up or the key ctl/stop appears.
 * Values are torture values (seq = writerId × 2^40 + g × count + r), so the survivor can be
 * verified.
 */
import os from 'node:os';
import { isSplinterError, type Store } from '../../src/index.js';
import { sleepSync } from '../../src/store/sync/sleep.js';
import { encodeTorture } from '../helpers/torture-value.js';
import { errorText, monoNs, Samples } from './child-io.js';

export interface InserterReport {
  gen: number;
  sets: number;
  eagain: number;
  enospc: number;
  /** Keys this inserter could not set at all (every retry contested). */
  failed: number;
  /** Keys it reached more than one period after their instant (it was descheduled): skipped. */
  late: number;
  /** Per key: when its set began and ended, in ns after the generation's start instant (-1: skipped). */
  spans: number[];
  errors: number;
  errorSamples: string[];
}

export interface ChurnerReport {
  sets: number;
  unsets: number;
  eagain: number;
  enospc: number;
  /** An unset of a filler it had set found nothing: someone else removed it. */
  vanished: number;
  /** A filler it had unset was still (or again) there. */
  lingering: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
}

const RETRIES = 50;
/** The parent sets this key to end the churn before its time is up. */
const STOP_KEY = 'ctl/stop';

export function insertGeneration(
  store: Store,
  writerId: number,
  gen: number,
  start: bigint,
  period: bigint,
  count: number,
): InserterReport {
  const M = store.maxValueSize;
  const buf = new Uint8Array(M);
  const errorSamples = new Samples();
  let sets = 0;
  let eagain = 0;
  let enospc = 0;
  let failed = 0;
  let late = 0;
  let errors = 0;
  const spans: number[] = [];
  // Sleep until shortly before the start, so the other inserter gets a core to reach it too.
  const sleepNs = Number(start - monoNs()) - 1_500_000;
  if (sleepNs > 0) sleepSync(sleepNs / 1e6);
  for (let r = 0; r < count; r++) {
    const at = start + BigInt(r) * period;
    let now = monoNs();
    // Too late for this key's instant: leave it to the other inserter and catch up.
    if (now >= at + period) {
      late++;
      spans.push(-1, -1);
      continue;
    }
    while (now < at) now = monoNs();
    spans.push(Number(now - start));
    const key = `race/${gen}/${r}`;
    const length = encodeTorture(writerId * 2 ** 40 + gen * count + r, M, buf);
    const value = buf.subarray(0, length);
    let done = false;
    for (let attempt = 0; attempt < RETRIES && !done; attempt++) {
      try {
        store.set(key, value);
        sets++;
        done = true;
      } catch (error) {
        if (isSplinterError(error, 'EAGAIN')) eagain++;
        else if (isSplinterError(error, 'ENOSPC')) enospc++;
        else {
          errors++;
          errorSamples.add(errorText(error));
          break;
        }
      }
    }
    spans.push(Number(monoNs() - start));
    if (!done) failed++;
  }
  return { gen, sets, eagain, enospc, failed, late, spans, errors, errorSamples: errorSamples.items };
}

export function churn(store: Store, fillers: number, seconds: number): ChurnerReport {
  const M = store.maxValueSize;
  const buf = new Uint8Array(M);
  // Lowest CPU priority while churning: on a small machine the inserters must win a core
  // the moment they wake. Restored afterwards where the system allows it.
  const priority = os.getPriority();
  try {
    os.setPriority(19);
  } catch {
    // not permitted here: churn at normal priority
  }
  const present = new Array<boolean>(fillers).fill(false);
  const keys = Array.from({ length: fillers }, (_, i) => `fill/${i}`);
  const value = buf.subarray(0, encodeTorture(7, M, buf));
  const errorSamples = new Samples();
  let sets = 0;
  let unsets = 0;
  let eagain = 0;
  let enospc = 0;
  let vanished = 0;
  let lingering = 0;
  let errors = 0;
  let x = (process.pid * 2654435761) >>> 0 || 1;
  const started = monoNs();
  const end = started + BigInt(Math.round(seconds * 1e9));
  while (monoNs() < end && !store.has(STOP_KEY)) {
    for (let k = 0; k < 32; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      const i = x % fillers;
      const key = keys[i]!;
      try {
        if (present[i]) {
          if (store.unset(key) === undefined) vanished++;
          else unsets++;
          present[i] = false;
          if (store.has(key)) lingering++;
        } else {
          store.set(key, value);
          sets++;
          present[i] = true;
        }
      } catch (error) {
        if (isSplinterError(error, 'EAGAIN')) eagain++;
        else if (isSplinterError(error, 'ENOSPC')) enospc++;
        else {
          errors++;
          errorSamples.add(errorText(error));
        }
      }
    }
  }
  try {
    os.setPriority(priority);
  } catch {
    // stays low: the churn is the last role a test gives this process
  }
  return { sets, unsets, eagain, enospc, vanished, lingering, errors, errorSamples: errorSamples.items, seconds: Number(monoNs() - started) / 1e9 };
}
