/**
 * The insert race, two roles:
 *  - inserter: for generation g inserts the new keys race/g/0 … race/g/(count-1), key r at
 *    the agreed CLOCK_MONOTONIC instant start + r × period, so two inserters hit each new
 *    key at the same moment;
 *  - churner: sets and unsets filler keys at random all the time, opening and filling holes
 *    on the probe paths the inserters walk.
 * Values are torture values (seq = writerId × 2^40 + g × count + r), so the survivor can be
 * verified.
 */
import { isSplinterError, Store } from '../../src/index.js';
import { encodeTorture } from '../helpers/torture-value.js';
import { childConfig, errorText, monoNs, Samples, serve } from './child-io.js';

export interface InsertConfig {
  target: string;
  role: 'inserter' | 'churner';
  writerId?: number;
  /** churner: how many filler keys it toggles. */
  fillers?: number;
}

export interface InserterReport {
  gen: number;
  sets: number;
  eagain: number;
  enospc: number;
  /** Keys this inserter could not set at all (every retry contested). */
  failed: number;
  /** Keys it reached more than one period after their instant (it was descheduled). */
  late: number;
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

const config = childConfig<InsertConfig>();
const store = Store.open(config.target);
const M = store.maxValueSize;
const buf = new Uint8Array(M);
const RETRIES = 50;

function insertGeneration(gen: number, start: bigint, period: bigint, count: number): InserterReport {
  const writerId = config.writerId ?? 1;
  const errorSamples = new Samples();
  let sets = 0;
  let eagain = 0;
  let enospc = 0;
  let failed = 0;
  let late = 0;
  let errors = 0;
  for (let r = 0; r < count; r++) {
    const at = start + BigInt(r) * period;
    let now = monoNs();
    if (now > at + period) late++;
    while (now < at) now = monoNs();
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
    if (!done) failed++;
  }
  return { gen, sets, eagain, enospc, failed, late, errors, errorSamples: errorSamples.items };
}

function churn(seconds: number): ChurnerReport {
  const fillers = config.fillers ?? 16;
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
  while (monoNs() < end) {
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
  return { sets, unsets, eagain, enospc, vanished, lingering, errors, errorSamples: errorSamples.items, seconds: Number(monoNs() - started) / 1e9 };
}

serve((line) => {
  const command = JSON.parse(line) as { op: string; gen?: number; start?: string; period?: string; count?: number; seconds?: number };
  if (config.role === 'inserter' && command.op === 'gen') {
    return insertGeneration(command.gen!, BigInt(command.start!), BigInt(command.period!), command.count!);
  }
  if (config.role === 'churner' && command.op === 'run') return churn(command.seconds!);
  throw new Error(`${config.role} does not know op ${command.op}`);
});
