/**
 * The store side of a bridge: consistent reads and writes of one key through the public Store API,
 * and a feed of the namespace's keys that changed, whoever wrote them (Node or C processes).
 *
 * Known keys are watched with `store.watch` (woken at once by Node writers, within the bus's
 * fallback poll for C writers). Keys created later are found by a scan: every `scanIntervalMs`
 * the global epoch is read (one load) and, only when it moved, `store.keys()` is compared with the
 * known keys.
 *
 * Keys are `Key`s as `store.keys()` gives them: a string when the bytes are UTF-8, else the bytes
 * (C may write any bytes); sets and maps hold them by keyIdentity, one string per distinct key.
 */
import { isSplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import { keyIdentity, type Key } from '../store/keys/key-text.js';

/** What a key holds in the store: its slot epoch (0n when absent), value and type flag. */
export interface LocalValue {
  readonly epoch: bigint;
  readonly value: Buffer | undefined;
  readonly type: number;
}

export const ABSENT: LocalValue = { epoch: 0n, value: undefined, type: 0 };

const READ_ATTEMPTS = 20;
/** A scan waits this many times its own cost before the next: at most a tenth of a core. */
const SCAN_SHARE = 10;

export class StoreSide {
  /** keyIdentity → key. */
  private readonly known = new Map<string, Key>();
  private readonly watches: Array<{ controller: AbortController; keys: Key[] }> = [];
  private readonly pending: Key[] = [];
  private flushing: NodeJS.Immediate | undefined;
  private seenGlobal = -1n;
  private nextScanAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly prefixBytes: Buffer;

  constructor(
    readonly store: Store,
    readonly prefix: string,
    private readonly onChange: (key: Key) => void,
    private readonly onWatchError: (error: unknown) => void,
    private readonly scanIntervalMs: number,
  ) {
    this.prefixBytes = Buffer.from(prefix, 'utf8');
  }

  /** Whether the key's bytes start with the prefix's bytes. */
  inNamespace(key: Key): boolean {
    // Well-formed strings (keys always are; checkOptions requires it of the prefix): UTF-8 is a prefix code, so this is the byte comparison, without encoding.
    if (typeof key === 'string') return key.startsWith(this.prefix);
    const prefix = this.prefixBytes;
    if (key.length < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
    return true;
  }

  /** The value, type and epoch of one moment (a slot epoch unchanged across the read); undefined while a writer holds the slot. */
  read(key: Key): LocalValue | undefined {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      try {
        const before = this.store.slotSnapshot(key);
        if (before === undefined) return ABSENT;
        const value = this.store.get(key);
        const after = this.store.slotSnapshot(key);
        if (value === undefined || after === undefined) continue; // unset meanwhile: look again
        if (after.epoch !== before.epoch || after.index !== before.index) continue;
        return { epoch: after.epoch, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), type: after.typeFlag };
      } catch (error) {
        if (isSplinterError(error, 'EAGAIN')) return undefined;
        throw error;
      }
    }
    return undefined;
  }

  /** Writes a value (and its type) or removes the key; the global epoch moves that this causes is not a reason to scan. */
  write(key: Key, value: Buffer | undefined, type: number): void {
    const globalBefore = this.store.epoch;
    // How many times our own writes move the global epoch: a set with its type once, unset never.
    let ownMoves = 0n;
    if (value === undefined) {
      this.store.unset(key);
    } else {
      // Value and type in one write: no reader or watcher of the store sees the one without the other.
      this.store.set(key, value, { type });
      ownMoves++;
    }
    // Taken as seen only when the epoch moved by exactly our own writes: a key another process
    // inserted meanwhile moved it too, and must still be found by the next scan.
    if (globalBefore === this.seenGlobal && this.store.epoch === globalBefore + ownMoves) this.seenGlobal = globalBefore + ownMoves;
    this.track([key]);
  }

  /** Every key of the namespace the store holds now, of both kinds. */
  keys(): Key[] {
    return this.store.keys().filter((key) => this.inNamespace(key));
  }

  /** Starts watching `initial` and scanning for keys created later. */
  start(initial: Iterable<Key>): void {
    this.seenGlobal = this.store.epoch;
    this.track(initial);
    this.timer = setInterval(() => this.scan(), this.scanIntervalMs);
  }

  /** Every key watched so far (the namespace's keys ever seen). */
  knownKeys(): IterableIterator<Key> {
    return this.known.values();
  }

  /**
   * Looks for keys created since the last look, when the global epoch says something was written.
   * A look costs about 0.35 ms for 1,024 slots and 11 ms for 65,536 (bench machine): the next one
   * waits at least ten times as long as this one took, so scanning a busy store takes at most a
   * tenth of a core, and a new key of a large store is found later (about 110 ms at 65,536 slots).
   * `force` looks now, whatever the time (a resync, a close).
   */
  scan(force = false): void {
    if (this.stopped || this.store.closed) return;
    const started = performance.now();
    if (!force && started < this.nextScanAt) return;
    const global = this.store.epoch;
    if (global === this.seenGlobal && !force) return;
    this.seenGlobal = global;
    let fresh: Key[];
    try {
      fresh = this.keys().filter((key) => !this.known.has(keyIdentity(key)));
    } catch (error) {
      this.onWatchError(error); // a store whose slots break the format: said, and looked at again at the next scan
      this.seenGlobal = -1n;
      return;
    }
    this.track(fresh);
    const ended = performance.now();
    this.nextScanAt = ended + SCAN_SHARE * (ended - started);
  }

  /** Adds keys to the watched set, in one batch per event-loop turn. */
  private track(keys: Iterable<Key>): void {
    for (const key of keys) {
      const id = keyIdentity(key);
      if (this.known.has(id) || !this.inNamespace(key)) continue;
      this.known.set(id, key);
      this.pending.push(key);
    }
    if (this.pending.length > 0 && this.flushing === undefined && !this.stopped) this.flushing = setImmediate(() => this.watchPending());
  }

  /**
   * Watches the pending keys. Watches are kept like a binary counter: a new one absorbs every
   * newer watch not larger than itself, so there are O(log n) watches and each key is rewatched
   * O(log n) times. A key whose watch ends is looked at once, so a change the old watch had not
   * yet delivered is not lost; so is every new key, for changes between its write and its watch.
   */
  private watchPending(): void {
    this.flushing = undefined;
    if (this.stopped) return;
    let keys = this.pending.splice(0);
    const ended: AbortController[] = [];
    while (this.watches.length > 0 && this.watches[this.watches.length - 1]!.keys.length <= keys.length) {
      const absorbed = this.watches.pop()!;
      keys = absorbed.keys.concat(keys);
      ended.push(absorbed.controller);
    }
    this.watch(keys);
    for (const controller of ended) controller.abort();
    for (const key of keys) this.onChange(key);
  }

  private watch(keys: Key[]): void {
    const controller = new AbortController();
    this.watches.push({ controller, keys });
    const changes = this.store.watch(keys, { signal: controller.signal });
    void (async () => {
      try {
        for await (const change of changes) this.onChange(change.key);
      } catch (error) {
        if (!controller.signal.aborted && !this.stopped) this.onWatchError(error);
      }
    })();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearImmediate(this.flushing);
    for (const { controller } of this.watches.splice(0)) controller.abort();
  }
}
