/**
 * The reader role: reads one key in a loop with splinter-ts (get or getInto), verifies every
 * value it accepts (length, filler, checksum) and that seq never goes back for any one
 * writer, and counts. The writer id is seq / 2^40 (0 for a single writer counting 1, 2, 3, …).
 */
import { isSplinterError, type Store } from '../../src/index.js';
import { newTortureCheck, verifyTorture } from '../helpers/torture-value.js';
import { errorText, monoNs, Samples } from './child-io.js';

export type ReadMode = 'get' | 'getInto';

export interface ReaderReport {
  reads: number;
  eagain: number;
  torn: number;
  regressions: number;
  missing: number;
  /** Lookups that found no key after the key had been seen (no test unsets it). */
  missingAfterSeen: number;
  errors: number;
  maxSeq: number;
  writersSeen: number;
  seconds: number;
  tornSamples: string[];
  errorSamples: string[];
}

export function runReader(store: Store, key: string, mode: ReadMode, seconds: number): ReaderReport {
  const M = store.maxValueSize;
  const buf = new Uint8Array(M);
  const check = newTortureCheck();
  const lastSeq = new Float64Array(1 << 16).fill(-1); // per writer id (seqHi >>> 8)
  const tornSamples = new Samples();
  const errorSamples = new Samples();
  let reads = 0;
  let eagain = 0;
  let torn = 0;
  let regressions = 0;
  let missing = 0;
  let missingAfterSeen = 0;
  let errors = 0;
  let maxSeq = 0;
  let seen = false;
  const started = monoNs();
  const end = started + BigInt(Math.round(seconds * 1e9));
  while (monoNs() < end) {
    for (let k = 0; k < 64; k++) {
      let value: Uint8Array | undefined;
      let length: number;
      try {
        if (mode === 'get') {
          value = store.get(key);
          length = value === undefined ? -1 : value.length;
        } else {
          value = buf;
          length = store.getInto(key, buf);
        }
      } catch (error) {
        if (isSplinterError(error, 'EAGAIN')) eagain++;
        else {
          errors++;
          errorSamples.add(errorText(error));
        }
        continue;
      }
      if (length < 0 || value === undefined) {
        missing++;
        if (seen) missingAfterSeen++;
        continue;
      }
      seen = true;
      reads++;
      if (!verifyTorture(value, length, M, check)) {
        torn++;
        tornSamples.add(`${check.verdict}: len ${length}, seq ${check.seq}, ${Buffer.from(value.buffer, value.byteOffset, Math.min(length, 48)).toString('hex')}`);
        continue;
      }
      const writer = check.seqHi >>> 8;
      if (check.seq < lastSeq[writer]!) regressions++;
      else lastSeq[writer] = check.seq;
      if (check.seq > maxSeq) maxSeq = check.seq;
    }
  }
  let writersSeen = 0;
  for (const s of lastSeq) if (s >= 0) writersSeen++;
  return {
    reads,
    eagain,
    torn,
    regressions,
    missing,
    missingAfterSeen,
    errors,
    maxSeq,
    writersSeen,
    seconds: Number(monoNs() - started) / 1e9,
    tornSamples: tornSamples.items,
    errorSamples: errorSamples.items,
  };
}
