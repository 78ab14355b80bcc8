/**
 * A key's history: the last `depth` versions of one key, each with its epoch, kept after the
 * fact in a stream of its own (docs/streams.md "Key history"). Versions are recorded by the
 * writer (`set`), by `record()`, or by a follower (`follow()`) that records each version it sees.
 */
import { describe, SplinterError } from '../errors.js';
import { SLOT, SlotType } from '../layout/constants.js';
import { watch, type BusHost } from '../bus/watch.js';
import { setTypedValue } from '../store/values/biguint.js';
import { isBytes } from '../store/values/copy.js';
import { KEEP_TYPE, setValue } from '../store/values/kv.js';
import type { Key } from '../store/keys/key-text.js';
import { readKeySlot } from '../store/sync/seqlock-read.js';
import { CELL, type CellRead } from './cells.js';
import { Stream } from './stream.js';

export interface HistoryOptions {
  /** How many versions are kept (the stream's capacity) when the history is created (default 16). */
  depth?: number | undefined;
  /** As a stream's claimTimeout. */
  claimTimeout?: number | undefined;
}

/** One recorded version of the key. */
export interface HistoryEntry {
  /** Its place in the history (the stream's seq). */
  seq: bigint;
  /** The key's slot epoch when this version was read. */
  epoch: bigint;
  /** The key's slot type byte then. */
  type: number;
  value: Uint8Array;
}

const DEFAULT_DEPTH = 16;
const TWO_32 = 2 ** 32;
const encoder = new TextEncoder();

/** The stream name of a key's history: `h.` and the 16 hex digits of the key's FNV-1a 64 hash (the store's own). */
export function historyStreamName(hashHi: number, hashLo: number): string {
  return `h.${(hashHi >>> 0).toString(16).padStart(8, '0')}${(hashLo >>> 0).toString(16).padStart(8, '0')}`;
}

export class KeyHistory {
  readonly key: Key;
  /** The stream the versions are kept in. */
  readonly stream: Stream;
  private readonly scratch: Uint8Array;
  private readonly out: CellRead = { holds: 0, type: 0, length: 0, oddEpoch: -1, reason: '', atime: 0, userFlag: 0 };

  /** @internal Use `store.history(key, options)`. */
  constructor(
    private readonly host: BusHost,
    key: Key,
    options: HistoryOptions = {},
  ) {
    host.live();
    const ctx = host.kv;
    ctx.key.encode(key); // refuses a bad key
    this.key = key instanceof Uint8Array ? new Uint8Array(key) : key;
    const depth = options.depth ?? DEFAULT_DEPTH;
    this.stream = new Stream(host, historyStreamName(ctx.key.hashHi, ctx.key.hashLo), { capacity: depth, claimTimeout: options.claimTimeout });
    this.scratch = new Uint8Array(ctx.m.maxStoredLength);
  }

  /** How many versions are kept. */
  get depth(): number {
    return this.stream.capacity;
  }

  /**
   * Sets the key (as store.set, `type` naming the slot type in the same write) and records the
   * version written (or a later one, when another writer came between).
   * @throws {SplinterError} as store.set and append
   */
  set(value: Uint8Array | string, options?: { type?: number }): void {
    this.host.live();
    const bytes = typeof value === 'string' ? encoder.encode(value) : value;
    if (!isBytes(bytes)) throw new SplinterError('EINVAL', `history.set takes a Uint8Array or a string, received ${describe(value)}`);
    const ctx = this.host.kv;
    if (options?.type === undefined) setValue(ctx, this.key, bytes, bytes.length, KEEP_TYPE);
    else setTypedValue(ctx, this.key, bytes, bytes.length, options.type);
    this.record();
  }

  /**
   * Records the key's current version, unless it is the newest recorded already (same epoch). A
   * key that does not exist records nothing. Returns the entry recorded, or undefined.
   * @throws {SplinterError} EAGAIN (the key's slot stayed busy), ECLOSED
   */
  record(): HistoryEntry | undefined {
    this.host.live();
    const ctx = this.host.kv;
    const m = ctx.m;
    const scratch = this.scratch;
    const version = readKeySlot(ctx, this.key, 'history.record', (_index, slotByte, stable) => {
      const length = m.u32[(slotByte + SLOT.val_len) >>> 2]!;
      const offset = m.u32[(slotByte + SLOT.val_off) >>> 2]!;
      const type = m.u8[slotByte + SLOT.type_flag]!;
      const epochW = (slotByte + SLOT.epoch) >>> 2;
      const epoch = m.u32[epochW + 1]! * TWO_32 + m.u32[epochW]!;
      if (length < 1 || length > m.maxStoredLength || offset > m.arenaSize - length) {
        if (stable()) throw new SplinterError('ECORRUPT', `history.record: the key's value claims ${length} bytes at arena offset ${offset}, outside this store's values`);
        return undefined;
      }
      ctx.copier.out(scratch, m.arenaStart + offset, length);
      return { length, type, epoch };
    });
    if (version === undefined) return undefined;
    if (this.newestEpoch() === version.epoch) return undefined;
    const cellType = version.type === SlotType.VARTEXT || version.type === SlotType.JSON ? version.type : SlotType.BINARY;
    const seq = this.stream.appendBytes(scratch, version.length, cellType, version.epoch, version.type);
    return { seq: BigInt(seq), epoch: BigInt(version.epoch), type: version.type, value: scratch.slice(0, version.length) };
  }

  /** The epoch of the newest recorded version, or -1. */
  private newestEpoch(): number {
    const head = this.stream.headNumber();
    if (head === 0) return -1;
    for (let tries = 0; tries < 1000; tries++) {
      const state = this.stream.cells.read(head, this.out);
      if (state === CELL.message) return this.out.atime;
      if (state !== CELL.busy) return -1;
    }
    return -1;
  }

  /**
   * The versions kept, oldest first (at most `depth`), each with its epoch. A version recorded
   * twice (two recorders at once) appears once.
   * @throws {SplinterError} ECLOSED
   */
  entries(): HistoryEntry[] {
    this.host.live();
    const stream = this.stream;
    const cells = stream.cells;
    const out = this.out;
    const head = stream.headNumber();
    const entries: HistoryEntry[] = [];
    for (let n = Math.max(1, head - stream.capacity + 1); n <= head; n++) {
      let state: number = CELL.busy;
      for (let tries = 0; tries < 1000 && state === CELL.busy; tries++) state = cells.read(n, out);
      if (state !== CELL.message) continue; // overwritten meanwhile, abandoned, or still being written
      const last = entries[entries.length - 1];
      if (last !== undefined && last.epoch === BigInt(out.atime)) continue;
      entries.push({ seq: BigInt(n), epoch: BigInt(out.atime), type: out.userFlag, value: cells.handOut(out.length).slice() });
    }
    return entries;
  }

  /**
   * Records every version this process sees until `signal` aborts (then rejects with the
   * AbortError), the store closes (resolves) or is replaced (ESTALE). Versions written faster
   * than it looks coalesce: only those it sees are kept (their epochs show the jumps).
   */
  async follow(options: { signal?: AbortSignal | undefined; lowLatency?: boolean | undefined } = {}): Promise<void> {
    this.record();
    for await (const _change of watch(this.host, this.key, options)) this.record();
  }
}
