/**
 * The Store class: the one public handle and its operations. Its static openers are here for the
 * public API, their bodies in open.ts; it reaches the bus (waits and wakes) and Logic Shards through their own modules.
 */
import path from 'node:path';
import { acquireLine, NameCheck, releaseLine, SAB_SEQUENCE_W32, type BusLine } from '../bus/line.js';
import { WakeOnWrite } from '../bus/wake-on-write.js';
import { poll, pollSync, signals, watch, type BusHost, type KeyChange, type PollOptions, type WatchOptions } from '../bus/watch.js';
import { describe, SplinterError } from '../errors.js';
import { HEADER, SLOT, SlotType, type IntOp, type Mop } from '../layout/constants.js';
import type { Geometry } from '../layout/geometry.js';
import { Shards } from '../shard/shards.js';
import { Stream, type StreamOptions } from '../stream/stream.js';
import { KeyHistory, type HistoryOptions } from '../stream/history.js';
import { Backoff } from '../store/sync/backoff.js';
import type { Backing } from '../store/backing/backing.js';
import { getBigUint, integerOp, setNamedType, setTypedValue } from '../store/values/biguint.js';
import { setConditionally } from '../store/values/compare-set.js';
import { purge, unsetKey } from '../store/values/clear.js';
import { ClosableRawView } from '../store/values/closable-view.js';
import { inStoreMemory, isBytes } from '../store/values/copy.js';
import { KvContext } from '../store/handle/context.js';
import { countKeys } from '../store/keys/count.js';
import { DeadlineTable, deadlinesPresent, expiredNow, isDue, markDeadlinesPresent, NO_DEADLINE, slotDeadline } from '../store/slot/deadlines.js';
import { dirtyWords } from '../store/slot/dirty.js';
import { getEmbedding, setEmbedding } from '../store/slot/embeddings.js';
import { search, searchPartInto, searchSplit, toWire, type SearchOptions, type SearchResults, type WireOptions } from '../store/search/index.js';
import { SearchPool } from './search-pool.js';
import { decodeHeader, type HeaderSnapshot } from '../store/format/header-decoder.js';
import { KeyCodec } from '../store/keys/key-codec.js';
import { keyBytes, keyIdentity, keyName, type Key } from '../store/keys/key-text.js';
import { appendValue, KEEP_TYPE, setValue } from '../store/values/kv.js';
import { bindLabels, changeLabels, enumerateMatches, type LabelMatch } from '../store/slot/labels.js';
import { listKeys } from '../store/keys/list.js';
import type { MappingRouteName } from '../store/backing/mapping/index.js';
import { StoreMemory } from '../store/backing/memory.js';
import { getMop, setMop } from '../store/values/mop.js';
import { checkOptionBag } from '../store/handle/options.js';
import { locateKey } from '../store/keys/probe.js';
import { getCopy, getInto, getString, getStringAndType } from '../store/values/read.js';
import { bumpSlot, pulseKeygroup, setWatcherBit, signalCount } from '../store/slot/signals.js';
import { retrainSlot, setAsSystem, setSlotTime, type SlotTime } from '../store/slot/slot-meta.js';
import { rawView, slotSnapshotOfKey, type RawView, type SlotSnapshot } from '../store/values/snapshot.js';
import { checkOrders, checkTandemValues, tandemKey } from '../store/values/tandem.js';
import { resolveTarget } from '../store/backing/target.js';
import { toU64, writeU64LE } from '../store/values/u64-bytes.js';
import {
  KEYS_OPTIONS,
  POLL_OPTIONS,
  SET_OPTIONS,
  setCondition,
  STREAM_OPTIONS,
  HISTORY_OPTIONS,
  WATCH_OPTIONS,
  type CheckedOptions,
  checkTtl,
  SET_JSON_OPTIONS,
  type CreateGeometry,
  type KeysOptions,
  type SetJSONOptions,
  type SetOptions,
  type StoreOptions,
} from './options.js';
import { openDeadlineFile } from './deadline-file.js';
import { attachStore, createOrOpenStore, createSharedStore, createStore, openOrCreateStore, openStore, unlinkStore, type MakeStore } from './open.js';

/** The warning code of a deadline table that cannot be used (readers then see no deadlines). */
export const DEADLINES_WARNING = 'SPLINTER_DEADLINES';

const utf8 = new TextEncoder();
const U64_BYTES = 8;

/**
 * One open Splinter store: the names of the C API in camelCase, plus what TypeScript
 * users expect (strings, iterators, disposal). Synchronous operations are not reentrant
 * per handle; open one handle per thread.
 */
export class Store implements Disposable {
  readonly slots: number;
  readonly maxValueSize: number;
  readonly embeddings: boolean;
  /** The shm name or path this store was opened by; undefined for SharedArrayBuffer stores. */
  readonly target: string | undefined;
  /** The SharedArrayBuffer of a shared-mode store, to hand to workers for `Store.attach`. */
  readonly buffer: SharedArrayBuffer | undefined;
  /** How this handle maps its store ('koffi' or 'mmap-io'); undefined for SharedArrayBuffer stores. */
  readonly mapping: MappingRouteName | undefined;

  /** @internal */ readonly memory: StoreMemory;
  /** @internal */ readonly kv: KvContext;
  /** @internal */ readonly line: BusLine;
  /** @internal */ readonly endOnClose = new Set<{ end(reason?: unknown): void }>();
  /** @internal */ readonly sabWords: Int32Array | undefined;
  private backing: Backing | undefined;
  /** This handle's own name against its file (waits use the line's, which covers every handle's name). */
  private readonly nameCheck: NameCheck | undefined;
  /** The store's device-inode and path: where its deadline table is found (undefined for SharedArrayBuffer stores). */
  private readonly identity: string | undefined;
  private readonly storePath: string | undefined;
  /** Why this handle's deadline table cannot be used, once found out (readers then see no deadlines). */
  private deadlineProblem: string | undefined;
  /** Until when (performance.now) a reader takes the deadline table to be missing without looking again. */
  private deadlinesAbsentUntil = 0;

  private readonly checkedOptions: CheckedOptions;
  private searchPool: SearchPool | undefined;

  private constructor(backing: Backing, geometry: Geometry, target: string | undefined, options: CheckedOptions) {
    this.backing = backing;
    this.checkedOptions = options;
    const memory = (this.memory = new StoreMemory(backing.bytes, geometry));
    this.kv = new KvContext(this.memory, new KeyCodec(geometry.slots), new Backoff(options.budgetMs));
    const line = (this.line = acquireLine(backing, options.pollIntervalMs, target));
    this.kv.writeListener = new WakeOnWrite(memory, line);
    this.sabWords = backing.kind === 'shared' ? new Int32Array(memory.u32.buffer, memory.u32.byteOffset, SAB_SEQUENCE_W32 + 1) : undefined;
    this.slots = geometry.slots;
    this.maxValueSize = geometry.maxValueSize;
    this.embeddings = geometry.embeddings;
    this.target = target;
    if (backing.identity !== undefined && target !== undefined) {
      this.storePath = path.resolve(resolveTarget(target).path);
      this.nameCheck = new NameCheck([this.storePath], backing.identity);
    }
    this.identity = backing.identity;
    this.kv.findDeadlines = () => this.deadlineTable(false);
    this.mapping = backing.mapping;
    const buffer = backing.bytes.buffer;
    this.buffer = backing.kind === 'shared' ? (buffer as SharedArrayBuffer) : undefined;
  }

  // ── Opening ────────────────────────────────────────────────────────────────

  /** The private constructor, for the openers of open.ts. */
  private static readonly make: MakeStore = (backing, geometry, target, options) => new Store(backing, geometry, target, options);

  /**
   * Creates a new store exclusively, its space reserved first.
   * @throws {SplinterError} EEXIST when the name or path is taken; ENOSPC when the file system
   * cannot hold it (nothing is left behind); ELOOP, EACCES, EINVAL for a bad target or geometry.
   */
  static create(target: string, geometry: CreateGeometry, options?: StoreOptions): Store {
    return createStore(Store.make, target, geometry, options);
  }

  /**
   * Opens an existing store, validating its header and size first.
   * @throws {SplinterError} ENOENT; ECORRUPT for a foreign file; ELOOP when a shared-memory name is a
   * symbolic link; EPERM for a store another user owns or others may write, without trustShared;
   * EACCES when the system denies access.
   */
  static open(target: string, options?: StoreOptions): Store {
    return openStore(Store.make, target, options);
  }

  /**
   * Creates the store, or opens it when it exists.
   * @throws {SplinterError} EEXIST if its geometry differs; what create throws (ENOSPC) and what
   * open throws (ELOOP, EPERM without trustShared, EACCES, ECORRUPT).
   */
  static createOrOpen(target: string, geometry: CreateGeometry, options?: StoreOptions): Store {
    return createOrOpenStore(Store.make, target, geometry, options);
  }

  /**
   * Opens the store, or creates it when it does not exist.
   * @throws {SplinterError} EEXIST if an existing one's geometry differs; what open throws (ELOOP,
   * EPERM without trustShared, EACCES, ECORRUPT) and what create throws (ENOSPC).
   */
  static openOrCreate(target: string, geometry: CreateGeometry, options?: StoreOptions): Store {
    return openOrCreateStore(Store.make, target, geometry, options);
  }

  /** A new store over a fresh SharedArrayBuffer; share `store.buffer` with workers. */
  static createShared(geometry: CreateGeometry, options?: StoreOptions): Store {
    return createSharedStore(Store.make, geometry, options);
  }

  /** Opens the store in a SharedArrayBuffer another thread created (validated like a file). */
  static attach(buffer: SharedArrayBuffer, options?: StoreOptions): Store {
    return attachStore(Store.make, buffer, options);
  }

  /**
   * Removes a store's shared-memory object or file; open handles keep their mapping. A file a
   * creation left without its magic goes too, once untouched for 10 s.
   * @throws {SplinterError} ENOENT; EBUSY for a file with no magic that another process may be creating now.
   */
  static unlink(target: string): void {
    unlinkStore(target);
  }

  /**
   * Flushes (file mode) and unmaps this handle's store; every later call throws ECLOSED, and its
   * raw views neither read nor validate (docs/api.md, "Closing"). Closing twice is harmless.
   */
  close(): void {
    const backing = this.backing;
    if (backing === undefined) return;
    this.backing = undefined;
    this.searchPool?.close();
    // End this handle's polls (rejected with ECLOSED) and watch iterators (done) before letting go.
    for (const subscription of [...this.endOnClose]) subscription.end();
    releaseLine(backing, this.line);
    backing.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  get closed(): boolean {
    return this.backing === undefined;
  }

  /**
   * True when the name this store was opened by no longer leads to this handle's file: the store
   * was unlinked, or another one created or renamed in its place (one stat; false for
   * SharedArrayBuffer stores). A stale handle keeps reading and writing its old memory, which is
   * still mapped but that no one opening the name will see; its waits end with ESTALE. Once true, stays true.
   * @throws {SplinterError} ECLOSED once closed.
   */
  get stale(): boolean {
    this.live();
    return this.nameCheck?.look() !== undefined;
  }

  /** Writes a file-backed store's pages to disk now (close does it too). */
  flush(): void {
    this.live().flush();
  }

  /** @internal The backing, or ECLOSED. */
  live(): Backing {
    const backing = this.backing;
    if (backing === undefined) throw new SplinterError('ECLOSED', `the store ${this.target ?? '(shared)'} is closed`);
    return backing;
  }

  /** The global epoch: +1 on most writes. */
  get epoch(): bigint {
    this.live();
    return Atomics.load(this.memory.u64, HEADER.epoch >>> 3);
  }

  // ── Key-value ──────────────────────────────────────────────────────────────

  /**
   * Stores a value (bytes, or a string as UTF-8) under a key, creating the key if needed.
   * With `{ type }` the slot is named that type in the same write: no reader or watcher sees
   * the value under the old type (a short value named BIGUINT is promoted, as setNamedType does).
   * Beyond docs/spec/API.md, conditional writes: `{ ifEpoch }` writes only while the key is at
   * that slot epoch (getEpoch, slotSnapshot), compared and taken in one CAS of the slot's seqlock,
   * so of two writers expecting the same epoch one wins; `{ ifAbsent: true }` only while the key
   * is missing. Returns true when written; false, with nothing written, when the condition failed.
   * `{ ttl }` (ms) gives the key a deadline (docs/keep.md); a write without it clears the key's deadline.
   * @throws {SplinterError} EINVAL for a value that is not bytes or a string, or a bad option (both conditions at
   *   once, a ttl that is not 0..2^52 ms); EMSGSIZE for a value of 0 or more than maxValueSize bytes; EPROTOTYPE for
   *   other than 8 bytes on a BIGUINT slot without `type`; ENOSPC; EAGAIN; ENOTSUP for a ttl on a SharedArrayBuffer
   *   store or with a deadline table that cannot be used.
   */
  set(key: Key, value: Uint8Array | string, options?: SetOptions): boolean {
    this.live();
    const kv = this.kv;
    // A write without a ttl clears the key's deadline: the table must be open once any process uses one.
    if (kv.deadlines === undefined && deadlinesPresent(this.memory)) kv.findDeadlines();
    if (options === undefined) {
      // The plain set stays as it was; a named type or a condition takes the other path.
      if (typeof value === 'string') {
        const scratch = kv.valueScratch;
        const { read, written } = utf8.encodeInto(value, scratch);
        return setValue(kv, key, scratch, read < value.length ? Buffer.byteLength(value) : written, KEEP_TYPE);
      }
      if (isBytes(value)) return setValue(kv, key, value, value.length, KEEP_TYPE);
      throw new SplinterError('EINVAL', `a value must be a Uint8Array or a string, received ${describe(value)}`);
    }
    const checked = checkOptionBag(options, SET_OPTIONS, 'set') as SetOptions;
    if (checked.ttl === undefined) return this.setChecked(key, value, checked);
    const ttl = checkTtl(checked.ttl, `set "${keyName(key)}"`);
    this.deadlineTable(true);
    markDeadlinesPresent(this.memory);
    kv.nextDeadline = Date.now() + ttl;
    try {
      return this.setChecked(key, value, checked);
    } finally {
      kv.nextDeadline = NO_DEADLINE;
    }
  }

  /** set with its options checked: the value, its type and condition. */
  private setChecked(key: Key, value: Uint8Array | string, checked: SetOptions): boolean {
    const kv = this.kv;
    const type = checked.type ?? KEEP_TYPE;
    const condition = setCondition(checked);
    let bytes: Uint8Array;
    let length: number;
    if (typeof value === 'string') {
      bytes = kv.valueScratch;
      const { read, written } = utf8.encodeInto(value, bytes);
      length = read < value.length ? Buffer.byteLength(value) : written;
    } else if (isBytes(value)) {
      bytes = value;
      length = value.length;
    } else {
      throw new SplinterError('EINVAL', `a value must be a Uint8Array or a string, received ${describe(value)}`);
    }
    if (type !== KEEP_TYPE) return setTypedValue(kv, key, bytes, length, type, condition);
    return condition === undefined ? setValue(kv, key, bytes, length, KEEP_TYPE) : setConditionally(kv, key, bytes, length, KEEP_TYPE, condition);
  }

  /** A copy of the value, or undefined when the key is missing. */
  get(key: Key): Uint8Array | undefined {
    this.live();
    return getCopy(this.kv, key);
  }

  /** The value decoded as UTF-8, or undefined when the key is missing. */
  getString(key: Key): string | undefined {
    this.live();
    return getString(this.kv, key);
  }

  /** Copies the value into `target` without allocating; returns its length, or -1 when missing (EMSGSIZE if it does not fit). */
  getInto(key: Key, target: Uint8Array): number {
    this.live();
    return getInto(this.kv, key, target);
  }

  has(key: Key): boolean {
    this.live();
    this.kv.key.encode(key);
    const index = locateKey(this.memory, this.kv.key);
    return index >= 0 && !expiredNow(this.kv, index, this.memory.slotByte(index));
  }

  /** Removes the key; returns the length it had, or undefined when it was missing. */
  unset(key: Key): number | undefined {
    this.live();
    if (this.kv.deadlines === undefined && deadlinesPresent(this.memory)) this.kv.findDeadlines();
    return unsetKey(this.kv, key);
  }

  // ── Deadlines (docs/keep.md) ───────────────────────────────────────────────

  /**
   * Beyond docs/spec/API.md: gives an existing key a deadline `ms` milliseconds from now; readers of ours
   * treat it as missing after that, and a keeper removes it. Returns false when the key is missing.
   * @throws {SplinterError} EINVAL for a bad ms; ENOTSUP for a SharedArrayBuffer store, or a deadline table that cannot be used; ECLOSED.
   */
  expire(key: Key, ms: number): boolean {
    this.live();
    const ttl = checkTtl(ms, `expire "${keyName(key)}"`);
    const table = this.deadlineTable(true)!;
    markDeadlinesPresent(this.memory);
    const m = this.memory;
    const codec = this.kv.key;
    codec.encode(key);
    const index = locateKey(m, codec);
    if (index < 0 || expiredNow(this.kv, index, m.slotByte(index))) return false;
    table.write(index, codec.hashLo, codec.hashHi, Date.now() + ttl);
    // Bound to the key's hash: if the key left meanwhile the deadline binds nothing, and the answer says so.
    return locateKey(m, codec) === index;
  }

  /**
   * Beyond docs/spec/API.md: the milliseconds a key has left before its deadline (0 when due); Infinity when it
   * has none; undefined when the key is missing (or past its deadline).
   * @throws {SplinterError} ECLOSED.
   */
  ttl(key: Key): number | undefined {
    this.live();
    const m = this.memory;
    const codec = this.kv.key;
    codec.encode(key);
    const index = locateKey(m, codec);
    if (index < 0) return undefined;
    const table = deadlinesPresent(m) ? (this.kv.deadlines ?? this.kv.findDeadlines()) : undefined;
    if (table === undefined) return Infinity;
    const deadline = slotDeadline(m, table, index, m.slotByte(index));
    if (deadline === NO_DEADLINE) return Infinity;
    const now = Date.now();
    return isDue(deadline, now) ? undefined : deadline - now;
  }

  /**
   * Beyond docs/spec/API.md: removes a key's deadline; true when it had one, false when it had none or is missing.
   * @throws {SplinterError} ECLOSED.
   */
  persist(key: Key): boolean {
    this.live();
    const m = this.memory;
    const codec = this.kv.key;
    codec.encode(key);
    const index = locateKey(m, codec);
    if (index < 0 || !deadlinesPresent(m)) return false;
    const table = this.kv.deadlines ?? this.kv.findDeadlines();
    if (table === undefined) return false;
    const deadline = slotDeadline(m, table, index, m.slotByte(index));
    if (deadline === NO_DEADLINE || isDue(deadline, Date.now())) return false;
    table.write(index, codec.hashLo, codec.hashHi, NO_DEADLINE);
    return true;
  }

  /**
   * @internal The store's deadline table, opened (made when `create`) on first use. Undefined when there is none;
   * when it cannot be used, readers are warned once (SPLINTER_DEADLINES) and see no deadlines, and a caller that
   * creates gets ENOTSUP.
   */
  deadlineTable(create: boolean): DeadlineTable | undefined {
    const kv = this.kv;
    if (kv.deadlines !== undefined) return kv.deadlines;
    let problem = this.deadlineProblem;
    if (problem === undefined) {
      if (this.identity === undefined || this.storePath === undefined) {
        problem = 'a SharedArrayBuffer store has no deadline table (deadlines need a shm or file store)';
      } else {
        // The flag set and no table: the table was removed (a store copied, or restored): look again once a second, not per read.
        if (!create && performance.now() < this.deadlinesAbsentUntil) return undefined;
        const opened = openDeadlineFile(this.identity, this.storePath, this.slots, create);
        if (opened instanceof DeadlineTable) return (kv.deadlines = opened);
        if (opened === undefined) {
          this.deadlinesAbsentUntil = performance.now() + 1000;
          return undefined;
        }
        problem = opened;
      }
      this.deadlineProblem = problem;
      if (deadlinesPresent(this.memory)) {
        process.emitWarning(`splinter: ${problem}; readers of this handle see no deadlines`, { code: DEADLINES_WARNING });
      }
    }
    if (create) throw new SplinterError('ENOTSUP', `deadlines of the store ${this.target ?? '(shared)'}: ${problem}`);
    return undefined;
  }

  /** Adds bytes at the end of an existing value; returns the new length. */
  append(key: Key, data: Uint8Array | string): number {
    this.live();
    const kv = this.kv;
    if (typeof data === 'string') {
      const scratch = kv.valueScratch;
      const { read, written } = utf8.encodeInto(data, scratch);
      return appendValue(kv, key, scratch, read < data.length ? Buffer.byteLength(data) : written);
    }
    if (!isBytes(data)) {
      throw new SplinterError('EINVAL', `append data must be a Uint8Array or a string, received ${describe(data)}`);
    }
    return appendValue(kv, key, data, data.length);
  }

  /**
   * Keys with a value, in slot order (C's list): an array, a snapshot of this moment. A key that
   * is valid UTF-8 comes back as a string, any other as its bytes (a Uint8Array); `{ bytes: true }`
   * gives every key as its bytes. Either form is accepted by every call that takes a key.
   * @throws SplinterError EINVAL for an unknown option, ECORRUPT for a slot whose key has no NUL, ECLOSED.
   */
  keys(): Key[];
  keys(options: { bytes: true }): Uint8Array[];
  keys(options?: KeysOptions): Key[];
  keys(options?: KeysOptions): Key[] {
    this.live();
    const bytes = checkOptionBag(options, KEYS_OPTIONS, 'keys')?.bytes === true;
    const keys = listKeys(this.kv);
    return bytes ? keys.map((key) => (typeof key === 'string' ? keyBytes(key) : key)) : keys;
  }

  /** Beyond docs/spec/API.md: how many keys the store holds now: one pass over the slot table, O(slots), nothing decoded (docs/api.md, "Decisions"). */
  count(): number {
    this.live();
    // Keys past their deadline are not counted: the listing leaves them out.
    if (deadlinesPresent(this.memory)) return listKeys(this.kv).length;
    return countKeys(this.memory);
  }

  /**
   * Beyond docs/spec/API.md: `[key, value]` pairs, like Map's entries: the keys are listed when iteration starts, each
   * value is read when its turn comes (a key unset meanwhile is skipped).
   */
  *entries(): IterableIterator<[Key, Uint8Array]> {
    const seen = new Set<string>();
    for (const key of this.keys()) {
      const identity = keyIdentity(key);
      if (seen.has(identity)) continue; // a copy C left of a key (docs/spec/FORMAT.md §9, Q1): one entry
      seen.add(identity);
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** `for (const [key, value] of store)`: the same as `entries()`. */
  [Symbol.iterator](): IterableIterator<[Key, Uint8Array]> {
    return this.entries();
  }

  /** Beyond docs/spec/API.md: stores `JSON.stringify(value)` and names the slot JSON (EINVAL for what JSON cannot represent); `{ ttl }` as set's. */
  setJSON(key: Key, value: unknown, options?: SetJSONOptions): void {
    this.live();
    const ttl = checkOptionBag(options, SET_JSON_OPTIONS, 'setJSON')?.ttl as number | undefined;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new SplinterError('EINVAL', `setJSON "${keyName(key)}": expected a value JSON can represent, received one it cannot (${(error as Error).message})`, { cause: error });
    }
    if (text === undefined) throw new SplinterError('EINVAL', `setJSON "${keyName(key)}": expected a value JSON can represent, received ${describe(value)}`);
    const length = Buffer.byteLength(text);
    if (length > this.maxValueSize) {
      throw new SplinterError('EMSGSIZE', `setJSON "${keyName(key)}": the JSON text is ${length} bytes; values are 1..${this.maxValueSize} bytes in this store`);
    }
    // One write: no reader or watcher sees the text under another type, or JSON over other bytes.
    this.set(key, text, ttl === undefined ? { type: SlotType.JSON } : { type: SlotType.JSON, ttl });
  }

  /** Beyond docs/spec/API.md: the value of a slot named JSON, parsed; undefined when the key is missing; EPROTOTYPE for another type or text that is not JSON. */
  getJSON<T = unknown>(key: Key): T | undefined {
    this.live();
    // Text and type of one moment: a write between reading one and the other cannot mismatch them.
    const read = getStringAndType(this.kv, key, 'getJSON');
    if (read === undefined) return undefined;
    const { text, type } = read;
    if ((type & SlotType.JSON) === 0) {
      throw new SplinterError('EPROTOTYPE', `getJSON "${keyName(key)}": the slot's type is ${type}, expected JSON (8); setJSON names it, or read it with getString`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new SplinterError('EPROTOTYPE', `getJSON "${keyName(key)}": the slot is named JSON but holds text that is not JSON (${(error as Error).message})`, { cause: error });
    }
  }

  /** The slot epoch of a key (changes on every write to it), 0n when missing. */
  getEpoch(key: Key): bigint {
    this.live();
    const m = this.memory;
    this.kv.key.encode(key);
    const index = locateKey(m, this.kv.key);
    return index < 0 ? 0n : Atomics.load(m.u64, (m.slotByte(index) + SLOT.epoch) >>> 3);
  }

  /** A zero-copy view of the value; check `stillValid()` after using the bytes. After close it is neither readable nor valid. */
  rawView(key: Key): RawView | undefined {
    this.live();
    const view = rawView(this.kv, key);
    return view === undefined ? undefined : new ClosableRawView(view, this);
  }

  headerSnapshot(): HeaderSnapshot {
    this.live();
    return decodeHeader(this.memory);
  }

  slotSnapshot(key: Key): SlotSnapshot | undefined {
    this.live();
    return slotSnapshotOfKey(this.kv, key);
  }

  setMop(mode: Mop): void {
    this.live();
    setMop(this.memory, mode);
  }

  getMop(): Mop {
    this.live();
    return getMop(this.memory);
  }

  /** Zeroes every byte of the arena that no value uses. */
  purge(): void {
    this.live();
    purge(this.kv);
  }

  // ── Slot features ──────────────────────────────────────────────────────────

  /** Replaces the slot's type; naming a value shorter than 8 bytes BIGUINT converts it to a u64. */
  setNamedType(key: Key, type: SlotType): void;
  /** A raw type byte (0..255): several SlotType bits, or a byte read from a C store. */
  setNamedType(key: Key, mask: number): void;
  setNamedType(key: Key, mask: number): void {
    this.live();
    setNamedType(this.kv, key, mask);
  }

  /** AND, OR, XOR, NOT, INC or DEC on a BIGUINT value, wrapping at 2^64 (EPROTOTYPE if not BIGUINT); returns the new value (beyond docs/spec/API.md). */
  integerOp(key: Key, op: IntOp, operand: bigint = 0n): bigint {
    this.live();
    return integerOp(this.kv, key, op, operand);
  }

  private readonly u64Scratch = new Uint8Array(U64_BYTES);

  /**
   * Beyond docs/spec/API.md: stores the u64 `value` and names the slot BIGUINT (creating the key if needed), in one
   * write: no reader sees the u64 under another type. A slot already BIGUINT keeps its other type bits.
   */
  setBigUint(key: Key, value: bigint | number): void {
    this.live();
    const n = toU64(value, `setBigUint "${keyName(key)}": the value`);
    writeU64LE(this.u64Scratch, 0, n);
    const type = this.slotSnapshot(key)?.typeFlag;
    // Only a hint: whatever the slot's type now, the write leaves BIGUINT (with the bits it had, when it had BIGUINT).
    const named = type !== undefined && (type & SlotType.BIGUINT) !== 0;
    setTypedValue(this.kv, key, this.u64Scratch, U64_BYTES, named ? type : SlotType.BIGUINT);
  }

  /** The u64 of a BIGUINT value, or undefined when the key is missing. */
  getBigUint(key: Key): bigint | undefined {
    this.live();
    return getBigUint(this.kv, key);
  }

  /** Sets the slot's ctime or atime to `time − offset`; no epoch moves. */
  setSlotTime(key: Key, which: SlotTime, time: bigint, offset: bigint = 0n): void {
    this.live();
    setSlotTime(this.kv, key, which, time, offset);
  }

  /** Adds label bits to a key (its writes then also pulse the groups those labels are bound to). */
  setLabel(key: Key, mask: bigint): void {
    this.live();
    changeLabels(this.kv, key, mask, true);
  }

  unsetLabel(key: Key, mask: bigint): void {
    this.live();
    changeLabels(this.kv, key, mask, false);
  }

  /** Keys carrying every bit of `mask`, in slot order, with their epochs. */
  enumerateMatches(mask: bigint): LabelMatch[] {
    this.live();
    return enumerateMatches(this.kv, mask);
  }

  /** Stores a key's 768-float embedding (stores created with embeddings: true; else ENOTSUP). */
  setEmbedding(key: Key, vector: Float32Array): void {
    this.live();
    setEmbedding(this.kv, key, vector);
  }

  /** A copy of a key's embedding, or undefined when the key is missing. */
  getEmbedding(key: Key): Float32Array | undefined {
    this.live();
    return getEmbedding(this.kv, key);
  }

  /**
   * The slots nearest a query vector (or the embedding of a key), ranked as C's `search` ranks them:
   * cosine similarity descending, then Euclidean distance ascending (docs/search.md). Read-only: writers never wait.
   * @throws {SplinterError} ENOTSUP without embeddings; EINVAL for a query not of 768 finite floats or a bad option; ENOENT for a missing query key; ECORRUPT
   * @throws {AbortError} when `options.signal` aborts
   */
  search(query: Float32Array | Key, options?: SearchOptions): SearchResults {
    this.live();
    const wire = options?.signal === undefined ? toWire(options) : undefined; // a worker cannot run a predicate or see a signal
    const pool = options?.parallel === true && wire !== undefined && this.embeddings ? this.searchWorker() : undefined;
    if (pool === undefined || wire === undefined || !pool.ready) return search(this.kv, query, options);
    const split = this.slots >>> 1;
    const limit = options?.limit ?? this.slots;
    return searchSplit(this.kv, query, options, split, (vector) => pool.start(vector, wire, split, this.slots, limit));
  }

  /** The worker of large searches, started once (the search that starts it runs on this thread alone). */
  private searchWorker(): SearchPool | undefined {
    if (this.searchPool !== undefined) return this.searchPool;
    if (this.target === undefined && this.buffer === undefined) return undefined;
    const o = this.checkedOptions;
    this.searchPool = new SearchPool({ target: this.target, buffer: this.buffer, trustShared: o.trustShared, budgetMs: o.budgetMs });
    return this.searchPool;
  }

  /** @internal The worker's part of a search: slots [from, to) into `out`. */
  searchPart(vector: Float32Array, wire: WireOptions, from: number, to: number, out: Float64Array): void {
    this.live();
    searchPartInto(this.kv, vector, wire, from, to, out);
  }

  /**
   * Sets `baseKey` to values[0] and `baseKey.1`, `baseKey.2`, … to the rest. Every key and value
   * is checked before anything is written; the orders are written one by one, not atomically.
   */
  setTandem(baseKey: Key, values: Array<Uint8Array | string>): void {
    this.live();
    const checked = checkTandemValues(values);
    for (let order = 0; order < checked.length; order++) this.kv.key.encode(tandemKey(baseKey, order));
    for (const value of checked) {
      const length = typeof value === 'string' ? Buffer.byteLength(value) : isBytes(value) ? value.length : -1;
      if (length < 0) throw new SplinterError('EINVAL', `a tandem value must be a Uint8Array or a string, received ${describe(value)}`);
      if (length < 1 || length > this.maxValueSize) {
        throw new SplinterError('EMSGSIZE', `a value is 1..${this.maxValueSize} bytes in this store, received ${length} bytes`);
      }
    }
    // A value in the store's own memory (a raw view) is copied first: an earlier order may overwrite it.
    const apart = checked.map((value) => (typeof value !== 'string' && inStoreMemory(value) ? value.slice() : value));
    apart.forEach((value, order) => this.set(tandemKey(baseKey, order), value));
  }

  /** Removes `baseKey` and its orders 1..orders-1 (missing ones are skipped). */
  unsetTandem(baseKey: Key, orders: number): void {
    this.live();
    const count = checkOrders(orders);
    for (let order = 0; order < count; order++) this.kv.key.encode(tandemKey(baseKey, order));
    for (let order = 0; order < count; order++) unsetKey(this.kv, tandemKey(baseKey, order));
  }

  /** Wakes the key's watchers without changing its value (slot epoch +2, no global epoch change). */
  bumpSlot(key: Key): void {
    this.live();
    bumpSlot(this.kv, key);
  }

  /** Moves the slot epoch on to the next even value (C resets it to 4) and clears its embedding; also frees a slot a dead writer left odd. */
  retrainSlot(key: Key): void {
    this.live();
    retrainSlot(this.kv, key);
  }

  /** Marks the key's slot BINARY with its length set to maxValueSize, as C's set_as_system. */
  setAsSystem(key: Key): void {
    this.live();
    setAsSystem(this.kv, key);
  }

  // ── Signal groups ──────────────────────────────────────────────────────────

  /** From now on, writes to `key` add 1 to signal group `group` (0..63). */
  watchRegister(key: Key, group: number): void {
    this.live();
    setWatcherBit(this.kv, key, group, true);
  }

  watchUnregister(key: Key, group: number): void {
    this.live();
    setWatcherBit(this.kv, key, group, false);
  }

  /** Binds every label bit of `mask` to signal group `group`. */
  watchLabelRegister(mask: bigint, group: number): void {
    this.live();
    bindLabels(this.kv, mask, group);
  }

  /** Unbinds the label bits of `mask` from any group. */
  watchLabelUnregister(mask: bigint): void {
    this.live();
    bindLabels(this.kv, mask, undefined);
  }

  /** Adds 1 to each group the key pulses, without writing it. */
  pulseKeygroup(key: Key): void {
    this.live();
    pulseKeygroup(this.kv, key);
  }

  /** The counter of signal group `group` (0..63). */
  getSignalCount(group: number): bigint {
    this.live();
    return signalCount(this.memory, group);
  }

  // ── Streams ────────────────────────────────────────────────────────────────

  /**
   * Creates or opens the stream `name`: an ordered, lossless log of messages that any number of
   * processes append to and read, C ones too (docs/streams.md).
   * @throws {SplinterError} EINVAL (a bad name, capacity or hold, or another capacity than the stream's),
   *   ENOSPC (no room for its cells), EAGAIN (a leftover cell stayed busy), ENOENT (`create: false` and no such stream), ECORRUPT (the name holds something that is not a stream), ECLOSED
   */
  stream(name: string, options?: StreamOptions): Stream {
    checkOptionBag(options, STREAM_OPTIONS, 'stream');
    return new Stream(this.busHost(), name, options);
  }

  /**
   * The history of `key`: its last `depth` versions with their epochs, kept in a stream of its
   * own; versions are recorded by `history.set`, `record()` and `follow()` (docs/streams.md).
   * @throws {SplinterError} EINVAL (a bad key or depth), ENOSPC, ECLOSED
   */
  history(key: Key, options?: HistoryOptions): KeyHistory {
    checkOptionBag(options, HISTORY_OPTIONS, 'history');
    return new KeyHistory(this.busHost(), key, options);
  }

  // ── Logic Shards ───────────────────────────────────────────────────────────

  private shardsHandle: Shards | undefined;

  /** The Logic Shard bid table, its election and cooperative madvise (docs/shards.md); ECLOSED once closed. */
  get shards(): Shards {
    this.live();
    return (this.shardsHandle ??= new Shards(this.memory, () => this.live().advise));
  }

  // ── Bus ────────────────────────────────────────────────────────────────────

  /** Resolves true when the key's epoch changes (set, unset, creation…), false at `timeout` ms; rejects on abort. */
  poll(key: Key, options?: PollOptions): Promise<boolean> {
    try {
      checkOptionBag(options, POLL_OPTIONS, 'poll');
    } catch (error) {
      return Promise.reject(error); // an async API reports bad arguments as a rejection
    }
    return poll(this, key, options); // checks liveness itself, so a closed store rejects rather than throws
  }

  /**
   * Blocks this thread until the key changes (true) or `timeout` ms pass (false): poll's options,
   * the signal looked at once before blocking. A number is the older form of `{ timeout }`.
   */
  pollSync(key: Key, options?: PollOptions | number): boolean {
    const host = this.busHost();
    const checked = typeof options === 'number' ? { timeout: options } : (checkOptionBag(options, POLL_OPTIONS, 'pollSync') as PollOptions | undefined);
    return pollSync(host, key, checked);
  }

  /** Changes of one or many keys as `{ key, epoch }`, until returned from or the store closes; an abort throws an AbortError from next(). */
  watch<K extends Key>(keys: K | K[], options?: WatchOptions): AsyncIterableIterator<KeyChange<K>> {
    checkOptionBag(options, WATCH_OPTIONS, 'watch');
    return watch(this.busHost(), keys, options) as AsyncIterableIterator<KeyChange<K>>;
  }

  /** The counter of signal group `group` (0..63) each time it changes. */
  signals(group: number, options?: WatchOptions): AsyncIterableIterator<bigint> {
    checkOptionBag(options, WATCH_OPTIONS, 'signals');
    return signals(this.busHost(), group, options);
  }

  /** The 16 words of the event-bus dirty mask (bit i mod 1024 set when slot i was written while a bus was armed). */
  dirtySlots(): bigint[] {
    this.live();
    return dirtyWords(this.memory);
  }

  private busHost(): BusHost {
    this.live();
    return this;
  }
}
