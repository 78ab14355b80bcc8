/**
 * A slot-level model of one store: which slot holds which key, each slot's epoch, value
 * length, stored key bytes and value region, the global epoch and the mop flags. It places
 * keys exactly as each side does (docs/spec/FORMAT.md §7 and §9 Q1), so it predicts C's duplicate
 * keys, and it renders the whole file image the two sides must leave.
 *
 * Sides: 'ts' is our library, 'c' the C peer (libsplinter 1.2.0 semantics).
 */
import {
  BLOOM_BITS,
  CF_AUTO_SCRUB,
  CF_HYBRID_SCRUB,
  EMBED_BYTES,
  EMBED_DIM,
  H,
  KEY_BYTES,
  MAX_GROUPS,
  S,
  SIGNAL_GROUP_STRIDE,
  TYPE_VOID,
  U64_MAX,
  arenaStart,
  fnv1a64Oracle,
  hex,
  slotByte,
  type Geo,
} from '../lib/layout.js';

export type Side = 'ts' | 'c';

export type TargetRule = 'displaced' | 'blocker' | 'past-hole' | 'duplicated' | 'present' | 'biguint';

/** Target rules resolved by the step itself, from its key pool: 'absent' = a pool key not in the store (fills it up). */
export type StepRule = TargetRule | 'absent';

export interface ModelSlot {
  /** FNV-1a 64 of the key; 0n = empty. */
  hash: bigint;
  /** The 64 key bytes as stored (stale bytes included: mop off leaves them). */
  key: Uint8Array;
  epoch: bigint;
  len: number;
  /** This slot's maxValueSize bytes of arena, as stored (scrub leftovers included). */
  region: Uint8Array;
  typeFlag: number;
  watcherMask: bigint;
  ctime: bigint;
  atime: bigint;
  bloom: bigint;
  /** The 3072 embedding bytes (768 float32 LE) in the embeddings build; empty otherwise. */
  embedding: Uint8Array;
}

/** The vector both sides write for a seed (the peer's set_embedding rule): v[i] = float32(seed + i × 0.25). */
export function embeddingFor(seed: number): Float32Array {
  return Float32Array.from({ length: EMBED_DIM }, (_, i) => seed + i * 0.25);
}

export const embeddingBytes = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));

export const TYPE_BIGUINT = 4;
export const TYPE_BINARY = 16;
/** bloom_watches entry meaning "no group". */
export const NO_GROUP = 0xff;

/**
 * The u64 a short value becomes when ours names it BIGUINT (docs/slot-features.md): text
 * starting with a digit is parsed like C strtoull(s, 0, 0) (longest valid prefix, saturating),
 * anything else is its bytes read little-endian. Written from the docs, not from src.
 */
export function strtoullOracle(value: Uint8Array): bigint {
  const nul = value.indexOf(0);
  const text = value.subarray(0, nul < 0 ? value.length : nul);
  const digit = (b: number | undefined, base: number): number => {
    if (b === undefined) return -1;
    const d = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x7a ? b - 0x57 : b >= 0x41 && b <= 0x5a ? b - 0x37 : -1;
    return d >= 0 && d < base ? d : -1;
  };
  if (text.length === 0 || digit(text[0], 10) < 0) {
    let n = 0n;
    for (let i = value.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(value[i]!);
    return n;
  }
  let base = 10;
  let i = 0;
  if (text[0] === 0x30) {
    if ((text[1] === 0x78 || text[1] === 0x58) && digit(text[2], 16) >= 0) {
      base = 16;
      i = 2;
    } else base = 8;
  }
  let n = 0n;
  for (; i < text.length && digit(text[i], base) >= 0; i++) {
    n = n * BigInt(base) + BigInt(digit(text[i], base));
    if (n > U64_MAX) return U64_MAX;
  }
  return n;
}


export class SlotModel {
  readonly slots: ModelSlot[];
  globalEpoch = 1n;
  coreFlags = CF_AUTO_SCRUB | CF_HYBRID_SCRUB;
  /** bloom_watches[64]: label bit → signal group (NO_GROUP = none). */
  readonly bloomWatches: number[] = Array.from({ length: BLOOM_BITS }, () => NO_GROUP);
  /** signal_groups[64] counters. */
  readonly signals: bigint[] = Array.from({ length: MAX_GROUPS }, () => 0n);

  constructor(readonly geo: Geo) {
    this.slots = Array.from({ length: geo.slots }, () => ({
      hash: 0n,
      key: new Uint8Array(KEY_BYTES),
      epoch: 0n,
      len: 0,
      region: new Uint8Array(geo.maxValueSize),
      typeFlag: TYPE_VOID,
      watcherMask: 0n,
      ctime: 0n,
      atime: 0n,
      bloom: 0n,
      embedding: new Uint8Array(geo.embeddings ? EMBED_BYTES : 0),
    }));
  }

  // ── Probing ───────────────────────────────────────────────────────────────

  /** Slot indices in probe order for a key: hash mod slots, then linear, wrapping. */
  probePath(key: Uint8Array): number[] {
    const n = this.geo.slots;
    const home = Number(fnv1a64Oracle(key) % BigInt(n));
    return Array.from({ length: n }, (_, i) => (home + i) % n);
  }

  /** C's match: hash equal and the stored bytes are the key then NUL. */
  holds(index: number, key: Uint8Array): boolean {
    const s = this.slots[index]!;
    if (s.hash === 0n || s.hash !== fnv1a64Oracle(key)) return false;
    for (let i = 0; i < key.length; i++) if (s.key[i] !== key[i]) return false;
    return s.key[key.length] === 0;
  }

  /** The first copy on the probe path (what both sides' readers see), or -1. */
  find(key: Uint8Array): number {
    for (const i of this.probePath(key)) if (this.holds(i, key)) return i;
    return -1;
  }

  /** Every slot holding the key, in probe order. */
  copies(key: Uint8Array): number[] {
    return this.probePath(key).filter((i) => this.holds(i, key));
  }

  /**
   * Where a set goes, or -1 for a full store: on both sides the first slot on the probe path
   * that is empty or holds the key (C: docs/spec/FORMAT.md §7; ours since a4c9e4f, docs/format.md Q1).
   * C stops there, so a key past a hole gets a second copy in the hole (Q1); ours then
   * removes the other copies (`oursAfterInsert`).
   */
  placeForSet(_side: Side, key: Uint8Array): number {
    for (const i of this.probePath(key)) if (this.slots[i]!.hash === 0n || this.holds(i, key)) return i;
    return -1;
  }

  /**
   * Ours, after writing a key into an EMPTY slot: if other copies exist (the key sat past a
   * hole, or C duplicated it), the first copy on the path (the one just written) is written
   * again (a second publish: epochs move again) and every other copy is cleared like an unset.
   * Returns the slots cleared.
   */
  oursAfterInsert(key: Uint8Array, value: Uint8Array): number[] {
    const [keeper, ...others] = this.copies(key);
    if (keeper === undefined || others.length === 0) return [];
    this.set(keeper, key, value);
    for (const other of others) this.unset(other, 'ts');
    return others;
  }

  // ── Effects (docs/spec/FORMAT.md §7) ───────────────────────────────────────────────

  get mop(): 0 | 1 | 2 {
    if (this.coreFlags & CF_HYBRID_SCRUB) return 1;
    if (this.coreFlags & CF_AUTO_SCRUB) return 2;
    return 0;
  }

  setMop(mode: 0 | 1 | 2): void {
    if (mode === 0) this.coreFlags &= ~(CF_AUTO_SCRUB | CF_HYBRID_SCRUB) & 0xff;
    else if (mode === 1) this.coreFlags |= CF_AUTO_SCRUB | CF_HYBRID_SCRUB;
    else this.coreFlags |= CF_AUTO_SCRUB; // Q4: HYBRID stays as it was
  }

  /** set into slot `index` (both sides write the same bytes once the slot is chosen). */
  set(index: number, key: Uint8Array, value: Uint8Array): void {
    const s = this.slots[index]!;
    const maxv = this.geo.maxValueSize;
    const mode = this.mop;
    // Embeddings build: a slot that was empty starts with a zero vector (docs/spec/FORMAT.md §7 set).
    if (s.hash === 0n) s.embedding.fill(0);
    if (mode === 1) s.region.fill(0, 0, Math.min(Math.ceil(value.length / 64) * 64, maxv));
    else if (mode === 2) s.region.fill(0);
    s.region.set(value, 0);
    s.len = value.length;
    s.key.fill(0);
    s.key.set(key, 0);
    s.hash = fnv1a64Oracle(key);
    s.epoch = (s.epoch + 2n) & U64_MAX;
    this.pulse(index);
    this.globalEpoch = (this.globalEpoch + 1n) & U64_MAX;
  }

  /** "Pulse" of docs/spec/FORMAT.md §7: +1 per watcher_mask bit's group and per bound label bit's group. */
  pulse(index: number): void {
    const s = this.slots[index]!;
    // Watcher bit b pulses group b; label bit b pulses the group bound to it (both masks have 64 bits).
    for (let b = 0; b < BLOOM_BITS; b++) {
      if ((s.watcherMask >> BigInt(b)) & 1n) this.signals[b] = (this.signals[b]! + 1n) & U64_MAX;
      const g = this.bloomWatches[b]!;
      if ((s.bloom >> BigInt(b)) & 1n && g < MAX_GROUPS) this.signals[g] = (this.signals[g]! + 1n) & U64_MAX;
    }
  }

  /** C's first match scanning from slot 0 (set_as_system), or -1. */
  findFromZero(key: Uint8Array): number {
    for (let i = 0; i < this.geo.slots; i++) if (this.holds(i, key)) return i;
    return -1;
  }

  /** The u64 at the start of the slot's region (integer_op / get_biguint read it whatever val_len is). */
  u64At(index: number): bigint {
    return new DataView(this.slots[index]!.region.buffer).getBigUint64(0, true);
  }

  writeU64(index: number, value: bigint): void {
    new DataView(this.slots[index]!.region.buffer).setBigUint64(0, value & U64_MAX, true);
  }

  /** set_named_type; `promote`: ours promoting a value shorter than 8 bytes in place (val_off, val_brk unchanged). */
  setNamedType(index: number, mask: number): void {
    const s = this.slots[index]!;
    if (mask & TYPE_BIGUINT && s.len < 8) {
      this.writeU64(index, strtoullOracle(this.valueAt(index)));
      s.len = 8;
    }
    s.typeFlag = mask;
    s.epoch = (s.epoch + 2n) & U64_MAX;
    this.globalEpoch = (this.globalEpoch + 1n) & U64_MAX;
  }

  integerOp(index: number, op: number, operand: bigint): void {
    const v = this.u64At(index);
    const results = [v & operand, v | operand, v ^ operand, ~v, v + operand, v - operand];
    this.writeU64(index, results[op]!);
    const s = this.slots[index]!;
    s.epoch = (s.epoch + 2n) & U64_MAX;
    this.globalEpoch = (this.globalEpoch + 1n) & U64_MAX;
  }

  /** unset of slot `index` by `side`; returns the old length. C resets the epoch to 2, ours releases to e + 2 (docs/format.md). */
  unset(index: number, side: Side): number {
    const s = this.slots[index]!;
    const old = s.len;
    s.hash = 0n;
    if (this.coreFlags & CF_AUTO_SCRUB) {
      s.region.fill(0);
      s.key.fill(0);
    } else {
      s.key[0] = 0;
    }
    s.len = 0;
    s.epoch = side === 'c' ? 2n : (s.epoch + 2n) & U64_MAX;
    s.typeFlag = TYPE_VOID;
    s.watcherMask = 0n;
    s.ctime = 0n;
    s.atime = 0n;
    s.bloom = 0n;
    s.embedding.fill(0);
    return old;
  }

  /** set_embedding: the vector copied under the seqlock; slot epoch +2, global +1, no pulse. */
  setEmbedding(index: number, vector: Uint8Array): void {
    const s = this.slots[index]!;
    s.embedding.set(vector);
    s.epoch = (s.epoch + 2n) & U64_MAX;
    this.globalEpoch = (this.globalEpoch + 1n) & U64_MAX;
  }

  /** retrain_slot by `side`: C stores epoch 3 then 4, ours (e | 1) then (e | 1) + 1; embedding zeroed, global +1, pulse. */
  retrain(index: number, side: Side): void {
    const s = this.slots[index]!;
    s.epoch = side === 'c' ? 4n : ((s.epoch | 1n) + 1n) & U64_MAX;
    s.embedding.fill(0);
    this.globalEpoch = (this.globalEpoch + 1n) & U64_MAX;
    this.pulse(index);
  }

  /** append to slot `index`; returns the new length (the caller checked the limit). */
  append(index: number, data: Uint8Array): number {
    const s = this.slots[index]!;
    s.region.set(data, s.len);
    s.len += data.length;
    s.epoch = (s.epoch + 2n) & U64_MAX;
    this.pulse(index);
    this.globalEpoch = (this.globalEpoch + 1n) & U64_MAX;
    return s.len;
  }

  /** C's refused append: it took the seqlock, so the slot epoch moved by 2; nothing else. */
  refusedAppendC(index: number): void {
    const s = this.slots[index]!;
    s.epoch = (s.epoch + 2n) & U64_MAX;
  }

  /** purge: every (even) slot is taken and released; unused arena bytes zeroed. */
  purge(): void {
    for (const s of this.slots) {
      if (s.hash === 0n) s.region.fill(0);
      else s.region.fill(0, s.len);
      s.epoch = (s.epoch + 2n) & U64_MAX;
    }
  }

  // ── Targets: keys in situations worth steering steps at ──────────────────────

  /**
   * Keys (in slot order, each once) in a situation a targeted step aims at:
   * - 'displaced': its first copy sits past its home slot (it collided when set);
   * - 'blocker': it sits on a displaced key's probe path in front of it (unset it: a hole);
   * - 'past-hole': an empty slot lies on its path before its first copy (a C set duplicates it, Q1);
   * - 'duplicated': it has two or more copies (C made them).
   */
  targets(rule: TargetRule): string[] {
    const out = new Set<string>();
    const decoder = new TextDecoder();
    this.slots.forEach((s, i) => {
      if (s.hash === 0n) return;
      const key = this.keyBytesAt(i);
      const path = this.probePath(key);
      const first = this.find(key);
      const before = path.slice(0, path.indexOf(first));
      switch (rule) {
        case 'displaced':
          if (before.length > 0) out.add(decoder.decode(key));
          break;
        case 'blocker':
          for (const j of before) if (this.slots[j]!.hash !== 0n) out.add(decoder.decode(this.keyBytesAt(j)));
          break;
        case 'past-hole':
          if (before.some((j) => this.slots[j]!.hash === 0n)) out.add(decoder.decode(key));
          break;
        case 'duplicated':
          if (this.copies(key).length > 1) out.add(decoder.decode(key));
          break;
        case 'present':
          out.add(decoder.decode(key));
          break;
        case 'biguint':
          if (this.slots[first]!.typeFlag & TYPE_BIGUINT) out.add(decoder.decode(key));
          break;
      }
    });
    return [...out];
  }

  // ── Views ─────────────────────────────────────────────────────────────────

  keyBytesAt(index: number): Uint8Array {
    const k = this.slots[index]!.key;
    const nul = k.indexOf(0);
    return k.slice(0, nul < 0 ? KEY_BYTES : nul);
  }

  valueAt(index: number): Uint8Array {
    const s = this.slots[index]!;
    return s.region.slice(0, s.len);
  }

  /** C's list: slots with a hash and a non-empty value, in slot order (duplicates twice). */
  list(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.slots.forEach((s, i) => {
      if (s.hash !== 0n && s.len > 0) out.push(this.keyBytesAt(i));
    });
    return out;
  }

  /** The plain key → value map a reader sees (the first copy of each key on its probe path). */
  view(): Map<string, { index: number; value: Uint8Array; epoch: bigint; keyBytes: Uint8Array }> {
    const map = new Map<string, { index: number; value: Uint8Array; epoch: bigint; keyBytes: Uint8Array }>();
    const seen = new Set<string>();
    this.slots.forEach((s, i) => {
      if (s.hash === 0n) return;
      const keyBytes = this.keyBytesAt(i);
      const id = hex(keyBytes);
      if (seen.has(id)) return;
      seen.add(id);
      const first = this.find(keyBytes);
      const text = new TextDecoder().decode(keyBytes);
      map.set(text, { index: first, value: this.valueAt(first), epoch: this.slots[first]!.epoch, keyBytes });
    });
    return map;
  }

  /** Indices holding more than one copy of a key (C's Q1 duplicates), for toString/debugging. */
  duplicates(): string[] {
    const by = new Map<string, number[]>();
    this.slots.forEach((s, i) => {
      if (s.hash === 0n) return;
      const id = new TextDecoder().decode(this.keyBytesAt(i));
      by.set(id, [...(by.get(id) ?? []), i]);
    });
    return [...by].filter(([, is]) => is.length > 1).map(([k, is]) => `${JSON.stringify(k)}@${is.join('/')}`);
  }

  /** The whole store image: the fresh image's header with the epoch and flags, then slots and arena. */
  render(fresh: Uint8Array): Uint8Array {
    const g = this.geo;
    const out = new Uint8Array(fresh.length);
    out.set(fresh.subarray(0, slotByte(0, g)));
    const dv = new DataView(out.buffer);
    dv.setBigUint64(H.epoch, this.globalEpoch, true);
    out[H.core_flags] = this.coreFlags;
    out.set(this.bloomWatches, H.bloom_watches);
    this.signals.forEach((n, g) => dv.setBigUint64(H.signal_groups + g * SIGNAL_GROUP_STRIDE, n, true));
    const arena = arenaStart(g);
    this.slots.forEach((s, i) => {
      const at = slotByte(i, g);
      dv.setBigUint64(at + S.hash, s.hash, true);
      dv.setBigUint64(at + S.epoch, s.epoch, true);
      dv.setUint32(at + S.val_off, i * g.maxValueSize, true);
      dv.setUint32(at + S.val_len, s.len, true);
      out[at + S.type_flag] = s.typeFlag;
      dv.setBigUint64(at + S.watcher_mask, s.watcherMask, true);
      dv.setBigUint64(at + S.ctime, s.ctime, true);
      dv.setBigUint64(at + S.atime, s.atime, true);
      dv.setBigUint64(at + S.bloom, s.bloom, true);
      out.set(s.key, at + S.key);
      if (g.embeddings) out.set(s.embedding, at + S.embedding);
      out.set(s.region, arena + i * g.maxValueSize);
    });
    return out;
  }

  /** One line per used slot, for failure reports. */
  describe(): string {
    const rows = this.slots.map((s, i) => {
      if (s.hash === 0n) return `  [${i}] empty epoch ${s.epoch}`;
      const k = new TextDecoder().decode(this.keyBytesAt(i));
      const extra = `${s.typeFlag !== TYPE_VOID ? ` type ${s.typeFlag}` : ''}${s.watcherMask ? ` watch ${s.watcherMask.toString(16)}` : ''}${s.bloom ? ` bloom ${s.bloom.toString(16)}` : ''}${s.ctime || s.atime ? ` ctime ${s.ctime} atime ${s.atime}` : ''}${s.embedding.some((b) => b !== 0) ? ` embedding [${Array.from(new Float32Array(s.embedding.slice().buffer, 0, 2)).join(', ')}, …]` : ''}`;
      return `  [${i}] ${JSON.stringify(k)} len ${s.len} epoch ${s.epoch}${extra} value ${hex(this.valueAt(i))}`;
    });
    const bound = this.bloomWatches.flatMap((g, b) => (g === NO_GROUP ? [] : [`${b}→${g}`]));
    const counts = this.signals.flatMap((n, g) => (n === 0n ? [] : [`${g}:${n}`]));
    return `global epoch ${this.globalEpoch}, mop flags ${this.coreFlags}, label bindings [${bound.join(' ')}], signals [${counts.join(' ')}]\n${rows.join('\n')}`;
  }
}
