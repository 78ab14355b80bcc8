/**
 * store.search: every slot C's `search` would score, scored as C scores it, ranked as C ranks it
 * (docs/search.md). Two passes: a fast float64 pass straight over the mapping finds the slots that
 * can be in the answer; C's float32 formula then scores those, each over a seqlock-checked copy of
 * its vector, and only those scores are reported and ranked. A search only reads: writers never wait.
 */
import { abortError } from '../../abort.js';
import { SplinterError } from '../../errors.js';
import { KEY_MAX, SLOT, SPLINTER_EMBED_DIM } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import { keyOfBytes, type Key } from '../keys/key-text.js';
import { copyStillValid } from '../sync/read-check.js';
import { dotAndNorm, dotOnly, OVERFLOW_GUARD, SIMILARITY_MARGIN, SMALL_GUARD, squaredNorm } from './approx.js';
import { cDistance, cSimilarity } from './formula.js';
import { normCacheOf, type NormCache } from './norm-cache.js';
import type { CheckedSearch } from './options.js';
import { TopK } from './top.js';
import type { SearchHit, SearchResults } from './types.js';

const EMBED_BYTES = SPLINTER_EMBED_DIM * 4;
const ABORT_CHECK_EVERY = 512;
const W = { epoch: SLOT.epoch >>> 2, valLen: SLOT.val_len >>> 2, embedding: SLOT.embedding >>> 2 } as const;

/** What the first pass learnt of a slot. */
const enum Pass {
  Skip, // not selected: empty, filtered out, or epoch 0
  Scored,
  Busy, // mid-write at every attempt so far
}

/** A hit with its slot index (the last tie-break, and how another thread names it). */
export interface Ranked extends SearchHit {
  index: number;
}

/** What a scan of a range of slots found: slot indices for the skipped. */
export interface PartResult {
  ranked: Ranked[];
  busy: number[];
  nonFinite: number[];
  scored: number;
  matched: number;
}

/** Similarity descending, then distance ascending, then slot order. */
const byRank = (a: Ranked, b: Ranked): number => b.similarity - a.similarity || a.distance - b.distance || a.index - b.index;

/** The scan over one store for one query; `ctx` is the handle's working state. */
export class SearchScan {
  private readonly m;
  private readonly f32: Float32Array;
  private readonly qq: number;
  private readonly pair = new Float64Array(2);
  private readonly copy = new Float32Array(SPLINTER_EMBED_DIM);
  private readonly copyBytes = new Uint8Array(this.copy.buffer);
  private readonly keyBytes = new Uint8Array(KEY_MAX);
  /** Per slot: the fast pass's similarity and distance (NaN: C's formula must decide). */
  private readonly sim: Float64Array;
  private readonly dist: Float64Array;
  private readonly norms: NormCache;

  constructor(
    private readonly ctx: KvContext,
    private readonly query: Float32Array,
    private readonly o: CheckedSearch,
  ) {
    const m = ctx.m;
    this.m = m;
    this.f32 = new Float32Array(m.u8.buffer, m.u8.byteOffset, m.totalSize >>> 2);
    this.qq = squaredNorm(query);
    this.sim = new Float64Array(m.slots);
    this.dist = new Float64Array(m.slots);
    this.norms = normCacheOf(m);
  }

  run(from = 0, to = this.m.slots): SearchResults {
    return this.complete([this.collect(from, to)]);
  }

  /** Both passes over slots [from, to): the hits C's formula scored, best first, at most `limit`. */
  collect(from: number, to: number): PartResult {
    const scoredIndices: number[] = [];
    const busy: number[] = [];
    for (let index = from; index < to; index++) {
      if ((index & (ABORT_CHECK_EVERY - 1)) === 0) this.checkAbort();
      const pass = this.firstPass(index);
      if (pass === Pass.Scored) scoredIndices.push(index);
      else if (pass === Pass.Busy) busy.push(index);
    }
    const stillBusy = this.retry(busy, (index) => this.firstPass(index), scoredIndices);
    scoredIndices.sort((a, b) => a - b);
    return this.finish(scoredIndices, stillBusy);
  }

  /** The parts (of slot ranges) merged: the best `limit` of all, the skipped keys named. */
  complete(parts: readonly PartResult[]): SearchResults {
    const ranked = parts.flatMap((p) => p.ranked);
    ranked.sort(byRank);
    const hits: SearchHit[] = ranked.slice(0, this.o.limit).map(({ index: _index, ...hit }) => hit);
    const name = (indices: number[]): Key[] => indices.sort((a, b) => a - b).map((index) => this.keyAt(index));
    return {
      hits,
      skipped: { busy: name(parts.flatMap((p) => p.busy)), nonFinite: name(parts.flatMap((p) => p.nonFinite)) },
      scored: parts.reduce((sum, p) => sum + p.scored, 0),
      matched: parts.reduce((sum, p) => sum + p.matched, 0),
    };
  }

  /**
   * A hit another thread scored at `epoch`: its key and metadata read here under the seqlock, or, if
   * the slot moved on since, scored again here (C's formula over the version there is now).
   */
  adopt(index: number, similarity: number, distance: number, epoch: bigint, part: PartResult): void {
    const m = this.m;
    const slotByte = m.slotByte(index);
    const w = slotByte >>> 2;
    const hashLo = Atomics.load(m.i32, w);
    const hashHi = Atomics.load(m.i32, w + 1);
    const globalBefore = Atomics.load(m.i32, m.globalEpochW32);
    const before = Atomics.load(m.u32, w + W.epoch);
    const now = Atomics.load(m.u64, (slotByte + SLOT.epoch) >>> 3);
    const length = Atomics.load(m.u32, w + W.valLen);
    const type = Atomics.load(m.u8, slotByte + SLOT.type_flag);
    const labels = Atomics.load(m.u64, (slotByte + SLOT.bloom) >>> 3);
    const keyLength = this.readKey(slotByte);
    if (now === epoch && (before & 1) === 0 && keyLength >= 0 && copyStillValid(m, slotByte, before, hashLo, hashHi, globalBefore)) {
      part.ranked.push({ key: keyOfBytes(this.keyBytes.subarray(0, keyLength)), similarity, distance, epoch, length, type, labels, index });
      return;
    }
    const late: number[] = [];
    this.exact(index, part.ranked, part.nonFinite, late);
    part.busy.push(...this.retry(late, (i) => this.exact(i, part.ranked, part.nonFinite, []), []));
  }

  private checkAbort(): void {
    if (this.o.signal?.aborted) throw abortError(this.o.signal);
  }

  /** Retries busy slots under the handle's backoff; those still busy when it runs out are returned. */
  private retry(busy: number[], attempt: (index: number) => Pass, done: number[]): number[] {
    let left = busy;
    const backoff = this.ctx.backoff;
    backoff.reset();
    while (left.length > 0 && backoff.next()) {
      this.checkAbort();
      const next: number[] = [];
      for (const index of left) {
        const pass = attempt(index);
        if (pass === Pass.Scored) done.push(index);
        else if (pass === Pass.Busy) next.push(index);
      }
      left = next;
    }
    return left;
  }

  /** The selection C's search makes before scoring: a key, labels or a value, the key filters, a non-zero epoch. */
  private selected(slotByte: number): boolean | undefined {
    const m = this.m;
    const w = slotByte >>> 2;
    if (Atomics.load(m.i32, w) === 0 && Atomics.load(m.i32, w + 1) === 0) return false;
    const o = this.o;
    if (o.labels !== 0n) {
      if ((Atomics.load(m.u64, (slotByte + SLOT.bloom) >>> 3) & o.labels) !== o.labels) return false;
    } else if (Atomics.load(m.u32, w + W.valLen) === 0) {
      return false; // C lists keys with a value only; its label path (enumerate_matches) takes empty ones too
    }
    if (o.exclude === undefined && o.prefix === undefined && o.match === undefined) return true;
    const length = this.readKey(slotByte);
    if (length < 0) return undefined; // no NUL: mid-write, or corrupt (told apart by the seqlock check)
    const key = this.keyBytes;
    if (o.exclude !== undefined && sameBytes(key, length, o.exclude)) return false;
    if (o.prefix !== undefined && !startsWith(key, length, o.prefix)) return false;
    if (o.match !== undefined && !o.match(keyOfBytes(key.subarray(0, length)))) return false;
    return true;
  }

  private readKey(slotByte: number): number {
    const u8 = this.m.u8;
    const at = slotByte + SLOT.key;
    for (let i = 0; i < KEY_MAX; i++) {
      const byte = u8[at + i]!;
      if (byte === 0) return i;
      this.keyBytes[i] = byte;
    }
    return -1;
  }

  private firstPass(index: number): Pass {
    const m = this.m;
    const slotByte = m.slotByte(index);
    const w = slotByte >>> 2;
    const hashLo = Atomics.load(m.i32, w);
    const hashHi = Atomics.load(m.i32, w + 1);
    const globalBefore = Atomics.load(m.i32, m.globalEpochW32);
    const before = Atomics.load(m.u32, w + W.epoch);
    if ((before & 1) !== 0) return Pass.Busy;
    const chosen = this.selected(slotByte);
    if (chosen === false) return Pass.Skip;
    if (before === 0 && Atomics.load(m.u32, w + W.epoch + 1) === 0) return Pass.Skip; // C skips epoch 0
    if (chosen === undefined) return this.corruptOrBusy(index, slotByte, before, hashLo, hashHi, globalBefore);
    const cache = this.norms;
    let dot: number;
    let vv: number;
    if (cache.epoch[index] === before && cache.hashLo[index] === hashLo && cache.hashHi[index] === hashHi) {
      // The cached norm stands if no writer entered from when it was read until after this dot: the seqlock check over that span.
      dot = dotOnly(this.query, this.f32, w + W.embedding);
      vv = cache.norm[index]!;
      if (!copyStillValid(m, slotByte, before, hashLo, hashHi, cache.global[index]!)) {
        if (!copyStillValid(m, slotByte, before, hashLo, hashHi, globalBefore)) return Pass.Busy;
        cache.put(index, 0, 0, 0, 0, 0); // this version is not the cached one (an epoch came back): norm it afresh
        return this.firstPass(index);
      }
    } else {
      dotAndNorm(this.query, this.f32, w + W.embedding, this.pair);
      if (!copyStillValid(m, slotByte, before, hashLo, hashHi, globalBefore)) return Pass.Busy;
      dot = this.pair[0]!;
      vv = this.pair[1]!;
      cache.put(index, before, globalBefore, hashLo, hashHi, vv);
    }
    const qq = this.qq;
    const norms = Math.sqrt(qq * vv);
    if (!(qq + vv < OVERFLOW_GUARD) || norms < SMALL_GUARD) {
      this.sim[index] = NaN; // C's float32 overflow, underflow or its 1e-9 cut-off: let its formula decide
      this.dist[index] = NaN;
    } else {
      this.sim[index] = dot / norms;
      this.dist[index] = Math.sqrt(Math.max(0, qq + vv - 2 * dot));
    }
    return Pass.Scored;
  }

  private corruptOrBusy(index: number, slotByte: number, before: number, hashLo: number, hashHi: number, globalBefore: number): Pass {
    if (!copyStillValid(this.m, slotByte, before, hashLo, hashHi, globalBefore)) return Pass.Busy;
    throw new SplinterError('ECORRUPT', `slot ${index} holds a key with no NUL in its ${KEY_MAX} bytes`);
  }

  /** Picks who C's formula must score, scores them over seqlock-checked copies, ranks. */
  private finish(scored: number[], busyIndices: number[]): PartResult {
    const o = this.o;
    const top = new TopK(Math.min(o.limit, Math.max(1, scored.length)));
    // Slots sure to pass the filters under C's formula too: the k-th best of them bounds who can rank above it.
    for (const index of scored) if (this.surelyPasses(index)) top.offer(this.sim[index]!);
    const floor = o.limit >= scored.length ? -Infinity : top.floor - 2 * SIMILARITY_MARGIN;
    const candidates: number[] = [];
    const countOnly: number[] = []; // below the floor, near a filter's edge: C's formula decides whether they count in matched
    let passedUnscored = 0; // sure to pass the filters, too far down to rank: counted in matched, never rescored
    for (const index of scored) {
      const s = this.sim[index]!;
      if (Number.isNaN(s)) candidates.push(index);
      else if (!this.maybePasses(index)) continue;
      else if (s >= floor) candidates.push(index);
      else if (this.surelyPasses(index)) passedUnscored++;
      else countOnly.push(index);
    }
    const ranked: Ranked[] = [];
    const nonFinite: number[] = [];
    const late: number[] = [];
    for (let n = 0; n < candidates.length; n++) {
      if ((n & 63) === 0) this.checkAbort(); // without a limit every slot is rescored here
      this.exact(candidates[n]!, ranked, nonFinite, late);
    }
    const lateBusy = this.retry(late, (index) => this.exact(index, ranked, nonFinite, []), []);
    const counted: Ranked[] = [];
    for (const index of countOnly) this.exact(index, counted, [], []); // a busy one is simply not counted
    ranked.sort(byRank);
    const matched = passedUnscored + ranked.length + counted.length;
    return { ranked: ranked.slice(0, this.o.limit), busy: [...busyIndices, ...lateBusy], nonFinite, scored: scored.length, matched };
  }

  /** Error room for the distance: C's float32 sums are within ~1e-4 of it, relative, the fast pass's within ~1e-8 × |q|. */
  private distSlack(d: number): number {
    return SIMILARITY_MARGIN * (d + Math.sqrt(this.qq)) + 1e-6;
  }

  /** Whether C's formula could keep this slot through the filters (the fast pass's error allowed for). */
  private maybePasses(index: number): boolean {
    const o = this.o;
    if (o.minSimilarity !== undefined && this.sim[index]! < o.minSimilarity - SIMILARITY_MARGIN) return false;
    return o.maxDistance === undefined || this.dist[index]! <= o.maxDistance + this.distSlack(o.maxDistance);
  }

  /** Whether C's formula is sure to keep this slot through the similarity and distance filters. */
  private surelyPasses(index: number): boolean {
    const s = this.sim[index]!;
    if (Number.isNaN(s)) return false;
    const o = this.o;
    if (o.minSimilarity !== undefined && s < o.minSimilarity + SIMILARITY_MARGIN) return false;
    return o.maxDistance === undefined || this.dist[index]! <= o.maxDistance - this.distSlack(o.maxDistance);
  }

  /** C's formula over a seqlock-checked copy of the vector; the hit (if it passes the filters) goes to `ranked`. */
  private exact(index: number, ranked: Ranked[], nonFinite: number[], busy: number[]): Pass {
    const m = this.m;
    const slotByte = m.slotByte(index);
    const w = slotByte >>> 2;
    const hashLo = Atomics.load(m.i32, w);
    const hashHi = Atomics.load(m.i32, w + 1);
    const globalBefore = Atomics.load(m.i32, m.globalEpochW32);
    const before = Atomics.load(m.u32, w + W.epoch);
    if ((before & 1) !== 0) return this.later(index, busy);
    const chosen = this.selected(slotByte); // the slot may have changed since the first pass
    if (chosen === false) return Pass.Skip;
    if (chosen === undefined) return this.corruptOrBusy(index, slotByte, before, hashLo, hashHi, globalBefore) === Pass.Busy ? this.later(index, busy) : Pass.Skip;
    const start = slotByte + SLOT.embedding;
    this.copyBytes.set(m.u8.subarray(start, start + EMBED_BYTES));
    const epoch = Atomics.load(m.u64, (slotByte + SLOT.epoch) >>> 3);
    const length = Atomics.load(m.u32, w + W.valLen);
    const type = Atomics.load(m.u8, slotByte + SLOT.type_flag);
    const labels = Atomics.load(m.u64, (slotByte + SLOT.bloom) >>> 3);
    const keyLength = this.readKey(slotByte);
    if (!copyStillValid(m, slotByte, before, hashLo, hashHi, globalBefore)) return this.later(index, busy);
    if (epoch === 0n) return Pass.Skip;
    const key = keyOfBytes(this.keyBytes.subarray(0, keyLength));
    const similarity = cSimilarity(this.query, 0, this.copy, 0, SPLINTER_EMBED_DIM);
    const distance = cDistance(this.query, 0, this.copy, 0, SPLINTER_EMBED_DIM);
    if (!Number.isFinite(similarity) || !Number.isFinite(distance)) {
      nonFinite.push(index);
      return Pass.Scored;
    }
    const o = this.o;
    if (o.minSimilarity !== undefined && similarity < o.minSimilarity) return Pass.Scored;
    if (o.maxDistance !== undefined && distance > o.maxDistance) return Pass.Scored;
    ranked.push({ key, similarity, distance, epoch, length, type, labels, index });
    return Pass.Scored;
  }

  private later(index: number, busy: number[]): Pass {
    busy.push(index);
    return Pass.Busy;
  }

  /** A skipped slot's key as it reads now (a writer may be changing it). */
  private keyAt(index: number): Key {
    const length = this.readKey(this.m.slotByte(index));
    return keyOfBytes(this.keyBytes.subarray(0, length < 0 ? KEY_MAX - 1 : length));
  }
}

function sameBytes(key: Uint8Array, length: number, other: Uint8Array): boolean {
  return length === other.length && startsWith(key, length, other);
}

function startsWith(key: Uint8Array, length: number, prefix: Uint8Array): boolean {
  if (prefix.length > length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
