/**
 * Each slot's squared norm kept between searches, so a search over an unchanged store reads one dot
 * product per vector instead of a dot and a norm. An entry stands for the version of the slot that
 * was read when it was made: its hash, its even epoch and the global epoch loaded before that read.
 * It is used only if the seqlock check that guards a copy (sync/read-check.ts) passes from that
 * moment until after the new dot was read — the cached norm and the dot then come from one version.
 * Because C's unset brings a slot's epoch back to 2, an entry of a low epoch lapses once the global
 * epoch has moved (a few writes anywhere); it is then simply computed again.
 */
import type { StoreMemory } from '../backing/memory.js';

export class NormCache {
  /** Slot epoch's low word when cached; 0 (never an epoch a search scores from) means empty. */
  readonly epoch: Uint32Array;
  readonly global: Int32Array;
  readonly hashLo: Int32Array;
  readonly hashHi: Int32Array;
  readonly norm: Float64Array;

  constructor(slots: number) {
    this.epoch = new Uint32Array(slots);
    this.global = new Int32Array(slots);
    this.hashLo = new Int32Array(slots);
    this.hashHi = new Int32Array(slots);
    this.norm = new Float64Array(slots);
  }

  /** Records `norm` as the squared norm of slot `index` at the version read after `global`, `epoch`, hash. */
  put(index: number, epoch: number, global: number, hashLo: number, hashHi: number, norm: number): void {
    this.epoch[index] = epoch;
    this.global[index] = global;
    this.hashLo[index] = hashLo;
    this.hashHi[index] = hashHi;
    this.norm[index] = norm;
  }
}

/** One cache per mapping (a remapped store gets a new one); each thread has its own. */
const caches = new WeakMap<StoreMemory, NormCache>();

export function normCacheOf(m: StoreMemory): NormCache {
  let cache = caches.get(m);
  if (cache === undefined || cache.norm.length !== m.slots) {
    cache = new NormCache(m.slots);
    caches.set(m, cache);
  }
  return cache;
}
