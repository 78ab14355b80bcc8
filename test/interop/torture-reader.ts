/**
 * The reader role: reads one key in a loop with splinter-ts (get or getInto), verifies every
 * value it accepts (length, filler, checksum) and that seq never goes back for any one
 * writer, and counts. The writer id is seq / 2^40 (0 for a single writer counting 1, 2, 3, …).
 */
import { isSplinterError, type Store } from '../../src/index.js';
import { encodeTortureHalves, newTortureCheck, tortureLengthHalves, verifyTorture, type TortureCheck } from '../helpers/torture-value.js';
import { errorText, monoNs, Samples } from './child-io.js';

export type ReadMode = 'get' | 'getInto';

/** How many seqs' values `ExactValues` keeps: the cyclers write 64 in turn. */
const EXACT_VALUES = 256;

/**
 * Verification for long values written from a small set of seqs: each accepted copy is compared,
 * in one native compare, with the value its seq implies (made once per seq). It checks every byte,
 * as verifyTorture does, at a fraction of the cost for 64 KiB values.
 */
class ExactValues {
  private readonly values = new Map<number, Buffer>();

  constructor(private readonly maxValueSize: number) {}

  verify(value: Uint8Array, length: number, check: TortureCheck): boolean {
    if (length < 16 || length > value.length) return verifyTorture(value, length, this.maxValueSize, check);
    const lo = value[0]! | (value[1]! << 8) | (value[2]! << 16) | (value[3]! << 24);
    const hi = value[4]! | (value[5]! << 8) | (value[6]! << 16) | (value[7]! << 24);
    if (hi !== 0 || tortureLengthHalves(0, lo >>> 0, this.maxValueSize) !== length) return verifyTorture(value, length, this.maxValueSize, check);
    const seq = lo >>> 0;
    let expected = this.values.get(seq);
    if (expected === undefined) {
      if (this.values.size >= EXACT_VALUES) return verifyTorture(value, length, this.maxValueSize, check);
      expected = Buffer.alloc(this.maxValueSize);
      expected = expected.subarray(0, encodeTortureHalves(0, seq, this.maxValueSize, expected));
      this.values.set(seq, expected);
    }
    if (!expected.equals(Buffer.from(value.buffer, value.byteOffset, length))) {
      verifyTorture(value, length, this.maxValueSize, check); // for the verdict in the sample
      if (check.verdict === 'ok') check.verdict = 'checksum';
      return false;
    }
    check.seqHi = 0;
    check.seqLo = seq;
    check.seq = seq;
    check.verdict = 'ok';
    return true;
  }
}

export interface ReaderReport {
  reads: number;
  eagain: number;
  torn: number;
  regressions: number;
  missing: number;
  /** Lookups that found no key after the key had been seen (only the cases with unsets expect some). */
  missingAfterSeen: number;
  errors: number;
  maxSeq: number;
  writersSeen: number;
  seconds: number;
  tornSamples: string[];
  errorSamples: string[];
}

/** `exact`: compare each copy with the value its seq implies (ExactValues), for long values of few seqs. */
export function runReader(store: Store, key: string, mode: ReadMode, seconds: number, exact = false): ReaderReport {
  const M = store.maxValueSize;
  const buf = new Uint8Array(M);
  const check = newTortureCheck();
  const exactValues = exact ? new ExactValues(M) : undefined;
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
      if (!(exactValues === undefined ? verifyTorture(value, length, M, check) : exactValues.verify(value, length, check))) {
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
