/**
 * A stream: an ordered, lossless log of messages in a store, for any number of producer and
 * consumer processes, in any language that follows docs/streams.md "The convention".
 */
import { describe, SplinterError } from '../errors.js';
import { SLOT, SlotType, U32_MAX } from '../layout/constants.js';
import type { BusHost } from '../bus/watch.js';
import { isBytes } from '../store/values/copy.js';
import { publish, setValue } from '../store/values/kv.js';
import { locateKey } from '../store/keys/probe.js';
import { getCopy } from '../store/values/read.js';
import { tryLock } from '../store/sync/seqlock.js';
import { sleepSync } from '../store/sync/sleep.js';
import { unsetKey } from '../store/values/clear.js';
import { listKeys } from '../store/keys/list.js';
import { CELL, Cells, type CellRead } from './cells.js';
import { StreamConsumer } from './consumer.js';
import { abortableDelay, throwIfAborted } from '../abort.js';
import { decodeCell, type StreamEvent } from './events.js';
import {
  cellKey,
  checkCapacity,
  consumerKey,
  checkSeq,
  checkStreamName,
  DEFAULT_CAPACITY,
  DEFAULT_CLAIM_TIMEOUT_MS,
  MAX_SEQ,
  META,
  metaKey,
  STREAM_MAGIC,
} from './layout.js';
import { StreamSubscription, type SubscribeOptions, type Subscription } from './subscription.js';

export interface StreamOptions {
  /** Messages kept (cells) when the stream is created: 1..slots − 1 (default 1024). Opening an existing stream with another capacity is EINVAL. */
  capacity?: number | undefined;
  /** How long (ms) a claimed seq may stay unpublished before this process declares it abandoned (default 2000). */
  claimTimeout?: number | undefined;
  /** false: open only; a stream that does not exist is ENOENT, never created (default true). */
  create?: boolean | undefined;
  /**
   * Durable consumer ids whose acknowledgements hold this producer back: an append never
   * overwrites a message one of them has not acknowledged (EAGAIN instead; `whenRoom()` waits).
   * A consumer that never acknowledged holds at seq 0. Default: none (the oldest is overwritten).
   */
  hold?: readonly string[] | undefined;
}

/** How `whenRoom` waits. */
export interface RoomOptions {
  /** Milliseconds to wait at most (default Infinity): then ETIMEDOUT naming the consumer that holds. */
  timeout?: number | undefined;
  /** Aborting rejects the wait with an AbortError. */
  signal?: AbortSignal | undefined;
}

/** What a message is appended as: the cell's slot type says it to every reader, C's too. */
export type MessageType = 'bytes' | 'text' | 'json';

const TYPE_BYTES: Record<MessageType, number> = { bytes: SlotType.BINARY, text: SlotType.VARTEXT, json: SlotType.JSON };
const magicBytes = new TextEncoder().encode(STREAM_MAGIC);
const encoder = new TextEncoder();
const WAIT_SPINS = 256;
const WAIT_SLEEP_MS = 0.05;
/** Claim timeouts an append waits for a previous lap nobody may declare, before it gives its seq up. */
const GIVE_UP_TIMEOUTS = 4;
const MAX_SEQ_BIG = BigInt(MAX_SEQ);
/** A head whose high word reaches this is at or past 2^53 − 1 (2^21 · 2^32 = 2^53). */
const MAX_HIGH_WORD = 2 ** 21;
/** How long a held producer sleeps between looks at the gating consumers' acks (ms). */
const ROOM_POLL_MS = 1;

export class Stream {
  readonly name: string;
  /** How many messages the stream keeps: a consumer further behind than this loses the oldest (and is told). */
  readonly capacity: number;
  /** @internal */ readonly cells: Cells;
  /** @internal */ readonly claimTimeoutMs: number;
  private readonly metaKeyText: string;
  private metaSlotByte = 0;
  private metaHashLo = 0;
  private metaHashHi = 0;
  /** u64 index of the head counter in the store's memory. */
  private headW64 = 0;
  private readonly scratch: Uint8Array;
  private readonly read1: CellRead = { holds: 0, type: 0, length: 0, oddEpoch: -1, reason: '', atime: 0, userFlag: 0 };
  /** The durable consumers whose acks hold this producer back (`hold`). */
  private readonly gates: StreamConsumer[];
  /** The last seq the gates allowed when last read: appends up to it need no look at their acks. */
  private limit = Infinity;
  /** Which gate set the limit, and its ack then: for the error a held producer gets. */
  private holder: StreamConsumer | undefined;

  /** @internal Use `store.stream(name, options)`. */
  constructor(
    /** @internal */ readonly host: BusHost,
    name: unknown,
    options: StreamOptions = {},
  ) {
    host.live();
    this.name = checkStreamName(name);
    const ctx = host.kv;
    const claimTimeout = options.claimTimeout ?? DEFAULT_CLAIM_TIMEOUT_MS;
    if (typeof claimTimeout !== 'number' || !(claimTimeout >= 0) || !Number.isFinite(claimTimeout)) {
      throw new SplinterError('EINVAL', `claimTimeout is a number of milliseconds ≥ 0, received ${describe(claimTimeout)}`);
    }
    this.claimTimeoutMs = claimTimeout;
    const asked = options.capacity === undefined ? undefined : checkCapacity(options.capacity, ctx.m.slots);
    this.metaKeyText = metaKey(this.name);
    this.capacity = this.openOrCreate(asked, options.create !== false);
    this.cells = new Cells(ctx, this.name, this.capacity);
    this.scratch = new Uint8Array(ctx.m.maxValueSize + 4);
    this.gates = this.checkHold(options.hold);
    if (this.gates.length > 0) this.limit = 0;
  }

  /** The `hold` option's consumers. @throws {SplinterError} EINVAL */
  private checkHold(hold: unknown): StreamConsumer[] {
    if (hold === undefined) return [];
    if (!Array.isArray(hold)) throw new SplinterError('EINVAL', `hold is an array of consumer ids, received ${describe(hold)}`);
    return hold.map((id: unknown) => new StreamConsumer(this, id));
  }

  /** The consumer ids that hold this producer back (the `hold` option). */
  get holds(): readonly string[] {
    return this.gates.map((gate) => gate.id);
  }

  /**
   * The last seq the gates allow now: the least acknowledged seq of them + capacity. Read from
   * the store only when the cached limit is reached, so appends pay for it once per lap at most.
   */
  private readLimit(): number {
    let least = Infinity;
    for (const gate of this.gates) {
      const acked = Number(gate.acknowledged());
      if (acked < least) {
        least = acked;
        this.holder = gate;
      }
    }
    this.limit = least + this.capacity;
    return this.limit;
  }

  private heldError(seq: number): SplinterError {
    const gate = this.holder!;
    return new SplinterError(
      'EAGAIN',
      `stream "${this.name}": seq ${seq} would overwrite seq ${seq - this.capacity}, which consumer "${gate.id}" has not acknowledged (it acknowledged ${this.limit - this.capacity}; capacity ${this.capacity}): wait with whenRoom(), or open the stream without it in hold`,
    );
  }

  /**
   * How many appends fit now without overwriting what a gating consumer (`hold`) has not
   * acknowledged; Infinity for a producer without gates. Reads the gates' acks.
   * @throws {SplinterError} ENOENT, ECLOSED, EPROTOTYPE (an ack key holds something else)
   */
  room(): number {
    this.host.live();
    this.checkMeta();
    if (this.gates.length === 0) return Infinity;
    return Math.max(0, this.readLimit() - this.headNumber());
  }

  /**
   * Resolves once an append fits (`room() > 0`), looking at the gates' acks every millisecond.
   * A gating consumer that is gone holds the producer until the timeout: then ETIMEDOUT names it.
   * @throws {SplinterError} ETIMEDOUT, EINVAL, ENOENT, ECLOSED; AbortError when the signal aborts
   */
  async whenRoom(options: RoomOptions = {}): Promise<void> {
    const timeout = options.timeout ?? Infinity;
    if (typeof timeout !== 'number' || !(timeout >= 0)) throw new SplinterError('EINVAL', `whenRoom's timeout is a number of milliseconds ≥ 0, received ${describe(timeout)}`);
    throwIfAborted(options.signal);
    const until = performance.now() + timeout;
    while (this.room() === 0) {
      const left = until - performance.now();
      if (left <= 0) {
        const gate = this.holder!;
        throw new SplinterError(
          'ETIMEDOUT',
          `stream "${this.name}": no room after ${timeout} ms: consumer "${gate.id}" acknowledged seq ${this.limit - this.capacity} and the head is ${this.headNumber()} (capacity ${this.capacity})`,
        );
      }
      await abortableDelay(Math.min(ROOM_POLL_MS, left), options.signal);
    }
  }

  /** The meta's capacity, creating the stream first when it has no meta. */
  private openOrCreate(asked: number | undefined, create: boolean): number {
    const existing = this.readMeta();
    if (existing !== undefined) return this.opened(existing, asked);
    if (!create) throw new SplinterError('ENOENT', `stream "${this.name}": no such stream (its meta "${this.metaKeyText}" is missing)`);
    const capacity = asked ?? Math.min(DEFAULT_CAPACITY, this.host.kv.m.slots - 1);
    this.create(capacity);
    return this.opened(this.readMeta()!, asked);
  }

  private opened(capacity: number, asked: number | undefined): number {
    if (asked !== undefined && asked !== capacity) {
      throw new SplinterError('EINVAL', `stream "${this.name}" exists with capacity ${capacity}, asked for ${asked}`);
    }
    this.locateHead();
    return capacity;
  }

  /** The capacity the meta records; undefined when there is no meta. @throws ECORRUPT for a meta that is not one */
  private readMeta(): number | undefined {
    const bytes = getCopy(this.host.kv, this.metaKeyText);
    if (bytes === undefined) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magicOk = bytes.length === META.length && magicBytes.every((b, i) => bytes[META.magic + i] === b);
    const capacity = magicOk ? view.getBigUint64(META.capacity, true) : 0n;
    if (!magicOk || capacity < 1n || capacity >= BigInt(this.host.kv.m.slots)) {
      throw new SplinterError(
        'ECORRUPT',
        `"${this.metaKeyText}" is not a stream's meta: expected ${META.length} bytes starting "${STREAM_MAGIC}" with a capacity 1..${this.host.kv.m.slots - 1}, received ${bytes.length} bytes`,
      );
    }
    return Number(capacity);
  }

  /**
   * Cells first, each only if missing (a leftover one is reset to empty), then the meta, only if
   * missing: of two processes creating the stream at once, one writes the meta, and the other
   * opens it. A create that fails part-way leaves no meta, so nobody uses the stream.
   */
  private create(capacity: number): void {
    const ctx = this.host.kv;
    const one = new Uint8Array(1);
    const made: string[] = [];
    try {
      for (let i = 0; i < capacity; i++) {
        const key = cellKey(this.name, i);
        if (setValue(ctx, key, one, 1, SlotType.VOID, true)) made.push(key);
        else this.resetCell(key);
      }
      const meta = new Uint8Array(META.length);
      meta.set(magicBytes, META.magic);
      new DataView(meta.buffer).setBigUint64(META.capacity, BigInt(capacity), true);
      setValue(ctx, this.metaKeyText, meta, META.length, SlotType.BINARY, true);
    } catch (error) {
      // A store too full for the stream (ENOSPC) keeps none of its cells: the slots stay free for what fits.
      for (const key of made) unsetKey(ctx, key);
      throw error;
    }
  }

  /**
   * Removes the stream: its meta first (producers' next append then fails with ENOENT), then its
   * cells and its durable consumers' keys. Subscriptions end with ENOENT at their next read.
   * @throws {SplinterError} EAGAIN (a key stayed busy), ECLOSED
   */
  drop(): void {
    this.host.live();
    const ctx = this.host.kv;
    unsetKey(ctx, this.metaKeyText);
    for (let i = 0; i < this.capacity; i++) unsetKey(ctx, cellKey(this.name, i));
    const consumers = consumerKey(this.name, '');
    for (const key of listKeys(ctx)) {
      if (typeof key === 'string' && key.startsWith(consumers)) unsetKey(ctx, key);
    }
  }

  /** A cell left by an earlier stream of this name (no meta now): empty again, under its lock. */
  private resetCell(key: string): void {
    const ctx = this.host.kv;
    const m = ctx.m;
    ctx.key.encode(key);
    const index = locateKey(m, ctx.key);
    if (index < 0) return;
    const slotByte = m.slotByte(index);
    const ctimeW = (slotByte + SLOT.ctime) >>> 2;
    // Empty already (another creator's new cell): nothing to reset, and its lock is left alone.
    if ((Atomics.load(m.u32, ctimeW) | Atomics.load(m.u32, ctimeW + 1)) === 0 && Atomics.load(m.u8, slotByte + SLOT.type_flag) === SlotType.VOID) return;
    ctx.backoff.reset();
    while (!tryLock(m.u32, m.epochW32(slotByte))) {
      if (!ctx.backoff.next()) throw new SplinterError('EAGAIN', `stream "${this.name}": its leftover cell "${key}" stayed busy`);
    }
    // Looked at under the cell's lock: a creator that wrote the meta meanwhile may have a producer
    // whose message is in this cell already; then the cell is live, not a leftover.
    ctx.key.encode(this.metaKeyText);
    const live = locateKey(m, ctx.key) >= 0;
    if (!live) {
      Atomics.store(m.u8, slotByte + SLOT.type_flag, SlotType.VOID);
      m.u32[(slotByte + SLOT.ctime) >>> 2] = 0;
      m.u32[(slotByte + SLOT.ctime + 4) >>> 2] = 0;
    }
    publish(ctx, index, slotByte, false);
  }

  /** Finds the meta and the head counter's word: the first 8-aligned u64 at or after value byte 16. */
  private locateHead(): void {
    const ctx = this.host.kv;
    const m = ctx.m;
    ctx.key.encode(this.metaKeyText);
    const index = locateKey(m, ctx.key);
    if (index < 0) throw new SplinterError('ENOENT', `stream "${this.name}": its meta "${this.metaKeyText}" is gone`);
    const slotByte = m.slotByte(index);
    const offset = Atomics.load(m.u32, (slotByte + SLOT.val_off) >>> 2);
    if (offset > m.arenaSize - META.length) {
      throw new SplinterError('ECORRUPT', `stream "${this.name}": its meta's value offset ${offset} is outside this store's values`);
    }
    const headByte = (m.arenaStart + offset + META.headFrom + 7) & ~7;
    this.metaSlotByte = slotByte;
    this.metaHashLo = ctx.key.hashLo;
    this.metaHashHi = ctx.key.hashHi;
    this.headW64 = headByte / 8;
  }

  private checkMeta(): void {
    const m = this.host.kv.m;
    const w = this.metaSlotByte >>> 2;
    // Plain loads of the hash: a meta removed (the stream dropped) is seen at the next append.
    if (m.i32[w] !== this.metaHashLo || m.i32[w + 1] !== this.metaHashHi) {
      this.locateHead();
    }
  }

  /**
   * The last seq claimed by any producer (0n: none yet). Messages up to it may still be being
   * written; `oldest()` is the first one a reader can still get.
   * @throws {SplinterError} ECLOSED, ENOENT (the stream was dropped)
   */
  head(): bigint {
    this.host.live();
    this.checkMeta();
    // Atomic: producers add to it from any process (C's atomic_fetch_add among them).
    return BigInt(this.headNumber());
  }

  /** The first seq still kept: head − capacity + 1, or 1. */
  oldest(): bigint {
    const head = this.head();
    const first = head - BigInt(this.capacity) + 1n;
    return first > 1n ? first : 1n;
  }

  /** @internal The head as a number (seqs stay below 2^53). @throws {SplinterError} ECORRUPT past that */
  headNumber(): number {
    const u32 = this.host.kv.m.u32;
    const lowW = this.headW64 * 2;
    // Two 32-bit loads, no BigInt (a waiting reader asks on every look): while the high word is 0
    // the head is the low word; a carry is a 64-bit load's business (once past 2^32 − 1 claims).
    if (Atomics.load(u32, lowW + 1) === 0) {
      const low = Atomics.load(u32, lowW);
      // The high word still 0 after the low word: no carry came between them (it only grows).
      if (Atomics.load(u32, lowW + 1) === 0) return low;
    }
    const head = Atomics.load(this.host.kv.m.u64, this.headW64);
    if (head > MAX_SEQ_BIG) throw this.headPastLimit(head);
    return Number(head);
  }

  private headPastLimit(head: bigint): SplinterError {
    return new SplinterError('ECORRUPT', `stream "${this.name}": its head counter is ${head}, past the last seq a stream can have (2^53 − 1): the meta's counter was written by something else`);
  }

  /**
   * Appends a message; returns its seq. Bytes are kept as bytes, a string as text; `type`
   * names it otherwise ('json' for text that is JSON). Synchronous: the message is readable by
   * every process when this returns.
   * @throws {SplinterError} EMSGSIZE (empty, or over the store's value size), EINVAL,
   *   EAGAIN (a gating consumer of `hold` has not acknowledged the message it would overwrite),
   *   ETIMEDOUT (this producer's claim was declared abandoned: it took over claimTimeout),
   *   ENOENT (the stream was dropped), ECLOSED
   */
  append(value: Uint8Array | string, options?: { type?: MessageType }): bigint {
    this.host.live();
    let type: number;
    let bytes: Uint8Array;
    let length: number;
    if (typeof value === 'string') {
      type = TYPE_BYTES[options?.type ?? 'text'];
      ({ bytes, length } = this.encodeText(value));
    } else if (isBytes(value)) {
      type = TYPE_BYTES[options?.type ?? 'bytes'];
      bytes = value;
      length = value.length;
    } else {
      throw new SplinterError('EINVAL', `append takes a Uint8Array or a string, received ${describe(value)}`);
    }
    if (type === undefined) throw new SplinterError('EINVAL', `a message type is 'bytes', 'text' or 'json', received ${describe(options?.type)}`);
    return BigInt(this.appendBytes(bytes, length, type));
  }

  /**
   * Appends `JSON.stringify(value)` as a JSON message; returns its seq.
   * @throws {SplinterError} EINVAL (not serialisable), and what append throws
   */
  appendJSON(value: unknown): bigint {
    this.host.live();
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new SplinterError('EINVAL', `appendJSON: the value cannot be serialised (${(error as Error).message})`);
    }
    if (text === undefined) throw new SplinterError('EINVAL', `appendJSON: ${describe(value)} has no JSON form`);
    const { bytes, length } = this.encodeText(text);
    return BigInt(this.appendBytes(bytes, length, SlotType.JSON));
  }

  private encodeText(text: string): { bytes: Uint8Array; length: number } {
    const scratch = this.scratch;
    const { read, written } = encoder.encodeInto(text, scratch);
    if (read < text.length || written > this.host.kv.m.maxValueSize) {
      const total = encoder.encode(text).length;
      throw new SplinterError('EMSGSIZE', `a message is 1..${this.host.kv.m.maxValueSize} bytes in this store, received ${total} bytes`);
    }
    return { bytes: scratch, length: written };
  }

  /** Claims the next seq and publishes the message into its cell (`atime`: a key history's epoch, or -1); returns the seq. @internal */
  appendBytes(source: Uint8Array, length: number, type: number, atime = -1, userFlag = -1): number {
    const ctx = this.host.kv;
    const m = ctx.m;
    if (length < 1 || length > m.maxValueSize) {
      throw new SplinterError('EMSGSIZE', `a message is 1..${m.maxValueSize} bytes in this store, received ${length} bytes`);
    }
    // Copied away from store memory before the claim: nothing after the claim may fail but the wait.
    const value = source === this.scratch ? source : ctx.copier.apart(source, length);
    this.checkMeta();
    const s = this.claim();
    this.publishClaimed(s, value, length, type, atime, userFlag);
    return s;
  }

  /**
   * The claim: head + 1, atomically, against producers in any process and language (C adds 1 to
   * the u64 with atomic_fetch_add). A compare-and-swap of the low word takes 1 as C's 64-bit add
   * would, except when the low word would carry: then a 64-bit add (a BigInt; once in 2^32 claims).
   */
  private claim(): number {
    const m = this.host.kv.m;
    const u32 = m.u32;
    const lowW = this.headW64 * 2;
    for (;;) {
      const low = Atomics.load(u32, lowW);
      if (low === U32_MAX) break;
      // The high word cannot change while the low one stays below 2^32 − 1: only a carry moves it.
      const high = u32[lowW + 1]!;
      // The gate, before the claim: a seq past what the gates allow is never claimed (so never lost).
      const next = high * 2 ** 32 + low + 1;
      if (next > this.limit && next > this.readLimit()) throw this.heldError(next);
      if (Atomics.compareExchange(u32, lowW, low, low + 1) === low) {
        if (high >= MAX_HIGH_WORD) throw this.headPastLimit(BigInt(high) * 2n ** 32n + BigInt(low));
        return high * 2 ** 32 + low + 1;
      }
    }
    const next = this.headNumber() + 1;
    if (next > this.limit && next > this.readLimit()) throw this.heldError(next);
    const before = Atomics.add(m.u64, this.headW64, 1n);
    if (before >= MAX_SEQ_BIG) throw this.headPastLimit(before);
    return Number(before) + 1;
  }

  /** Writes claimed seq `s` once its cell's previous lap is published, declaring that lap abandoned after the claim timeout. */
  private publishClaimed(s: number, value: Uint8Array, length: number, type: number, atime: number, userFlag: number): void {
    const cells = this.cells;
    const out = this.read1;
    const previous = s > this.capacity ? s - this.capacity : 0;
    let spins = 0;
    let waitingSince = -1;
    let oddSeen = -1;
    let declarations = 0;
    for (;;) {
      if (cells.tryWrite(s, previous, value, length, type, out, atime, userFlag)) return;
      const holds = out.holds;
      if (holds === s) {
        throw new SplinterError('ETIMEDOUT', `stream "${this.name}": seq ${s} was declared abandoned before this producer wrote it (it took over the claim timeout)`);
      }
      if (holds > s) {
        throw new SplinterError('ECORRUPT', `stream "${this.name}": the cell of seq ${s} holds seq ${holds}, later than a seq just claimed (two producers claimed one seq: the head counter was written by something else)`);
      }
      if (spins++ < WAIT_SPINS) continue;
      const now = performance.now();
      if (waitingSince < 0) {
        waitingSince = now;
        oddSeen = this.oddEpochOf(s);
      } else if (now - waitingSince >= this.claimTimeoutMs) {
        const odd = this.oddEpochOf(s);
        // The previous lap never came: declared abandoned, so this seq (and the stream) goes on.
        if (cells.abandon(previous, odd === oddSeen ? odd : -1, s)) {
          waitingSince = -1;
          continue;
        }
        // Not declarable (a live C producer is still writing it): a synchronous call waits no longer.
        if (++declarations >= GIVE_UP_TIMEOUTS) {
          throw new SplinterError(
            'ETIMEDOUT',
            `stream "${this.name}": seq ${s} was not written: the previous message in its cell (seq ${previous}) is still being written by a live producer after ${GIVE_UP_TIMEOUTS} claim timeouts of ${this.claimTimeoutMs} ms; seq ${s} will be declared abandoned`,
          );
        }
        waitingSince = now;
      }
      sleepSync(WAIT_SLEEP_MS);
    }
  }

  /** The cell's epoch when odd (a writer inside), else -1. */
  private oddEpochOf(s: number): number {
    const m = this.host.kv.m;
    const e = Atomics.load(m.u32, m.epochW32(this.cells.slotByte(s % this.capacity)));
    return (e & 1) === 1 ? e : -1;
  }

  /**
   * What seq `seq` is now: its message, a gap of one (overwritten, or abandoned), a malformed
   * cell; undefined when it is not published yet.
   * @throws {SplinterError} EINVAL, ENOENT, ECLOSED, EAGAIN (the cell stayed busy)
   */
  read(seq: bigint | number): StreamEvent | undefined {
    this.host.live();
    const n = checkSeq(seq, 'read');
    const ctx = this.host.kv;
    const out = this.read1;
    ctx.backoff.reset();
    for (;;) {
      const state = this.cells.read(n, out);
      if (state !== CELL.busy) {
        if (state === CELL.pending) return undefined;
        return decodeCell(state, n, this.cells, out);
      }
      if (!ctx.backoff.next()) throw new SplinterError('EAGAIN', `stream "${this.name}": the cell of seq ${n} stayed busy for ${ctx.backoff.budgetMs} ms`);
    }
  }

  /**
   * Messages in seq order, across processes, as `{ kind: 'message', seq, value, type }`; a run of
   * seqs this consumer cannot have comes as one `{ kind: 'gap', from, to, reason }` ('overwritten':
   * more than `capacity` behind; 'abandoned': claimed by a producer that never wrote them). `from`:
   * 'earliest' (the oldest kept; the default), 'latest' (the next appended) or a seq.
   * @throws {SplinterError} EINVAL, ECLOSED
   */
  subscribe<T = unknown>(options: SubscribeOptions = {}): Subscription<T> {
    this.host.live();
    return new StreamSubscription<T>(this, options);
  }

  /**
   * A durable consumer: its acknowledged seq lives in the store (key `NAME#c.<id>`), so a process
   * that starts again resumes after the last message it acknowledged (at least once).
   * @throws {SplinterError} EINVAL, ECLOSED
   */
  consumer(id: string): StreamConsumer {
    this.host.live();
    return new StreamConsumer(this, id);
  }
}
