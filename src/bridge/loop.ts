/**
 * The bridge itself: local changes are stamped and offered to Redis, remote changes that win are
 * written into the store, and every (re)connection first brings both sides level again.
 *
 * Per key the bridge remembers the value it last saw or wrote and the store epoch it was at, with
 * the value's version. A change the watch reports at that epoch, or with that same content, is the
 * bridge's own write (no echo); anything else is a local write, stamped now. A key whose version
 * Redis has not acknowledged stays in the outbox until it has: the store is the source.
 *
 * Everything read from Redis is hostile input: a stream entry, hash field or answer that is not a
 * change this bridge can apply (a bad key, bytes that are not a record, a stamp from the future)
 * is skipped, counted in stats() and said in a bounded warning, and the bridge goes on.
 */
import { isSplinterError, SplinterError } from '../errors.js';
import { Store } from '../facade/store.js';
import { keyIdentity, type Key } from '../store/keys/key-text.js';
import { FUTURE_LIMIT_MS, HybridClock, stampText } from './clock.js';
import { compareVersions, type Change, type Version } from './codec.js';
import { showKey } from './key-bytes.js';
import { checkOptions, type BridgeEvent, type BridgeOptions, type CheckedOptions } from './options.js';
import { compareStreamIds, isBadRecord, RedisSide, STREAM_START, type Read, type StreamEntry, type StreamId } from './redis-side.js';
import { StoreSide } from './store-side.js';
import { Warnings } from './warnings.js';

interface KeyState {
  /** The key itself (the maps hold states by its keyIdentity). */
  readonly key: Key;
  /** The store epoch the value below was seen at (-1n: not known, look at the content). */
  epoch: bigint;
  value: Buffer | undefined;
  type: number;
  /** Undefined for a value found in the store when the bridge started, before the first sync decided it. */
  version: Version | undefined;
  /** Redis holds this version, or a newer one. */
  sent: boolean;
  /** The stream entry that carried this version, when known (the bridge's own put, or an entry it read). */
  entryId?: StreamId | undefined;
}

export interface BridgeStats {
  /** Local changes Redis took. */
  readonly sent: number;
  /** Remote changes written into the store. */
  readonly applied: number;
  /** Full resynchronisations after the first (Redis lost data, or the stream was trimmed past us). */
  readonly resyncs: number;
  /** Keys whose latest local change Redis has not acknowledged yet. */
  readonly pending: number;
  /** Records read from Redis and skipped: a stream entry, hash field or answer that held no change this bridge can apply (a bad key, bytes that are not a record, a stamp from the future). */
  readonly rejected: number;
  /** Local keys the bridge cannot carry. None since keys of any bytes are carried: always 0, kept so readers of stats() go on working. */
  readonly uncarried: number;
  /** Remote values this store could not take (larger than its values, the store full, …). */
  readonly unwritten: number;
}

const READ_BLOCK_MS = 1_000;
const READ_COUNT = 1_000;
const RETRY_MS = 100;
const CLOSE_FLUSH_MS = 1_000;
/** A key Redis refused in favour of a record this bridge cannot take is offered again this much later. */
const BLOCKED_RETRY_MS = 1_000;
/** How often the estimate of Redis's clock is measured again (besides each synchronisation). */
const TIME_CHECK_MS = 60_000;

function sameContent(a: { value: Buffer | undefined; type: number }, b: { value: Buffer | undefined; type: number }): boolean {
  if (a.value === undefined || b.value === undefined) return a.value === b.value;
  return a.type === b.type && a.value.equals(b.value);
}

/** How long to wait before looking at a busy slot again: 1 ms, doubling up to a second (a writer that died inside it leaves it busy until `retrainSlot`). */
const busyDelay = (attempt: number): number => Math.min(1_000, 2 ** attempt);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Bridge {
  readonly hostId: string;
  readonly prefix: string;
  /** Stamps in Redis's time as this bridge estimates it: hosts' own clocks do not matter. */
  private readonly clock = new HybridClock(() => Date.now() + this.redisOffsetMs);
  /** Redis's TIME minus this host's clock, measured at each synchronisation and every TIME_CHECK_MS. */
  private redisOffsetMs = 0;
  private timeCheck: NodeJS.Timeout | undefined;
  /** Records and keys skipped, each said once, a few lines per window. */
  private readonly warnings: Warnings;
  /** Sends and stream reads that failed (one per key when a connection drops under many): a few lines per window. */
  private readonly failures: Warnings;
  /** keyIdentity → the key's state. */
  private readonly states = new Map<string, KeyState>();
  /** keyIdentity of each key to offer to Redis (its state holds the key). */
  private readonly outbox = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly local: StoreSide;
  private lastId: StreamId = STREAM_START;
  private generation: string | undefined;
  private synced = false;
  private syncing = false;
  private syncAgain = false;
  /** The stream was trimmed past our position while connected: the next sync is a full one. */
  private forceFull = false;
  /** Moves on each sync: a stream read begun before one is dropped (the sync moved the position). */
  private syncCount = 0;
  private syncWaiters: Array<() => void> = [];
  private flushScheduled = false;
  private closed = false;
  private storeGoneReported = false;
  /** The last error reported (each is reported once until the bridge is in step again). */
  private lastError: string | undefined;
  private readLoopDone: Promise<void> = Promise.resolve();
  private counts = { sent: 0, applied: 0, resyncs: 0, rejected: 0, uncarried: 0, unwritten: 0 };

  private constructor(
    private readonly options: CheckedOptions,
    readonly store: Store,
    private readonly ownsStore: boolean,
    private readonly redis: RedisSide,
  ) {
    this.hostId = options.hostId;
    this.prefix = options.prefix;
    this.warnings = new Warnings((message) => this.report('skipped', message), "more skipped (stats() counts them)", true);
    this.failures = new Warnings((message) => this.report('error', message), 'more sends or reads failed (each is tried again)', false);
    this.local = new StoreSide(
      store,
      options.prefix,
      (key) => this.onLocalChange(key),
      (error) => this.report('error', `watching the store failed: ${(error as Error).message}`),
      options.scanIntervalMs,
    );
  }

  /** Connects, brings the store and Redis level (Redis's current values first), and starts mirroring. */
  static async start(options: BridgeOptions): Promise<Bridge> {
    const checked = checkOptions(options);
    let store: Store;
    const ownsStore = typeof checked.store === 'string';
    if (typeof checked.store === 'string') {
      try {
        store = Store.open(checked.store, { trustShared: checked.trustShared });
      } catch (error) {
        if (isSplinterError(error)) throw new SplinterError(error.code, `bridge: ${error.message.replace(/^[A-Z]+: /, '')}`, { cause: error });
        throw error;
      }
    } else {
      store = checked.store;
      if (store.closed) throw new SplinterError('ECLOSED', 'bridge: the store given is closed');
    }
    let redis: RedisSide;
    try {
      redis = await RedisSide.connect({ url: checked.redis, prefix: checked.prefix, streamMaxLength: checked.streamMaxLength, connectTimeoutMs: checked.connectTimeoutMs, hostId: checked.hostId });
    } catch (error) {
      if (ownsStore) store.close();
      throw error;
    }
    const bridge = new Bridge(checked, store, ownsStore, redis);
    try {
      await bridge.begin();
    } catch (error) {
      await bridge.close();
      throw error;
    }
    return bridge;
  }

  private async begin(): Promise<void> {
    for (const key of this.local.keys()) {
      const now = this.local.read(key);
      if (now !== undefined && now.value !== undefined) this.states.set(keyIdentity(key), { key, ...now, version: undefined, sent: false });
    }
    await this.sync();
    if (!this.synced) throw new SplinterError('ECONNREFUSED', `bridge: the first synchronisation with Redis failed: ${this.lastError ?? 'the connection closed'}`);
    this.local.start([...this.states.values()].map((state) => state.key));
    this.timeCheck = setInterval(() => {
      if (this.synced) this.measureRedisTime().catch(() => undefined); // the next synchronisation measures again
    }, TIME_CHECK_MS).unref();
    this.redis.watchConnection(
      () => void this.sync(),
      (why) => {
        if (this.synced) this.report('disconnected', `${why}; local changes wait in the store until it is back`);
        this.synced = false;
      },
    );
    this.readLoopDone = this.readLoop();
  }

  /** True once the store was closed under a running bridge (by its owner): the bridge stops mirroring and says so once. */
  private storeGone(): boolean {
    if (!this.store.closed) return false;
    if (!this.storeGoneReported) {
      this.storeGoneReported = true;
      this.local.stop();
      this.report('error', 'the store was closed while the bridge ran: nothing is mirrored any more; close the bridge');
    }
    return true;
  }

  private report(type: BridgeEvent['type'], message: string): void {
    if (type === 'error') {
      if (message === this.lastError) return; // a failure that repeats on every retry is said once
      this.lastError = message;
    } else if (type === 'connected') {
      this.lastError = undefined;
    }
    try {
      this.options.onEvent({ type, message });
    } catch {
      // a listener's failure is not the bridge's
    }
  }

  /** Redis's clock minus ours, from one TIME: the clock's wall time is ours plus this. */
  private async measureRedisTime(): Promise<void> {
    const before = Date.now();
    const redisNow = await this.redis.time();
    this.redisOffsetMs = redisNow - Math.round((before + Date.now()) / 2);
  }

  /** A record from Redis that holds no change to apply: skipped, counted and said. */
  private skipBad(where: string, why: string): void {
    this.counts.rejected++;
    this.warnings.warn(`skipped ${where}: ${why}`);
  }

  /** A change read from Redis, written into the store when it is one to take and it wins; undefined when it was skipped. */
  private takeRemote({ change, where }: Read, entryId?: StreamId): Change | undefined {
    if (isBadRecord(change)) {
      this.skipBad(where, change.why);
      return undefined;
    }
    if (this.clock.tooFarAhead(change.stamp)) {
      this.skipBad(where, `its stamp ${stampText(change.stamp)} is more than ${FUTURE_LIMIT_MS / 1000} s past Redis's clock`);
      return undefined;
    }
    this.applyRemoteSafely(change, 0, entryId);
    return change;
  }

  /** applyRemote, with a failure of the store under us (corrupt, say) said rather than thrown: the next change of the key tries again. */
  private applyRemoteSafely(change: Change, attempt = 0, entryId?: StreamId): void {
    try {
      this.applyRemote(change, attempt, entryId);
    } catch (error) {
      this.report('error', `writing ${showKey(change.key)} into the store failed: ${(error as Error).message}`);
    }
  }

  /** A change of a key in the store (or maybe none: the watch and the scan report generously). */
  private onLocalChange(key: Key, attempt = 0): void {
    if (this.closed || this.storeGone()) return;
    let now: ReturnType<StoreSide['read']>;
    try {
      now = this.local.read(key);
    } catch (error) {
      this.report('error', `reading ${showKey(key)} from the store failed: ${(error as Error).message}`);
      return;
    }
    if (now === undefined) {
      setTimeout(() => this.onLocalChange(key, attempt + 1), busyDelay(attempt)); // a writer is in the slot right now
      return;
    }
    const id = keyIdentity(key);
    const state = this.states.get(id);
    if (state !== undefined && state.epoch === now.epoch && state.epoch !== -1n) return;
    if (state === undefined ? now.value === undefined : sameContent(state, now)) {
      if (state !== undefined) state.epoch = now.epoch;
      return;
    }
    this.states.set(id, { key, epoch: now.epoch, value: now.value, type: now.type, version: { stamp: this.clock.now(), host: this.hostId }, sent: false });
    this.enqueue(key);
  }

  /** A change from Redis (from stream entry `entryId`, if it came so): written into the store when it wins over what the store holds. */
  private applyRemote(change: Change, attempt = 0, entryId?: StreamId): void {
    if (this.closed || this.storeGone() || !this.local.inNamespace(change.key)) return;
    this.clock.observe(change.stamp);
    const id = keyIdentity(change.key);
    const state = this.states.get(id);
    if (state?.version !== undefined) {
      const order = compareVersions(change, state.version);
      if (order === 0) {
        state.sent = true; // our own record, or one already written
        if (entryId !== undefined) state.entryId = entryId;
      }
      if (order < 0 && state.sent && entryId !== undefined && state.entryId !== undefined && compareStreamIds(entryId, state.entryId) > 0) {
        // An older version appended after ours: Redis's current record went back (garbage was written over
        // ours, and a bridge that never saw ours sent its own after a resync). Ours is offered again.
        state.sent = false;
        this.enqueue(change.key);
      }
      if (order <= 0) return;
    }
    // A local write the watch has not reported yet is newer than this change: it wins.
    const now = this.local.read(change.key);
    if (now === undefined) {
      setTimeout(() => this.applyRemoteSafely(change, attempt + 1, entryId), busyDelay(attempt));
      return;
    }
    const noticed = state === undefined ? now.value === undefined : (state.epoch === now.epoch && state.epoch !== -1n) || sameContent(state, now);
    if (!noticed && state?.version !== undefined) {
      this.onLocalChange(change.key);
      return;
    }
    if (!noticed && state === undefined) {
      this.onLocalChange(change.key);
      return;
    }
    if (sameContent(now, change)) {
      this.states.set(id, { key: change.key, epoch: now.epoch, value: change.value, type: change.type, version: change, sent: true, entryId });
      return;
    }
    try {
      this.local.write(change.key, change.value, change.type);
    } catch (error) {
      if (isSplinterError(error, 'EAGAIN')) {
        setTimeout(() => this.applyRemoteSafely(change, attempt + 1, entryId), busyDelay(attempt));
        return;
      }
      this.counts.unwritten++;
      this.warnings.warn(`skipped ${showKey(change.key)} from ${change.host} (stamp ${stampText(change.stamp)}): this store cannot take it: ${(error as Error).message}`);
      return;
    }
    this.counts.applied++;
    const after = this.local.read(change.key);
    const wrote = after !== undefined && sameContent(after, change);
    this.states.set(id, { key: change.key, epoch: wrote ? after.epoch : -1n, value: change.value, type: change.type, version: change, sent: true, entryId });
    if (!wrote) this.onLocalChange(change.key); // someone wrote between our write and our look: theirs is a new change
  }

  private enqueue(key: Key): void {
    this.outbox.add(keyIdentity(key));
    if (this.flushScheduled || !this.synced) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Offers every key in the outbox to Redis (pipelined on one connection, so in order). */
  private flush(): void {
    this.flushScheduled = false;
    if (!this.synced) return;
    for (const id of this.outbox) {
      this.outbox.delete(id);
      const state = this.states.get(id);
      if (state === undefined || state.sent || state.version === undefined) continue;
      const sending: Change = { key: state.key, value: state.value, type: state.type, stamp: state.version.stamp, host: state.version.host };
      const done = this.send(sending).finally(() => this.inflight.delete(done));
      this.inflight.add(done);
    }
  }

  private async send(change: Change): Promise<void> {
    try {
      const result = await this.redis.put(change);
      const state = this.states.get(keyIdentity(change.key));
      if (result.accepted) {
        this.counts.sent++;
        if (state?.version !== undefined && compareVersions(state.version, change) === 0) {
          state.sent = true;
          state.entryId = result.id;
        }
      } else {
        // A newer version won: taken now (the stream brings it too, but maybe later).
        const current = this.takeRemote(result.current);
        if (current !== undefined) {
          if (state?.version !== undefined && compareVersions(state.version, change) === 0 && compareVersions(current, change) >= 0) state.sent = true;
        } else if (!this.closed) {
          // Redis holds a winner this bridge cannot take (a stamp just past the bound, say): offered again later, when it may be.
          setTimeout(() => this.enqueue(change.key), BLOCKED_RETRY_MS).unref();
        }
      }
    } catch (error) {
      if (this.closed) return;
      this.outbox.add(keyIdentity(change.key)); // sent again after the next sync, or shortly
      if (this.redis.connected && this.synced) {
        this.failures.warn(`sending ${showKey(change.key)} failed: ${(error as Error).message}`);
        setTimeout(() => this.enqueue(change.key), RETRY_MS);
      }
    }
  }

  /**
   * Brings the store and Redis level. On the first connection, after Redis lost the namespace
   * (a new generation), or when the stream was trimmed past our position: the current values
   * first (they win over values found in the store at start), then whatever we hold newer.
   * Otherwise the stream is read on from our position. Either way every known key is looked at
   * again, and every unacknowledged change sent.
   */
  private async sync(): Promise<void> {
    if (this.closed) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    this.synced = false;
    try {
      await this.measureRedisTime();
      const generation = await this.redis.generation();
      const first = this.generation === undefined;
      const full = first || this.forceFull || generation !== this.generation || !(await this.redis.holdsAfter(this.lastId));
      this.forceFull = false;
      if (full) {
        const snapshot = await this.redis.snapshot();
        this.lastId = snapshot.lastId;
        const held = new Map<string, Change>();
        for (const read of snapshot.records) {
          // A record skipped is not held: a key of ours that has one is sent, and replaces it.
          const change = this.takeRemote(read);
          if (change !== undefined) held.set(keyIdentity(change.key), change);
        }
        for (const [id, state] of this.states) {
          if (state.version === undefined) state.version = { stamp: this.clock.now(), host: this.hostId };
          const theirs = held.get(id);
          if (theirs === undefined || compareVersions(state.version, theirs) > 0) state.sent = false;
        }
        if (!first) this.counts.resyncs++;
        this.generation = generation;
      }
      this.lookAtEverything();
      for (const [id, state] of this.states) if (!state.sent) this.outbox.add(id);
      this.syncCount++;
      this.synced = true;
      if (!first) this.report('connected', full ? 'in step with Redis again: resynchronised the namespace in full' : 'connected to Redis again; resumed the stream');
      for (const wake of this.syncWaiters.splice(0)) wake();
      this.flush();
    } catch (error) {
      this.report('error', `synchronising with Redis failed: ${(error as Error).message}`);
      if (!this.closed && this.redis.connected && this.generation !== undefined) setTimeout(() => void this.sync(), RETRY_MS * 5);
    } finally {
      this.syncing = false;
      if (this.syncAgain && !this.closed) {
        this.syncAgain = false;
        void this.sync();
      }
    }
  }

  /**
   * Reads the namespace's stream from our position for as long as the bridge runs: a read that
   * also tells whether entries after our position were trimmed away (then a full resync), and
   * when it finds nothing, a blocking wait for the next entry.
   */
  private async readLoop(): Promise<void> {
    let idle = false;
    while (!this.closed) {
      if (!this.synced) {
        await new Promise<void>((resolve) => this.syncWaiters.push(resolve));
        idle = false;
        continue;
      }
      const at = this.syncCount;
      const from = this.lastId;
      let entries: StreamEntry[];
      let checkAfter = false;
      try {
        if (idle) {
          entries = await this.redis.waitForEntries(from, READ_BLOCK_MS, READ_COUNT);
          checkAfter = entries.length > 0;
        } else {
          const read = await this.redis.readNow(this.lastId, READ_COUNT);
          if (read.gap && at === this.syncCount) {
            this.forceFull = true;
            await this.sync();
            continue;
          }
          entries = read.entries;
        }
      } catch (error) {
        if (this.closed) return;
        // Said when Redis is there and still refuses (the stream made something else, say); a dropped connection says so itself.
        if (this.redis.connected && this.redis.readerConnected) this.failures.warn(`reading the stream failed: ${(error as Error).message}`);
        await sleep(RETRY_MS);
        idle = false;
        continue;
      }
      if (at !== this.syncCount || this.closed) continue;
      for (const entry of entries) {
        this.takeRemote(entry, entry.id);
        this.lastId = entry.id;
      }
      idle = entries.length === 0;
      // A blocked read may be answered only after a burst that trimmed past `from`: check, after applying.
      if (checkAfter && !(await this.redis.holdsAfter(from).catch(() => true)) && at === this.syncCount && !this.closed) {
        this.forceFull = true;
        await this.sync();
      }
    }
  }

  /** Every key to look at for changes not yet noticed: those ever seen, and those the store holds now. */
  private lookAtEverything(): void {
    for (const key of [...this.local.knownKeys()]) this.onLocalChange(key);
    for (const key of this.local.keys()) this.onLocalChange(key);
    this.local.scan(true);
  }

  stats(): BridgeStats {
    let pending = 0;
    for (const state of this.states.values()) if (!state.sent) pending++;
    return { ...this.counts, pending };
  }

  /** Stops: sends what is pending (up to a second), disconnects, and closes the store if the bridge opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.synced && !this.store.closed) {
      try {
        this.lookAtEverything();
      } catch (error) {
        this.report('error', `looking at the store's keys failed: ${(error as Error).message}`);
      }
      this.flush();
      await Promise.race([Promise.allSettled([...this.inflight]), sleep(CLOSE_FLUSH_MS)]);
    }
    this.closed = true;
    clearInterval(this.timeCheck);
    this.warnings.close();
    this.failures.close();
    this.local.stop();
    for (const wake of this.syncWaiters.splice(0)) wake();
    await this.redis.close();
    await Promise.race([this.readLoopDone, sleep(CLOSE_FLUSH_MS)]);
    if (this.ownsStore) this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Starts a bridge: `const b = await bridge({ store: 'agents', redis: 'redis://127.0.0.1:6379', prefix: 'job:' })`. */
export function bridge(options: BridgeOptions): Promise<Bridge> {
  return Bridge.start(options);
}


