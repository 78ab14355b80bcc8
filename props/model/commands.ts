/**
 * The model-test commands: one class per operation, each executed by one side (our library
 * 'ts' or the C peer 'c') on the one store both share, its result checked against what the
 * slot model predicts for that side, then the model updated, then every invariant checked.
 *
 * Adding an operation: subclass Step, implement `apply` (predict from the model, run on
 * r.store or r.peer, compare, update the model) and `describe`, give its arbitrary a
 * weight in `commandArbitrary`, and extend SlotModel (and its `render`) with its effect.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { isSplinterError, type IntOp, type SplinterErrorCode, type Store } from '../../src/index.js';
import type { Peer, PeerAnswer } from '../../test/helpers/peer.js';
import { describeDifferences, hex, sameBytes, unhex, utf8, type Geo } from '../lib/layout.js';
import { EDGE_KEYS, validKey, type KeySpace } from './keys.js';
import { NO_GROUP, TYPE_BINARY, TYPE_BIGUINT, embeddingBytes, embeddingFor, type Side, type SlotModel, type StepRule } from './slot-model.js';

export interface Real {
  store: Store;
  peer: Peer;
  geo: Geo;
  /** The store's file (/dev/shm/NAME): what both sides really left, read after every step. */
  file: string;
  /** The image of the store as created, to reset it between runs and to render the model. */
  fresh: Uint8Array;
}

export type Cmd = fc.AsyncCommand<SlotModel, Real>;

// ── Display ─────────────────────────────────────────────────────────────────

export function showKey(key: string): string {
  const chars = [...key];
  if (chars.length > 8 && chars.every((c) => c === chars[0])) return `${JSON.stringify(chars[0])}×${chars.length}`;
  if (chars.length > 8 && chars.slice(0, -1).every((c) => c === chars[0])) {
    return `${JSON.stringify(chars[0])}×${chars.length - 1}+${JSON.stringify(chars.at(-1))}`;
  }
  return JSON.stringify(key);
}

export interface Payload {
  bytes: Uint8Array;
  /** When set, our library is handed this string (it must store its UTF-8 bytes). */
  text?: string;
}

function showPayload(p: Payload): string {
  if (p.text !== undefined) {
    const chars = [...p.text];
    return `text ${JSON.stringify(chars.slice(0, 12).join(''))}${chars.length > 12 ? '…' : ''} (${p.bytes.length}B)`;
  }
  const h = hex(p.bytes);
  return `${p.bytes.length}B ${h.length > 16 ? `${h.slice(0, 16)}…` : h}`;
}

function show(x: unknown): string {
  if (x instanceof Uint8Array) return `bytes ${hex(x)}`;
  if (typeof x === 'bigint') return `${x}n`;
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? hex(v) : v)) ?? String(x);
}

// ── What the runs reached ───────────────────────────────────────────────────

/** Counts of the situations the runs reached, so the test can prove its generators reach them. */
export const reached = new Map<string, number>();

export function note(label: string): void {
  reached.set(label, (reached.get(label) ?? 0) + 1);
}

/** The new operations: each must run on both sides at least once per default run. */
export const FEATURE_OPS = [
  'setNamedType',
  'integerOp',
  'getBigUint',
  'setSlotTime',
  'setLabel',
  'unsetLabel',
  'enumerateMatches',
  'setAsSystem',
  'retrainSlot',
  'bumpSlot',
  'watchRegister',
  'watchUnregister',
  'watchLabelRegister',
  'pulseKeygroup',
  'getSignalCount',
  'setTandem',
  'unsetTandem',
] as const;

/** Embedding operations: each must run on both sides on the embeddings geometry. */
export const EMBEDDING_OPS = ['setEmbedding', 'getEmbedding'] as const;

/** The situations every default run of the model test must reach at least once. */
export const MUST_REACH = [
  'set: multi-byte UTF-8 key',
  'set: the empty key',
  'set: 63-byte key',
  'EINVAL: key refused (64+ bytes, NUL, lone surrogate)',
  'set: key placed past its home slot (collision)',
  'set: C duplicates a key past a hole (Q1)',
  'set: ours updates the first copy of a C duplicate',
  'set: ours moves a key past a hole into it (other copies removed)',
  'unset: a stale C duplicate becomes visible',
  'ENOSPC: ours',
  'ENOSPC: C',
  'set: 1-byte value',
  'set: maxValueSize value',
  'set: binary value (NUL or high bytes)',
  'set: refused length (EMSGSIZE / EINVAL)',
  'append: exactly to maxValueSize',
  'append: EMSGSIZE ours',
  'append: EMSGSIZE C',
  'unset: with mop off (stale key bytes stay)',
  'purge',
  'get: key present',
  ...FEATURE_OPS.flatMap((op) => [`ran ${op}: ts`, `ran ${op}: c`]),
  'setNamedType: ours promotes a short value in place',
  'EPROTOTYPE: integerOp ts',
  'EPROTOTYPE: integerOp c',
  'EPROTOTYPE: getBigUint ours',
  'ENOENT: bumpSlot ours',
  'EINVAL: watchRegister ours',
  'EINVAL: watchLabelRegister ours',
  'getSignalCount: a non-zero count',
  'target: biguint',
  'enumerateMatches: a label match',
  'bad slot time field: ts',
  'bad slot time field: c',
  // Embeddings (only the embeddings geometry runs them; the others refuse them with ENOTSUP).
  ...EMBEDDING_OPS.flatMap((op) => [`ran ${op}: ts`, `ran ${op}: c`]),
  'ENOTSUP: setEmbedding ours (128-byte slots)',
  'ENOENT: setEmbedding ts',
  'ENOENT: setEmbedding c',
  'getEmbedding: a non-zero vector',
  'unset: zeroes a set embedding',
  'retrainSlot: zeroes a set embedding',
]

// ── Checks ──────────────────────────────────────────────────────────────────

class Mismatch extends Error {
  override name = 'Mismatch';
}

function fail(what: string): never {
  throw new Mismatch(what);
}

/** `fn` must throw a SplinterError with one of `codes`; anything else (or nothing) fails. */
function expectThrows(what: string, fn: () => unknown, codes: SplinterErrorCode[]): void {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    if (isSplinterError(error) && codes.includes(error.code)) return;
    fail(`${what}: expected SplinterError ${codes.join('|')}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
  fail(`${what}: expected SplinterError ${codes.join('|')}, but it returned ${show(result)}`);
}

function expectPeer(what: string, answer: PeerAnswer, rc: number, errno?: string): void {
  if (answer.rc !== rc || (errno !== undefined && answer.errno !== errno)) {
    fail(`${what}: the C peer answered ${JSON.stringify(answer)}, model expects rc ${rc}${errno ? ` ${errno}` : ''}`);
  }
}

function equal(what: string, actual: unknown, expected: unknown): void {
  const same = actual instanceof Uint8Array || expected instanceof Uint8Array
    ? sameBytes(actual as Uint8Array, expected as Uint8Array) || (actual === undefined && expected === undefined)
    : show(actual) === show(expected);
  if (!same) fail(`${what}: got ${show(actual)}, model expects ${show(expected)}`);
}

/**
 * After every step: the file holds exactly the image the model renders (header epoch and
 * flags, every slot field, every arena byte), and our library reads every key of the
 * model's key → value map with its value and epoch, and lists the keys in slot order.
 */
export function checkInvariants(m: SlotModel, r: Real): void {
  const actual = new Uint8Array(fs.readFileSync(r.file));
  const difference = describeDifferences(r.geo, actual, m.render(r.fresh));
  if (difference !== undefined) fail(`the store's bytes differ from the model: ${difference}`);
  for (const [key, expected] of m.view()) {
    equal(`invariant: get(${showKey(key)})`, r.store.get(key), expected.value);
    equal(`invariant: getEpoch(${showKey(key)})`, r.store.getEpoch(key), expected.epoch);
  }
  equal('invariant: keys()', r.store.keys(), m.list().map((k) => new TextDecoder().decode(k)));
}

// ── Commands ────────────────────────────────────────────────────────────────

abstract class Step implements Cmd {
  constructor(readonly side: Side) {}

  /** A fresh copy per run (fast-check clones commands), so what a run resolved is shown for that run. */
  [fc.cloneMethod](): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    return Object.assign(copy, this);
  }

  check(): boolean {
    return true;
  }

  async run(m: SlotModel, r: Real): Promise<void> {
    try {
      await this.apply(m, r);
      checkInvariants(m, r);
    } catch (error) {
      if (error instanceof Mismatch) {
        error.message += `\n  after ${this.toString()}\n  model now:\n${m.describe()}`;
      }
      throw error;
    }
  }

  protected abstract apply(m: SlotModel, r: Real): Promise<void>;
  protected abstract describe(): string;

  toString(): string {
    return `${this.side}:${this.describe()}`;
  }
}

/**
 * Where a step's key comes from: a literal key, or a rule resolved against the model when
 * the step runs (the n-th key in that situation, else the fallback), so that sequences keep
 * reaching the rare situations (a hole in front of a key, C's duplicates) at every size.
 */
export type KeySource = { key: string } | { rule: StepRule; n: number; fallback: string; pool: readonly string[] };

/** A step on one key; a key our library refuses is never sent to the peer (it would store it truncated, Q2). */
abstract class KeyStep extends Step {
  key: string;
  bytes: Uint8Array;
  valid: boolean;
  /** Set when a rule found its key in the run that used this command instance. */
  private resolvedByRule = false;

  constructor(side: Side, readonly source: KeySource) {
    const key = 'key' in source ? source.key : source.fallback;
    const valid = validKey(key);
    super(valid ? side : 'ts');
    this.key = key;
    this.valid = valid;
    this.bytes = utf8(key);
  }

  override async run(m: SlotModel, r: Real): Promise<void> {
    if ('rule' in this.source) {
      const rule = this.source.rule;
      const candidates = rule === 'absent' ? this.source.pool.filter((k) => m.find(utf8(k)) < 0) : m.targets(rule);
      const key = candidates.length > 0 ? candidates[this.source.n % candidates.length]! : this.source.fallback;
      this.resolvedByRule = candidates.length > 0;
      if (this.resolvedByRule) note(`target: ${this.source.rule}`);
      this.key = key;
      this.bytes = utf8(key);
      this.valid = validKey(key);
    }
    return super.run(m, r);
  }

  protected get keyHex(): string {
    return hex(this.bytes);
  }

  /** The key as shown: literal, or "rule#n→key" once resolved in the run that failed. */
  protected get shownKey(): string {
    if ('key' in this.source) return showKey(this.key);
    const key = this.resolvedByRule ? showKey(this.key) : `none, fallback ${showKey(this.source.fallback)}`;
    return `${this.source.rule}#${this.source.n}→${key}`;
  }
}

export class SetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly value: Payload) {
    super(side, source);
  }

  protected describe(): string {
    return `set(${this.shownKey}, ${showPayload(this.value)})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const len = this.value.bytes.length;
    const lengthOk = len >= 1 && len <= r.geo.maxValueSize;
    const what = this.toString();
    if (this.side === 'ts') {
      const call = (): void => r.store.set(this.key, this.value.text ?? this.value.bytes);
      if (!this.valid || !lengthOk) {
        note(this.valid ? 'set: refused length (EMSGSIZE / EINVAL)' : 'EINVAL: key refused (64+ bytes, NUL, lone surrogate)');
        expectThrows(what, call, [...(lengthOk ? [] : ['EMSGSIZE' as const]), ...(this.valid ? [] : ['EINVAL' as const])]);
        return;
      }
      const index = m.placeForSet('ts', this.bytes);
      if (index < 0) {
        note('ENOSPC: ours');
        return expectThrows(what, call, ['ENOSPC']);
      }
      const fresh = m.slots[index]!.hash === 0n;
      // Ours: a BIGUINT slot takes only 8 bytes that are not text (docs/api.md, "Decisions"); nothing is written.
      if (!fresh && m.slots[index]!.typeFlag & TYPE_BIGUINT && (this.value.text !== undefined || len !== 8)) {
        note('EPROTOTYPE: set ours on a BIGUINT slot');
        return expectThrows(what, call, ['EPROTOTYPE']);
      }
      call();
      this.noteSet(m, index);
      m.set(index, this.bytes, this.value.bytes);
      if (fresh && m.oursAfterInsert(this.bytes, this.value.bytes).length > 0) note('set: ours moves a key past a hole into it (other copies removed)');
      return;
    }
    const answer = await r.peer.send({ op: 'set', key_hex: this.keyHex, value_hex: hex(this.value.bytes) });
    if (!lengthOk) note('set: refused length (EMSGSIZE / EINVAL)');
    if (len === 0) return expectPeer(what, answer, -1, 'EINVAL');
    if (!lengthOk) return expectPeer(what, answer, -1, 'EMSGSIZE');
    const index = m.placeForSet('c', this.bytes);
    if (index < 0) {
      note('ENOSPC: C');
      return expectPeer(what, answer, -1, 'ENOSPC');
    }
    expectPeer(what, answer, 0);
    this.noteSet(m, index);
    m.set(index, this.bytes, this.value.bytes);
  }

  private noteSet(m: SlotModel, index: number): void {
    const v = this.value.bytes;
    if (this.bytes.length > [...this.key].length) note('set: multi-byte UTF-8 key');
    if (this.bytes.length === 0) note('set: the empty key');
    if (this.bytes.length === 63) note('set: 63-byte key');
    if (index !== m.probePath(this.bytes)[0]) note('set: key placed past its home slot (collision)');
    const first = m.find(this.bytes);
    if (this.side === 'c' && first >= 0 && first !== index) note('set: C duplicates a key past a hole (Q1)');
    if (this.side === 'ts' && index === first && m.copies(this.bytes).length > 1) note('set: ours updates the first copy of a C duplicate');
    if (v.length === 1) note('set: 1-byte value');
    if (v.length === m.geo.maxValueSize) note('set: maxValueSize value');
    if (v.some((b) => b === 0 || b >= 0x80)) note('set: binary value (NUL or high bytes)');
  }
}

export type GetVariant = 'get' | 'getString' | 'getInto' | 'rawView';

export class GetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly variant: GetVariant, readonly targetSize: number) {
    super(side, source);
  }

  protected describe(): string {
    if (this.side === 'c') return `get(${this.shownKey})`;
    return `${this.variant}(${this.shownKey}${this.variant === 'getInto' ? `, ${this.targetSize}B target` : ''})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const index = this.valid ? m.find(this.bytes) : -1;
    const expected = index >= 0 ? m.valueAt(index) : undefined;
    if (expected !== undefined) note('get: key present');
    if (this.side === 'c') {
      const answer = await r.peer.send({ op: 'get', key_hex: this.keyHex });
      if (expected === undefined) return expectPeer(what, answer, -1, 'ENOENT');
      expectPeer(what, answer, 0);
      return equal(what, unhex(String(answer['value_hex'])), expected);
    }
    const store = r.store;
    switch (this.variant) {
      case 'get':
        if (!this.valid) return expectThrows(what, () => store.get(this.key), ['EINVAL']);
        return equal(what, store.get(this.key), expected);
      case 'getString':
        if (!this.valid) return expectThrows(what, () => store.getString(this.key), ['EINVAL']);
        return equal(what, store.getString(this.key), expected && new TextDecoder().decode(expected));
      case 'getInto': {
        const target = new Uint8Array(this.targetSize).fill(0xa5);
        if (!this.valid) return expectThrows(what, () => store.getInto(this.key, target), ['EINVAL']);
        if (expected !== undefined && expected.length > target.length) {
          expectThrows(what, () => store.getInto(this.key, target), ['EMSGSIZE']);
        } else {
          equal(what, store.getInto(this.key, target), expected?.length ?? -1);
          if (expected !== undefined) equal(`${what} bytes`, target.subarray(0, expected.length), expected);
        }
        return equal(`${what}: bytes past the value untouched`, target.subarray(expected?.length ?? 0).every((b) => b === 0xa5), true);
      }
      case 'rawView': {
        if (!this.valid) return expectThrows(what, () => store.rawView(this.key), ['EINVAL']);
        const view = store.rawView(this.key);
        if (expected === undefined) return equal(what, view, undefined);
        if (view === undefined) return fail(`${what}: undefined, model expects ${hex(expected)}`);
        equal(`${what} bytes`, view.bytes, expected);
        equal(`${what} epoch`, view.epoch, m.slots[index]!.epoch);
        return equal(`${what} stillValid()`, view.stillValid(), true);
      }
    }
  }
}

export class UnsetCmd extends KeyStep {
  protected describe(): string {
    return `unset(${this.shownKey})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (!this.valid) return expectThrows(what, () => r.store.unset(this.key), ['EINVAL']);
    const index = m.find(this.bytes);
    if (this.side === 'ts') {
      const removed = r.store.unset(this.key);
      equal(what, removed, index < 0 ? undefined : m.slots[index]!.len);
    } else {
      const answer = await r.peer.send({ op: 'unset', key_hex: this.keyHex });
      if (index < 0) expectPeer(what, answer, -1, 'ENOENT');
      else expectPeer(what, answer, m.slots[index]!.len);
    }
    if (index >= 0) {
      if (m.copies(this.bytes).length > 1) note('unset: a stale C duplicate becomes visible');
      if (m.mop === 0) note('unset: with mop off (stale key bytes stay)');
      if (m.slots[index]!.embedding.some((b) => b !== 0)) note('unset: zeroes a set embedding');
      m.unset(index, this.side);
    }
  }
}

/** 'fill' appends exactly what the value still has room for, 'overflow' one byte more. */
export type AppendSizing = 'as-is' | 'fill' | 'overflow';

export class AppendCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly data: Payload, readonly sizing: AppendSizing) {
    super(side, source);
  }

  protected describe(): string {
    const size = this.sizing === 'as-is' ? showPayload(this.data) : `${this.sizing} to the limit with ${showPayload(this.data)}`;
    return `append(${this.shownKey}, ${size})`;
  }

  /** The data actually appended: sized from the model for 'fill' / 'overflow'. */
  private dataFor(m: SlotModel, index: number): Payload {
    if (this.sizing === 'as-is' || index < 0) return this.data;
    const room = m.geo.maxValueSize - m.slots[index]!.len + (this.sizing === 'overflow' ? 1 : 0);
    if (room <= 0) return this.data;
    const source = this.data.bytes.length > 0 ? this.data.bytes : new Uint8Array([0x5a]);
    return { bytes: Uint8Array.from({ length: room }, (_, i) => source[i % source.length]!) };
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const index = this.valid ? m.find(this.bytes) : -1;
    const data = this.dataFor(m, index);
    const len = data.bytes.length;
    const tooLong = index >= 0 && m.slots[index]!.len + len > m.geo.maxValueSize;
    if (this.side === 'ts') {
      const call = (): number => r.store.append(this.key, data.text ?? data.bytes);
      if (len === 0 || !this.valid) return expectThrows(what, call, ['EINVAL']);
      if (index < 0) return expectThrows(what, call, ['ENOENT']);
      // Ours appends nothing to a BIGUINT slot (docs/api.md, "Decisions"), checked before locking.
      if (m.slots[index]!.typeFlag & TYPE_BIGUINT) {
        note('EPROTOTYPE: append ours on a BIGUINT slot');
        return expectThrows(what, call, ['EPROTOTYPE']);
      }
      // Ours refuses before taking the seqlock: the slot epoch does not move (C's does).
      if (tooLong) {
        note('append: EMSGSIZE ours');
        return expectThrows(what, call, ['EMSGSIZE']);
      }
      equal(what, call(), m.append(index, data.bytes));
      if (m.slots[index]!.len === m.geo.maxValueSize) note('append: exactly to maxValueSize');
      return;
    }
    const answer = await r.peer.send({ op: 'append', key_hex: this.keyHex, value_hex: hex(data.bytes) });
    if (len === 0) return expectPeer(what, answer, -2, 'EINVAL');
    if (index < 0) return expectPeer(what, answer, -1, 'ENOENT');
    if (tooLong) {
      note('append: EMSGSIZE C');
      expectPeer(what, answer, -1, 'EMSGSIZE');
      return m.refusedAppendC(index);
    }
    expectPeer(what, answer, 0);
    equal(`${what} new_len`, answer['new_len'], m.append(index, data.bytes));
    if (m.slots[index]!.len === m.geo.maxValueSize) note('append: exactly to maxValueSize');
  }
}

/** has + getEpoch (ours) or get_epoch (C): the exact slot epoch, 0 when missing. */
export class EpochCmd extends KeyStep {
  protected describe(): string {
    return `${this.side === 'ts' ? 'has+getEpoch' : 'get_epoch'}(${this.shownKey})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (!this.valid) {
      expectThrows(`${what} has`, () => r.store.has(this.key), ['EINVAL']);
      return expectThrows(`${what} getEpoch`, () => r.store.getEpoch(this.key), ['EINVAL']);
    }
    const index = m.find(this.bytes);
    const epoch = index < 0 ? 0n : m.slots[index]!.epoch;
    if (index >= 0 && epoch === 0n) fail(`${what}: the model has a present key with epoch 0`);
    if (this.side === 'ts') {
      equal(`${what} has`, r.store.has(this.key), index >= 0);
      return equal(`${what} getEpoch`, r.store.getEpoch(this.key), epoch);
    }
    const answer = await r.peer.send({ op: 'get_epoch', key_hex: this.keyHex });
    expectPeer(what, answer, 0);
    equal(what, answer['epoch'], String(epoch));
  }
}

/** slotSnapshot (ours) or slot (C): the slot index and fields of the first copy. */
export class InspectCmd extends KeyStep {
  protected describe(): string {
    return `${this.side === 'ts' ? 'slotSnapshot' : 'slot'}(${this.shownKey})`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (!this.valid) return expectThrows(what, () => r.store.slotSnapshot(this.key), ['EINVAL']);
    const index = m.find(this.bytes);
    const s = index >= 0 ? m.slots[index]! : undefined;
    if (this.side === 'ts') {
      const snap = r.store.slotSnapshot(this.key);
      if (s === undefined) return equal(what, snap, undefined);
      // Only the fields the model knows, picked from the snapshot (new fields may be added).
      const pick = (o: object | undefined, keys: string[]): object | undefined =>
        o && Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]));
      const expected = {
          index,
          key: this.key,
          hash: s.hash,
          epoch: s.epoch,
          valueOffset: index * m.geo.maxValueSize,
          valueLength: s.len,
          typeFlag: s.typeFlag,
          userFlag: 0,
          watcherMask: s.watcherMask,
          ctime: s.ctime,
          atime: s.atime,
          bloom: s.bloom,
        };
      return equal(what, pick(snap, Object.keys(expected)), expected);
    }
    const answer = await r.peer.send({ op: 'slot', key_hex: this.keyHex });
    if (s === undefined) return expectPeer(what, answer, -1, 'ENOENT');
    expectPeer(what, answer, 0);
    const { index: i, hash, epoch, val_off, val_len, type_flag } = answer;
    equal(what, { i, hash, epoch, val_off, val_len, type_flag }, {
      i: index,
      hash: String(s.hash),
      epoch: String(s.epoch),
      val_off: index * m.geo.maxValueSize,
      val_len: s.len,
      type_flag: s.typeFlag,
    });
  }
}

export class KeysCmd extends Step {
  protected describe(): string {
    return this.side === 'ts' ? 'keys()' : 'list';
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const expected = m.list();
    if (this.side === 'ts') {
      const keys = r.store.keys();
      return equal(this.toString(), keys, expected.map((k) => new TextDecoder().decode(k)));
    }
    const answer = await r.peer.send({ op: 'list' });
    expectPeer(this.toString(), answer, 0);
    equal(this.toString(), answer['keys_hex'], expected.map(hex));
  }
}

/** set_mop(mode) then get_mop; mode 3 is refused (EINVAL / rc -1). */
export class MopCmd extends Step {
  constructor(side: Side, readonly mode: 0 | 1 | 2 | 3) {
    super(side);
  }

  protected describe(): string {
    return `setMop(${this.mode})+getMop`;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const mode = this.mode;
    if (this.side === 'ts') {
      if (mode === 3) expectThrows(what, () => r.store.setMop(mode as never), ['EINVAL']);
      else r.store.setMop(mode);
    } else {
      const answer = await r.peer.send({ op: 'set_mop', mode });
      expectPeer(what, answer, mode === 3 ? -1 : 0, mode === 3 ? 'EINVAL' : undefined);
    }
    if (mode !== 3) m.setMop(mode);
    if (this.side === 'ts') return equal(what, r.store.getMop(), m.mop);
    const answer = await r.peer.send({ op: 'get_mop' });
    equal(what, answer['mode'], m.mop);
  }
}

export class PurgeCmd extends Step {
  protected describe(): string {
    return 'purge';
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    if (this.side === 'ts') r.store.purge();
    else expectPeer(this.toString(), await r.peer.send({ op: 'purge' }), 0);
    note('purge');
    m.purge();
  }
}

// ── Slot features and the signal bus (docs/slot-features.md, docs/spec/FORMAT.md §7) ──

const U64_MASK = 0xffffffffffffffffn;

/** Records that an operation ran on a side (the reach check wants every one on both). */
function ran(op: string, side: Side): void {
  note(`ran ${op}: ${side}`);
}


/**
 * A step on one existing key: EINVAL (ours) for a refused key, ENOENT (ours) / -1 ENOENT
 * (C) when the model has no such key (`find` says where each side looks), else `present`.
 */
abstract class FeatureStep extends KeyStep {
  protected abstract readonly op: (typeof FEATURE_OPS)[number];
  protected abstract callOurs(r: Real, m: SlotModel): unknown;
  protected abstract peerCommand(m: SlotModel): Record<string, unknown>;
  /** Checks (the result) and updates the model for a present key at `index`; `answer` for C. */
  protected abstract present(m: SlotModel, index: number, result: unknown, answer?: PeerAnswer): void;
  /** Side that really runs (a step may move to ours, e.g. a BIGUINT promotion of a short value). */
  protected sideFor(_m: SlotModel, _index: number): Side {
    return this.side;
  }
  protected find(m: SlotModel): number {
    return m.find(this.bytes);
  }
  /** Ours: an argument error found before the key is looked up (e.g. group 64), else undefined. */
  protected argumentError(): SplinterErrorCode | undefined {
    return undefined;
  }

  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const argError = this.argumentError();
    if (!this.valid) return expectThrows(what, () => this.callOurs(r, m), [argError ?? 'EINVAL']);
    const index = this.find(m);
    const side = this.sideFor(m, index);
    if (side === 'ts') {
      if (argError !== undefined) {
        note(`${argError}: ${this.op} ours`);
        return expectThrows(what, () => this.callOurs(r, m), [argError]);
      }
      if (index < 0) {
        note(`ENOENT: ${this.op} ours`);
        return expectThrows(what, () => this.callOurs(r, m), ['ENOENT']);
      }
      const result = this.callOurs(r, m);
      ran(this.op, 'ts');
      return this.present(m, index, result);
    }
    const answer = await r.peer.send({ ...this.peerCommand(m), key_hex: this.keyHex });
    if (argError !== undefined) return expectPeer(what, answer, -2, 'EINVAL');
    if (index < 0) return expectPeer(what, answer, -1, 'ENOENT');
    ran(this.op, 'c');
    this.present(m, index, undefined, answer);
  }
}

export const TYPE_MASKS = [1, 2, 4, 8, 16, 4 | 8, 4 | 16, 128] as const;

/**
 * setNamedType / set_named_type: type_flag = mask, slot epoch +2, global +1, no pulse. Naming
 * a value shorter than 8 bytes BIGUINT: ours promotes it in place (val_off and val_brk stay),
 * C relocates it to val_brk (Q3). The model only knows the in-place promotion, so such a
 * step always runs on OUR side; the peer names BIGUINT only values of 8 bytes or more.
 */
export class NamedTypeCmd extends FeatureStep {
  protected readonly op = 'setNamedType';
  constructor(side: Side, source: KeySource, readonly mask: number) {
    super(side, source);
  }
  protected describe(): string {
    return `setNamedType(${this.shownKey}, ${this.mask})`;
  }
  protected override sideFor(m: SlotModel, index: number): Side {
    return index >= 0 && this.mask & TYPE_BIGUINT && m.slots[index]!.len < 8 ? 'ts' : this.side;
  }
  protected callOurs(r: Real): unknown {
    return r.store.setNamedType(this.key, this.mask);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'set_named_type', mask: this.mask };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    if (this.mask & TYPE_BIGUINT && m.slots[index]!.len < 8) note('setNamedType: ours promotes a short value in place');
    m.setNamedType(index, this.mask);
  }
}

export const INT_OPS = ['AND', 'OR', 'XOR', 'NOT', 'INC', 'DEC'] as const;

/** integerOp / integer_op on the u64 at the value's start: slot epoch +2, global +1; EPROTOTYPE when not BIGUINT. */
export class IntegerOpCmd extends FeatureStep {
  protected readonly op = 'integerOp';
  constructor(side: Side, source: KeySource, readonly intOp: number, readonly operand: bigint) {
    super(side, source);
  }
  protected describe(): string {
    return `integerOp(${this.shownKey}, ${INT_OPS[this.intOp]}, ${this.operand}n)`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.integerOp(this.key, this.intOp as IntOp, this.operand);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'integer_op', int_op: this.intOp, operand: String(this.operand) };
  }
  protected override async apply(m: SlotModel, r: Real): Promise<void> {
    const index = this.valid ? m.find(this.bytes) : -1;
    if (index >= 0 && (m.slots[index]!.typeFlag & TYPE_BIGUINT) === 0) {
      // Refused before the seqlock, by both sides (docs/spec/FORMAT.md §7): nothing moves.
      note(`EPROTOTYPE: integerOp ${this.side}`);
      if (this.side === 'ts') {
        expectThrows(this.toString(), () => this.callOurs(r), ['EPROTOTYPE']);
        return;
      }
      const answer = await r.peer.send({ ...this.peerCommand(), key_hex: this.keyHex });
      return expectPeer(this.toString(), answer, -1, 'EPROTOTYPE');
    }
    return super.apply(m, r);
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    if (m.slots[index]!.len < 8) note('integerOp: on a BIGUINT slot whose value is now shorter than 8 bytes');
    m.integerOp(index, this.intOp, this.operand);
  }
}

/** getBigUint (ours: EPROTOTYPE when not BIGUINT, undefined when missing) / get_biguint (C: value and type_flag). */
export class GetBigUintCmd extends FeatureStep {
  protected readonly op = 'getBigUint';
  protected describe(): string {
    return `${this.side === 'ts' ? 'getBigUint' : 'get_biguint'}(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.getBigUint(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'get_biguint' };
  }
  protected override async apply(m: SlotModel, r: Real): Promise<void> {
    if (this.side === 'ts' && this.valid) {
      const index = m.find(this.bytes);
      if (index < 0) return equal(this.toString(), r.store.getBigUint(this.key), undefined);
      if ((m.slots[index]!.typeFlag & TYPE_BIGUINT) === 0) {
        note('EPROTOTYPE: getBigUint ours');
        return expectThrows(this.toString(), () => this.callOurs(r), ['EPROTOTYPE']);
      }
    }
    return super.apply(m, r);
  }
  protected present(m: SlotModel, index: number, result: unknown, answer?: PeerAnswer): void {
    const s = m.slots[index]!;
    if (answer === undefined) return equal(this.toString(), result, m.u64At(index));
    expectPeer(this.toString(), answer, 0);
    equal(this.toString(), { value: answer['value'], type_flag: answer['type_flag'] }, { value: String(m.u64At(index)), type_flag: s.typeFlag });
  }
}

/** setSlotTime / set_slot_time: ctime or atime = time − offset (wrapping); no epoch moves. A bad field: ours EINVAL, C -2 ENOTSUP. */
export class SlotTimeCmd extends FeatureStep {
  protected readonly op = 'setSlotTime';
  constructor(side: Side, source: KeySource, readonly which: 'ctime' | 'atime' | 'mtime', readonly time: bigint, readonly offset: bigint) {
    super(side, source);
  }
  protected describe(): string {
    return `setSlotTime(${this.shownKey}, ${this.which}, ${this.time}n, ${this.offset}n)`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.setSlotTime(this.key, this.which as 'ctime', this.time, this.offset);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'set_slot_time', mode: this.which === 'ctime' ? 0 : this.which === 'atime' ? 1 : 2, time: String(this.time), offset: String(this.offset) };
  }
  protected override async apply(m: SlotModel, r: Real): Promise<void> {
    if (this.which === 'mtime') {
      note(`bad slot time field: ${this.side}`);
      if (this.side === 'ts') return expectThrows(this.toString(), () => this.callOurs(r), ['EINVAL']);
      const answer = await r.peer.send({ ...this.peerCommand(), key_hex: this.keyHex });
      // C checks the mode after finding the key (docs/spec/FORMAT.md §7): a missing key is ENOENT first.
      return m.find(this.bytes) < 0 ? expectPeer(this.toString(), answer, -1, 'ENOENT') : expectPeer(this.toString(), answer, -2, 'ENOTSUP');
    }
    return super.apply(m, r);
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    const value = (this.time - this.offset) & U64_MASK;
    if (this.which === 'ctime') m.slots[index]!.ctime = value;
    else m.slots[index]!.atime = value;
  }
}

/** setLabel / unsetLabel: bloom OR / AND NOT mask, global epoch +1; no seqlock, no pulse. */
export class LabelCmd extends FeatureStep {
  protected get op(): 'setLabel' | 'unsetLabel' {
    return this.on ? 'setLabel' : 'unsetLabel';
  }
  constructor(side: Side, source: KeySource, readonly mask: bigint, readonly on: boolean) {
    super(side, source);
  }
  protected describe(): string {
    return `${this.op}(${this.shownKey}, 0x${this.mask.toString(16)})`;
  }
  protected callOurs(r: Real): unknown {
    return this.on ? r.store.setLabel(this.key, this.mask) : r.store.unsetLabel(this.key, this.mask);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: this.on ? 'set_label' : 'unset_label', mask: String(this.mask) };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    const s = m.slots[index]!;
    s.bloom = this.on ? s.bloom | this.mask : s.bloom & ~this.mask & U64_MASK;
    m.globalEpoch = (m.globalEpoch + 1n) & U64_MASK;
  }
}

/** setAsSystem / set_as_system: found scanning from slot 0; type BINARY, val_len = maxValueSize, no epoch moves. */
export class SystemCmd extends FeatureStep {
  protected readonly op = 'setAsSystem';
  protected describe(): string {
    return `setAsSystem(${this.shownKey})`;
  }
  protected override find(m: SlotModel): number {
    const index = m.findFromZero(this.bytes);
    if (index >= 0 && index !== m.find(this.bytes)) note('setAsSystem: slot 0 scan finds another copy than the probe');
    return index;
  }
  protected callOurs(r: Real): unknown {
    return r.store.setAsSystem(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'set_as_system' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    m.slots[index]!.typeFlag = TYPE_BINARY;
    m.slots[index]!.len = m.geo.maxValueSize;
  }
}

/** retrainSlot / retrain_slot: slot epoch stored 3 then 4 (C) or moved on to the next even value (ours), global +1, pulse. */
export class RetrainCmd extends FeatureStep {
  protected readonly op = 'retrainSlot';
  protected describe(): string {
    return `retrainSlot(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.retrainSlot(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'retrain_slot' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    if (m.slots[index]!.embedding.some((b) => b !== 0)) note('retrainSlot: zeroes a set embedding');
    m.retrain(index, answer ? 'c' : 'ts');
  }
}

/** bumpSlot / bump_slot: seqlock taken and released (slot epoch +2), pulse; no global epoch change. */
export class BumpCmd extends FeatureStep {
  protected readonly op = 'bumpSlot';
  protected describe(): string {
    return `bumpSlot(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.bumpSlot(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'bump_slot' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    m.slots[index]!.epoch = (m.slots[index]!.epoch + 2n) & U64_MASK;
    m.pulse(index);
  }
}

/** pulseKeygroup / pulse_keygroup: pulse only. */
export class PulseCmd extends FeatureStep {
  protected readonly op = 'pulseKeygroup';
  protected describe(): string {
    return `pulseKeygroup(${this.shownKey})`;
  }
  protected callOurs(r: Real): unknown {
    return r.store.pulseKeygroup(this.key);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: 'pulse_keygroup' };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    m.pulse(index);
  }
}

/** watchRegister / watchUnregister: watcher_mask OR / AND NOT bit g; group 64: ours EINVAL, C -2 EINVAL. */
export class WatchCmd extends FeatureStep {
  protected get op(): 'watchRegister' | 'watchUnregister' {
    return this.on ? 'watchRegister' : 'watchUnregister';
  }
  constructor(side: Side, source: KeySource, readonly group: number, readonly on: boolean) {
    super(side, source);
  }
  protected describe(): string {
    return `${this.op}(${this.shownKey}, ${this.group})`;
  }
  protected override argumentError(): SplinterErrorCode | undefined {
    return this.group >= 64 ? 'EINVAL' : undefined;
  }
  protected callOurs(r: Real): unknown {
    return this.on ? r.store.watchRegister(this.key, this.group) : r.store.watchUnregister(this.key, this.group);
  }
  protected peerCommand(): Record<string, unknown> {
    return { op: this.on ? 'watch_register' : 'watch_unregister', group: this.group };
  }
  protected present(m: SlotModel, index: number, _result: unknown, answer?: PeerAnswer): void {
    if (answer) expectPeer(this.toString(), answer, 0);
    const s = m.slots[index]!;
    const bit = 1n << BigInt(this.group);
    s.watcherMask = this.on ? s.watcherMask | bit : s.watcherMask & ~bit & U64_MASK;
  }
}

/**
 * watchLabelRegister(mask, g): bloom_watches[b] = g for each bit b of mask. 'none': ours
 * watchLabelUnregister, C group 255. Group 64: ours refuses (EINVAL), C stores 64 ("no group").
 */
export class WatchLabelCmd extends Step {
  constructor(side: Side, readonly mask: bigint, readonly group: number | 'none') {
    super(side);
  }
  protected describe(): string {
    return this.group === 'none' && this.side === 'ts'
      ? `watchLabelUnregister(0x${this.mask.toString(16)})`
      : `watchLabelRegister(0x${this.mask.toString(16)}, ${this.group === 'none' ? 255 : this.group})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    let value = this.group === 'none' ? NO_GROUP : this.group;
    if (this.side === 'ts') {
      if (this.group === 'none') r.store.watchLabelUnregister(this.mask);
      else if (this.group >= 64) {
        note('EINVAL: watchLabelRegister ours');
        return expectThrows(what, () => r.store.watchLabelRegister(this.mask, this.group as number), ['EINVAL']);
      } else r.store.watchLabelRegister(this.mask, this.group);
    } else {
      expectPeer(what, await r.peer.send({ op: 'watch_label_register', mask: String(this.mask), group: value }), 0);
      value &= 0xff;
    }
    ran('watchLabelRegister', this.side);
    for (let b = 0; b < 64; b++) if ((this.mask >> BigInt(b)) & 1n) m.bloomWatches[b] = value;
  }
}

/** getSignalCount / get_signal_count: the model's counter; group 64: ours EINVAL, C -2 EINVAL. */
export class SignalCountCmd extends Step {
  constructor(side: Side, readonly group: number) {
    super(side);
  }
  protected describe(): string {
    return `getSignalCount(${this.group})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    if (this.side === 'ts') {
      if (this.group >= 64) return expectThrows(what, () => r.store.getSignalCount(this.group), ['EINVAL']);
      equal(what, r.store.getSignalCount(this.group), m.signals[this.group]);
    } else {
      const answer = await r.peer.send({ op: 'get_signal_count', group: this.group });
      if (this.group >= 64) return expectPeer(what, answer, -2, 'EINVAL');
      expectPeer(what, answer, 0);
      equal(what, answer['count'], String(m.signals[this.group]));
    }
    if (m.signals[this.group]! > 0n) note('getSignalCount: a non-zero count');
    ran('getSignalCount', this.side);
  }
}

/** enumerateMatches / enumerate_matches: slots with a hash whose bloom holds every bit of mask, slot order, with epochs. */
export class EnumerateCmd extends Step {
  constructor(side: Side, readonly mask: bigint) {
    super(side);
  }
  protected describe(): string {
    return `enumerateMatches(0x${this.mask.toString(16)})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const expected = m.slots.flatMap((s, index) =>
      s.hash !== 0n && (s.bloom & this.mask) === this.mask ? [{ index, keyBytes: m.keyBytesAt(index), epoch: s.epoch }] : [],
    );
    if (expected.length > 0 && this.mask !== 0n) note('enumerateMatches: a label match');
    if (this.side === 'ts') {
      const matches = r.store.enumerateMatches(this.mask);
      equal(what, matches, expected.map((e) => ({ key: new TextDecoder().decode(e.keyBytes), epoch: e.epoch })));
    } else {
      const answer = await r.peer.send({ op: 'enumerate_matches', mask: String(this.mask) });
      expectPeer(what, answer, 0);
      const got = (answer['matches'] as Array<Record<string, unknown>>).map((x) => ({ index: x['index'], key_hex: x['key_hex'], epoch: String(x['epoch']) }));
      equal(what, got, expected.map((e) => ({ index: e.index, key_hex: hex(e.keyBytes), epoch: String(e.epoch) })));
    }
    ran('enumerateMatches', this.side);
  }
}

// ── Embeddings (docs/spec/FORMAT.md §3, §7; docs/slot-features.md) ──────────────────────

/**
 * setEmbedding / set_embedding with the peer's rule v[i] = float32(seed + i × 0.25), which ours
 * uses too so the model knows the bytes: slot epoch +2, global +1, no pulse; a missing key is
 * ENOENT (ours) / -1 ENOENT (C). Without embeddings ours throws ENOTSUP and C answers -1 ENOTSUP.
 */
export class EmbeddingSetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly seed: number) {
    super(side, source);
  }
  protected describe(): string {
    return `setEmbedding(${this.shownKey}, seed ${this.seed})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const vector = embeddingFor(this.seed);
    const call = (): void => r.store.setEmbedding(this.key, vector);
    if (!m.geo.embeddings) {
      if (this.side === 'ts') {
        note('ENOTSUP: setEmbedding ours (128-byte slots)');
        return expectThrows(what, call, ['ENOTSUP']);
      }
      return expectPeer(what, await r.peer.send({ op: 'set_embedding', key_hex: this.keyHex, seed: this.seed }), -1, 'ENOTSUP');
    }
    if (!this.valid) return expectThrows(what, call, ['EINVAL']);
    const index = m.find(this.bytes);
    if (this.side === 'ts') {
      if (index < 0) {
        note('ENOENT: setEmbedding ts');
        return expectThrows(what, call, ['ENOENT']);
      }
      call();
    } else {
      const answer = await r.peer.send({ op: 'set_embedding', key_hex: this.keyHex, seed: this.seed });
      if (index < 0) {
        note('ENOENT: setEmbedding c');
        return expectPeer(what, answer, -1, 'ENOENT');
      }
      expectPeer(what, answer, 0);
    }
    ran('setEmbedding', this.side);
    m.setEmbedding(index, embeddingBytes(vector));
  }
}

/** getEmbedding (ours: a Float32Array copy, undefined when missing) / get_embedding (C: vector_hex, -1 ENOENT). */
export class EmbeddingGetCmd extends KeyStep {
  protected describe(): string {
    return `${this.side === 'ts' ? 'getEmbedding' : 'get_embedding'}(${this.shownKey})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const call = (): Float32Array | undefined => r.store.getEmbedding(this.key);
    if (!m.geo.embeddings) {
      if (this.side === 'ts') return expectThrows(what, call, ['ENOTSUP']);
      return expectPeer(what, await r.peer.send({ op: 'get_embedding', key_hex: this.keyHex }), -1, 'ENOTSUP');
    }
    if (!this.valid) return expectThrows(what, call, ['EINVAL']);
    const index = m.find(this.bytes);
    const expected = index >= 0 ? m.slots[index]!.embedding : undefined;
    if (expected?.some((b) => b !== 0)) note('getEmbedding: a non-zero vector');
    if (this.side === 'ts') {
      const vector = call();
      if (vector !== undefined && !(vector instanceof Float32Array && vector.length === 768)) fail(`${what}: not a Float32Array of 768 values: ${show(vector)}`);
      equal(what, vector && embeddingBytes(vector), expected);
    } else {
      const answer = await r.peer.send({ op: 'get_embedding', key_hex: this.keyHex });
      if (expected === undefined) return expectPeer(what, answer, -1, 'ENOENT');
      expectPeer(what, answer, 0);
      equal(what, unhex(String(answer['vector_hex'])), expected);
    }
    if (expected !== undefined) ran('getEmbedding', this.side);
  }
}

const tandemKey = (base: string, order: number): string => (order === 0 ? base : `${base}.${order}`);

/**
 * setTandem(base, values) / set_tandem: base = values[0], base.1 = values[1], … as sets, one
 * by one. Ours checks every key (EINVAL) and value (EMSGSIZE) first; then a full store stops
 * it half-way (ENOSPC) with the earlier orders written; C stops at the first failing order.
 * A base whose orders are not all keys ours accepts is never sent to C.
 */
export class TandemSetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly values: Payload[]) {
    super(side, source);
  }
  protected describe(): string {
    return `setTandem(${this.shownKey}, [${this.values.map(showPayload).join(', ')}])`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const keys = this.values.map((_, order) => tandemKey(this.key, order));
    const keysOk = keys.every(validKey);
    const lengthsOk = this.values.every((v) => v.bytes.length >= 1 && v.bytes.length <= m.geo.maxValueSize);
    const side = keysOk ? this.side : 'ts';
    if (side === 'ts') {
      const call = (): void => r.store.setTandem(this.key, this.values.map((v) => v.bytes));
      if (!keysOk || !lengthsOk) {
        note('setTandem: refused before writing');
        return expectThrows(what, call, [keysOk ? 'EMSGSIZE' : 'EINVAL']);
      }
      let failed: string | undefined;
      try {
        call();
      } catch (error) {
        if (!isSplinterError(error) || (error.code !== 'ENOSPC' && error.code !== 'EPROTOTYPE')) throw error;
        failed = error.code; // resolved below against the model
      }
      for (const [order, key] of keys.entries()) {
        const bytes = utf8(key);
        const index = m.placeForSet('ts', bytes);
        if (index < 0) {
          if (failed !== 'ENOSPC') fail(`${what}: order ${order} has no slot in the model, but ours threw ${failed ?? 'nothing'}, not ENOSPC`);
          note('setTandem: ENOSPC half-way (ours)');
          return;
        }
        const fresh = m.slots[index]!.hash === 0n;
        // An order that is a BIGUINT key takes only 8 bytes, as set (docs/api.md, "Decisions"): it stops there.
        if (!fresh && m.slots[index]!.typeFlag & TYPE_BIGUINT && this.values[order]!.bytes.length !== 8) {
          if (failed !== 'EPROTOTYPE') fail(`${what}: order ${order} is a BIGUINT key, but ours threw ${failed ?? 'nothing'}, not EPROTOTYPE`);
          note('EPROTOTYPE: setTandem ours stops at a BIGUINT order');
          return;
        }
        m.set(index, bytes, this.values[order]!.bytes);
        if (fresh) m.oursAfterInsert(bytes, this.values[order]!.bytes);
      }
      if (failed !== undefined) fail(`${what}: ours threw ${failed}, the model writes every order`);
      ran('setTandem', 'ts');
      return;
    }
    const answer = await r.peer.send({ op: 'set_tandem', key_hex: this.keyHex, values_hex: this.values.map((v) => hex(v.bytes)) });
    for (const [order, key] of keys.entries()) {
      const bytes = utf8(key);
      const len = this.values[order]!.bytes.length;
      const index = len >= 1 && len <= m.geo.maxValueSize ? m.placeForSet('c', bytes) : -1;
      if (index < 0) {
        const errno = len === 0 ? 'EINVAL' : len > m.geo.maxValueSize ? 'EMSGSIZE' : 'ENOSPC';
        note(`setTandem: C stops at a failing order (${errno})`);
        expectPeer(what, answer, -1, errno);
        return equal(`${what} failed_order`, answer['failed_order'], order);
      }
      m.set(index, bytes, this.values[order]!.bytes);
    }
    expectPeer(what, answer, 0);
    ran('setTandem', 'c');
  }
}

/** unsetTandem(base, orders) / unset_tandem: unsets base and base.1 … base.(orders−1); missing ones are skipped. */
export class TandemUnsetCmd extends KeyStep {
  constructor(side: Side, source: KeySource, readonly orders: number) {
    super(side, source);
  }
  protected describe(): string {
    return `unsetTandem(${this.shownKey}, ${this.orders})`;
  }
  protected async apply(m: SlotModel, r: Real): Promise<void> {
    const what = this.toString();
    const keys = Array.from({ length: this.orders }, (_, order) => tandemKey(this.key, order));
    const keysOk = keys.every(validKey);
    const side = keysOk ? this.side : 'ts';
    if (side === 'ts') {
      const call = (): void => r.store.unsetTandem(this.key, this.orders);
      if (!keysOk) return expectThrows(what, call, ['EINVAL']);
      call();
    } else {
      expectPeer(what, await r.peer.send({ op: 'unset_tandem', key_hex: this.keyHex, orders: this.orders }), 0);
    }
    let removed = 0;
    for (const key of keys) {
      const index = m.find(utf8(key));
      if (index >= 0) {
        m.unset(index, side);
        removed++;
      }
    }
    if (removed > 1) note('unsetTandem: several orders removed');
    ran('unsetTandem', side);
  }
}

// ── Arbitraries ─────────────────────────────────────────────────────────────

function bytes(minLength: number, maxLength: number): fc.Arbitrary<Payload> {
  return fc.uint8Array({ minLength, maxLength }).map((b) => ({ bytes: b }));
}

function text(minLength: number, maxLength: number): fc.Arbitrary<Payload> {
  return fc.string({ unit: 'grapheme', minLength, maxLength }).map((s) => ({ bytes: utf8(s), text: s }));
}

/** Values: 1 byte, exactly maxValueSize, any binary length between, UTF-8 text, and refused lengths. */
export function valueArbitrary(maxv: number): fc.Arbitrary<Payload> {
  return fc.oneof(
    { weight: 2, arbitrary: bytes(1, 1) },
    { weight: 2, arbitrary: bytes(maxv, maxv) },
    { weight: 5, arbitrary: bytes(1, maxv) },
    { weight: 2, arbitrary: text(1, Math.max(1, Math.floor(maxv / 4))) }, // graphemes of up to 4+ bytes
    { weight: 1, arbitrary: text(maxv, maxv + 8) }, // often longer than maxv bytes: EMSGSIZE
    // Numbers as text, for setNamedType BIGUINT (strtoull: hex, octal, longest prefix, saturation).
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('0', '7', '41', '0x1f', '0X7', '010', '08', '0x', '12ab', '9'.repeat(7), '1'.repeat(12), '0xffffffffffffffff', '99999999999999999999')
        .filter((t) => t.length <= maxv)
        .map((t): Payload => ({ bytes: utf8(t), text: t })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Payload>(
        { bytes: new Uint8Array(0) },
        { bytes: new Uint8Array(0), text: '' },
        { bytes: new Uint8Array(maxv + 1).fill(7) },
      ),
    },
  );
}

export function appendArbitrary(maxv: number): fc.Arbitrary<[Payload, AppendSizing]> {
  const data = fc.oneof(
    { weight: 5, arbitrary: bytes(1, 3) },
    { weight: 2, arbitrary: bytes(1, maxv) },
    { weight: 1, arbitrary: text(1, 3) },
    { weight: 1, arbitrary: fc.constantFrom<Payload>({ bytes: new Uint8Array(0) }, { bytes: new Uint8Array(0), text: '' }) },
  );
  const sizing = fc.oneof(
    { weight: 6, arbitrary: fc.constant<AppendSizing>('as-is') },
    { weight: 1, arbitrary: fc.constantFrom<AppendSizing>('fill', 'overflow') },
  );
  return fc.tuple(data, sizing);
}

/**
 * Literal keys, or rules the model resolves when the step runs, weighted per kind of step:
 * e.g. sets aim at keys past a hole (where C duplicates), unsets at keys in front of others.
 */
export function keySourceArbitrary(keys: KeySpace, rules: Partial<Record<StepRule, number>>, literal = 6): fc.Arbitrary<KeySource> {
  const n = fc.nat(15);
  const fallback = fc.constantFrom(...keys.pool);
  const pool = [...keys.pool, ...EDGE_KEYS];
  // Cross-shrink: a failing step aimed by a rule shrinks towards a literal key where it can.
  return fc.oneof(
    { withCrossShrink: true },
    { weight: literal, arbitrary: keys.arbitrary.map((key): KeySource => ({ key })) },
    ...Object.entries(rules).map(([rule, weight]) => ({
      weight,
      arbitrary: fc.tuple(n, fallback).map(([i, f]): KeySource => ({ rule: rule as StepRule, n: i, fallback: f, pool })),
    })),
  );
}

export function commandArbitrary(geo: Geo, keys: KeySpace): fc.Arbitrary<Cmd> {
  const side = fc.constantFrom<Side>('ts', 'c');
  const setKey = keySourceArbitrary(keys, { 'past-hole': 3, absent: 5, duplicated: 3, displaced: 1 });
  const unsetKey = keySourceArbitrary(keys, { blocker: 3, duplicated: 2, displaced: 1 });
  const key = keySourceArbitrary(keys, { duplicated: 1, displaced: 1 });
  const maxv = geo.maxValueSize;
  const variant = fc.constantFrom<GetVariant>('get', 'getString', 'getInto', 'rawView');
  const targetSize = fc.oneof(fc.constant(maxv), fc.integer({ min: 0, max: maxv + 2 }));
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(side, setKey, valueArbitrary(maxv)).map(([s, k, v]): Cmd => new SetCmd(s, k, v)) },
    { weight: 3, arbitrary: fc.tuple(side, key, variant, targetSize).map(([s, k, v, n]): Cmd => new GetCmd(s, k, v, n)) },
    { weight: 4, arbitrary: fc.tuple(side, unsetKey).map(([s, k]): Cmd => new UnsetCmd(s, k)) },
    { weight: 3, arbitrary: fc.tuple(side, key, appendArbitrary(maxv)).map(([s, k, [d, z]]): Cmd => new AppendCmd(s, k, d, z)) },
    { weight: 2, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new EpochCmd(s, k)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new InspectCmd(s, k)) },
    { weight: 1, arbitrary: side.map((s): Cmd => new KeysCmd(s)) },
    { weight: 1, arbitrary: fc.tuple(side, fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 0, 1, 2, 3)).map(([s, n]): Cmd => new MopCmd(s, n)) },
    { weight: 1, arbitrary: side.map((s): Cmd => new PurgeCmd(s)) },
    ...featureCommands(geo, keys, side),
  );
}

const LABEL_BITS = [0n, 1n, 3n, 40n, 63n];

/** Label masks over a few bits shared by setLabel, enumerateMatches and watchLabelRegister, so they meet. */
function labelMask(min: number): fc.Arbitrary<bigint> {
  return fc.subarray(LABEL_BITS, { minLength: min }).map((bits) => bits.reduce((m, b) => m | (1n << b), 0n));
}

function featureCommands(geo: Geo, keys: KeySpace, side: fc.Arbitrary<Side>): Array<fc.WeightedArbitrary<Cmd>> {
  const key = keySourceArbitrary(keys, { present: 6, duplicated: 1 }, 2);
  const numberKey = keySourceArbitrary(keys, { biguint: 6, present: 2 }, 1);
  const group = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 1, 5, 63) }, { weight: 1, arbitrary: fc.constant(64) });
  const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: U64_MASK }));
  const mask = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...TYPE_MASKS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });
  const tandemValue = fc.oneof(
    { weight: 8, arbitrary: bytes(1, geo.maxValueSize) },
    { weight: 1, arbitrary: fc.constantFrom<Payload>({ bytes: new Uint8Array(0) }, { bytes: new Uint8Array(geo.maxValueSize + 1) }) },
  );
  return [
    { weight: 2, arbitrary: fc.tuple(side, key, mask).map(([s, k, n]): Cmd => new NamedTypeCmd(s, k, n)) },
    {
      weight: 3,
      arbitrary: fc.tuple(side, numberKey, fc.integer({ min: 0, max: 5 }), u64).map(([s, k, o, n]): Cmd => new IntegerOpCmd(s, k, o, n)),
    },
    { weight: 1, arbitrary: fc.tuple(side, numberKey).map(([s, k]): Cmd => new GetBigUintCmd(s, k)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(side, key, fc.constantFrom<'ctime' | 'atime' | 'mtime'>('ctime', 'atime', 'ctime', 'atime', 'mtime'), u64, fc.oneof(fc.constant(0n), u64))
        .map(([s, k, w, t, o]): Cmd => new SlotTimeCmd(s, k, w, t, o)),
    },
    { weight: 2, arbitrary: fc.tuple(side, key, labelMask(1), fc.boolean()).map(([s, k, n, on]): Cmd => new LabelCmd(s, k, n, on)) },
    { weight: 1, arbitrary: fc.tuple(side, labelMask(0)).map(([s, n]): Cmd => new EnumerateCmd(s, n)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new SystemCmd(s, k)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new RetrainCmd(s, k)) },
    { weight: 2, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new BumpCmd(s, k)) },
    { weight: 1, arbitrary: fc.tuple(side, key).map(([s, k]): Cmd => new PulseCmd(s, k)) },
    { weight: 2, arbitrary: fc.tuple(side, key, group, fc.boolean()).map(([s, k, g, on]): Cmd => new WatchCmd(s, k, g, on)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(side, labelMask(1), fc.oneof({ weight: 6, arbitrary: group }, { weight: 1, arbitrary: fc.constant<'none'>('none') }))
        .map(([s, n, g]): Cmd => new WatchLabelCmd(s, n, g)),
    },
    { weight: 1, arbitrary: fc.tuple(side, group).map(([s, g]): Cmd => new SignalCountCmd(s, g)) },
    ...embeddingCommands(geo, keys, side, key),
    {
      weight: 1,
      arbitrary: fc
        .tuple(side, keySourceArbitrary(keys, { present: 2, absent: 2 }), fc.array(tandemValue, { minLength: 1, maxLength: 3 }))
        .map(([s, k, v]): Cmd => new TandemSetCmd(s, k, v)),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(side, keySourceArbitrary(keys, { present: 3 }), fc.integer({ min: 1, max: 3 })).map(([s, k, n]): Cmd => new TandemUnsetCmd(s, k, n)),
    },
  ];
}

/** Seeds the peer sends as JSON and both sides turn into float32: small integers, quarters, large and negative values. */
const seedArbitrary = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -4000, max: 4000 }).map((n) => n / 4),
  fc.constantFrom(0, -0.1, 1e-3, 16777216, 1e30, -3e38),
);

/** Embeddings on their geometry; elsewhere a cheap ENOTSUP step. */
function embeddingCommands(geo: Geo, keys: KeySpace, side: fc.Arbitrary<Side>, key: fc.Arbitrary<KeySource>): Array<fc.WeightedArbitrary<Cmd>> {
  const setEmbedding = (s: Side, k: KeySource, seed: number): Cmd => new EmbeddingSetCmd(s, k, seed);
  if (!geo.embeddings) {
    return [
      { weight: 1, arbitrary: fc.tuple(side, key, seedArbitrary).map(([s, k, v]) => setEmbedding(s, k, v)) },
    ];
  }
  const anyKey = keySourceArbitrary(keys, { present: 3, absent: 1 }, 2);
  return [
    { weight: 3, arbitrary: fc.tuple(side, fc.oneof({ weight: 4, arbitrary: key }, { weight: 1, arbitrary: anyKey }), seedArbitrary).map(([s, k, v]) => setEmbedding(s, k, v)) },
    { weight: 2, arbitrary: fc.tuple(side, fc.oneof({ weight: 3, arbitrary: key }, { weight: 1, arbitrary: anyKey })).map(([s, k]): Cmd => new EmbeddingGetCmd(s, k)) },
  ];
}
