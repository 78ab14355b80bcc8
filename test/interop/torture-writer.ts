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
