/**
 * The writer role: sets one key with splinter-ts in a loop, seq = writerId × 2^40 + n for
 * n = 1, 2, 3, … (n advances only when the set succeeded), counting EAGAIN.
 */
import { isSplinterError, type Store } from '../../src/index.js';
import { encodeTortureHalves } from '../helpers/torture-value.js';
import { errorText, monoNs, Samples } from './child-io.js';

export interface WriterReport {
  writes: number;
  eagain: number;
  errors: number;
  /** The last seq written, as a number (writerId × 2^40 + n). */
  lastSeq: number;
  seconds: number;
  errorSamples: string[];
}

/** `writerId` 0..65535; 0 makes the plain 1, 2, 3, … sequence the C peer's torture_read expects. */
export function runWriter(store: Store, key: string, writerId: number, seconds: number): WriterReport {
  const M = store.maxValueSize;
  const buf = new Uint8Array(M);
  // One view per length, so the loop allocates nothing.
  const views: Uint8Array[] = [];
  for (let length = 0; length <= M; length++) views.push(buf.subarray(0, length));
  const errorSamples = new Samples();
  const idHigh = writerId * 256; // writerId × 2^40 = (writerId × 2^8) × 2^32
  let n = 1;
  let writes = 0;
  let eagain = 0;
  let errors = 0;
  let lastSeq = 0;
  const started = monoNs();
  const end = started + BigInt(Math.round(seconds * 1e9));
  while (monoNs() < end) {
    for (let k = 0; k < 64; k++) {
      const hi = idHigh + Math.floor(n / 4294967296);
      const length = encodeTortureHalves(hi, n >>> 0, M, buf);
      try {
        store.set(key, views[length]!);
        writes++;
        lastSeq = hi * 4294967296 + (n >>> 0);
        n++;
      } catch (error) {
        if (isSplinterError(error, 'EAGAIN')) eagain++;
        else {
          errors++;
          errorSamples.add(errorText(error));
        }
      }
    }
  }
  return { writes, eagain, errors, lastSeq, seconds: Number(monoNs() - started) / 1e9, errorSamples: errorSamples.items };
}

export interface CyclerReport {
  cycles: number;
  sets: number;
  unsets: number;
  eagain: number;
  errors: number;
  seconds: number;
  errorSamples: string[];
}

/** Values the cycler writes in turn: made once, so the loop spends its time in the store, not in encoding. */
const CYCLE_VALUES = 64;
/** The first of the cycler's seqs: with a 64 KiB limit, seqs 9297..9360 make values of 65 095..65 536 bytes. */
export const CYCLE_FIRST_SEQ = 9297;

/**
 * The unset role: cycles set, set, unset on one key (the traffic that brought slot epochs back
 * before our unset moved them forward), with the torture values of 64 seqs from CYCLE_FIRST_SEQ in turn,
 * spinning `pauseUs` µs after each operation so that readers find gaps between writes.
 */
export function runCycler(store: Store, key: string, seconds: number, pauseUs = 0): CyclerReport {
  const M = store.maxValueSize;
  const values: Uint8Array[] = [];
  for (let seq = CYCLE_FIRST_SEQ; seq < CYCLE_FIRST_SEQ + CYCLE_VALUES; seq++) {
    const buf = new Uint8Array(M);
    values.push(buf.subarray(0, encodeTortureHalves(0, seq, M, buf)));
  }
  const errorSamples = new Samples();
  let cycles = 0;
  let sets = 0;
  let unsets = 0;
  let eagain = 0;
  let errors = 0;
  let next = 0;
  const pauseNs = BigInt(Math.round(pauseUs * 1000));
  const attempt = (write: () => void): void => {
    try {
      write();
    } catch (error) {
      if (isSplinterError(error, 'EAGAIN')) eagain++;
      else {
        errors++;
        errorSamples.add(errorText(error));
      }
    }
    if (pauseNs > 0n) for (const until = monoNs() + pauseNs; monoNs() < until; );
  };
  const started = monoNs();
  const end = started + BigInt(Math.round(seconds * 1e9));
  while (monoNs() < end) {
    for (let k = 0; k < 16; k++) {
      for (let s = 0; s < 2; s++) {
        const value = values[next]!;
        next = (next + 1) % CYCLE_VALUES;
        attempt(() => {
          store.set(key, value);
          sets++;
        });
      }
      attempt(() => {
        if (store.unset(key) !== undefined) unsets++;
      });
      cycles++;
    }
  }
  return { cycles, sets, unsets, eagain, errors, seconds: Number(monoNs() - started) / 1e9, errorSamples: errorSamples.items };
}
