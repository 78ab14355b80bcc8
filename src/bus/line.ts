/**
 * One bus line per store per process, shared by every handle on that store: the writer side
 * (`ring`, called after each write) and the waiting side (the one waiter of this process that
 * every poll, watch and signals subscription on the store hangs from).
 *
 * How a waiter wakes:
 * - shm/file stores: writers of ours in other processes ring a FIFO we listen on (through the
 *   event loop: no thread, no CPU while idle); writers in this process kick us directly; writers
 *   that cannot ring (C processes) are caught by a fallback poll every `pollIntervalMs`,
 *   stretching up to 8× while its looks find nothing, back to the base once one finds a change.
 * - SharedArrayBuffer stores: writers notify a word of the header padding and we wait on it
 *   with Atomics.waitAsync (every writer of such a store is ours).
 * - low-latency subscriptions: the waiter also checks on every turn of the event loop
 *   (setImmediate), trading a core for the fastest wake-up.
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { OURS } from '../layout/constants.js';
import type { Backing } from '../store/backing.js';
import { resolveTarget } from '../store/target.js';
import { euid, removeSideFile, storeOwnership, warnSideFile, type StoreOwnership } from './side-file-policy.js';
import {
  ARMED_COUNT,
  createFifo,
  ENTRY,
  entryBase,
  fifoPath,
  mapSidecar,
  MAX_WAITERS,
  openDoorbell,
  processAlive,
  validPid,
  validToken,
} from './sidecar.js';

/** Something a waiter re-checks whenever the store may have changed. */
export interface Subscription {
  readonly lowLatency: boolean;
  /** Looks for changes now; called on every wake (spurious wakes are fine). True when it delivered one. */
  check(): boolean;
}

/** SharedArrayBuffer stores only: two words of the event-bus padding (C never reads padding, and never sees these stores). */
export const SAB_WAITERS_W32 = OURS.sab_waiters >>> 2;
export const SAB_SEQUENCE_W32 = OURS.sab_sequence >>> 2;
/**
 * shm/file stores: a header padding byte (after user_flags, never read by C) that a waiter of
 * ours sets once it has created the doorbell table, so writers look for the table only then.
 */
export const BUS_PRESENT_BYTE = OURS.bus_present;

export const DEFAULT_POLL_INTERVAL_MS = 10;
/** How far an idle fallback poll stretches its interval. */
const MAX_POLL_STRETCH = 8;
/** How long one low-latency slice may hold the event loop before letting other work run. */
const SPIN_SLICE_MS = 0.5;
const KEEPALIVE_MS = 2 ** 30;
const SAB_WAIT_SLICE_MS = 1000;
const oneByte = new Uint8Array([1]);
/** Where doorbell bytes are read into, for every waiter of this process (their content is never used). */
const doorbellBytes = new Uint8Array(64);
/** A waiter's FIFO we checked and must not ring (a cached writer fd of -1). */
const REFUSED = -1;
/** Tokens are positive i32s, so a token read back from the table is the one written. */
const TOKEN_LIMIT = 2 ** 31;

export class BusLine {
  /** The bytes of every handle holding this line: each handle maps the store on its own. */
  readonly holders: Uint8Array[] = [];
  private table: Int32Array | undefined;
  private tableTried = false;
  /** The store file's owner and mode, which every side file is judged against; set with the table. */
  store: StoreOwnership | undefined;
  /** A live holder's bytes (never those of a closed, unmapped handle). */
  private header: Uint8Array;
  private readonly sab: Int32Array | undefined;
  /** Per table entry, the FIFO we ring it by (fd REFUSED: one that failed its checks). */
  private readonly writerFds = new Map<number, { pid: number; token: number; fd: number }>();
  private waiter: LocalWaiter | undefined;

  constructor(
    readonly identity: string | undefined,
    backing: Backing,
    readonly pollIntervalMs: number,
    /** The path the store file was opened by (undefined for SharedArrayBuffer stores). */
    private readonly storePath: string | undefined,
  ) {
    const bytes = backing.bytes;
    this.header = bytes;
    if (identity === undefined) this.sab = new Int32Array(bytes.buffer, bytes.byteOffset, SAB_SEQUENCE_W32 + 1);
  }

  hold(bytes: Uint8Array): void {
    this.holders.push(bytes);
  }

  /** A handle lets go; true when it was the last. */
  letGo(bytes: Uint8Array): boolean {
    const at = this.holders.indexOf(bytes);
    if (at >= 0) this.holders.splice(at, 1);
    const next = this.holders[0];
    if (next === undefined) return true;
    this.header = next; // before the leaving handle unmaps its bytes
    return false;
  }

  /** The doorbell table, mapped (and created) on first need; undefined when it cannot be. */
  doorbellTable(): Int32Array | undefined {
    if (!this.tableTried && this.identity !== undefined && this.storePath !== undefined) {
      this.tableTried = true;
      const store = storeOwnership(this.storePath, this.identity);
      if (typeof store === 'string') {
        warnSideFile(store);
      } else {
        const table = mapSidecar(this.identity, store);
        if (typeof table === 'string') {
          warnSideFile(table);
        } else {
          this.table = table;
          this.store = store;
        }
      }
    }
    return this.table;
  }

  /** Called after every write of ours: cheap when nobody waits (one or two plain loads). */
  ring(): void {
    const waiter = this.waiter;
    if (waiter !== undefined && waiter.armed) waiter.kick();
    if (this.sab === undefined) {
      let table = this.table;
      // Until some waiter of ours has set up the table, one padding byte says there is nobody to ring.
      if (table === undefined && this.header[BUS_PRESENT_BYTE] !== 0) table = this.doorbellTable();
      if (table !== undefined && table[ARMED_COUNT] !== 0) this.ringOthers(table);
    } else if (this.sab[SAB_WAITERS_W32] !== 0) {
      // Bump, then notify: a waiter that read the old sequence either sees the new one or is woken.
      Atomics.add(this.sab, SAB_SEQUENCE_W32, 1);
      Atomics.notify(this.sab, SAB_SEQUENCE_W32);
    }
  }

  /**
   * The table is untrusted input (any process that can write it may have put anything there):
   * entries are indexed by our own loop bound, and a pid or token out of range is never used.
   */
  private ringOthers(table: Int32Array): void {
    for (let entry = 0; entry < MAX_WAITERS; entry++) {
      const base = entryBase(entry);
      const pid = table[base + ENTRY.pid]!;
      if (pid === 0 || pid === process.pid || table[base + ENTRY.armed] === 0) continue;
      const token = table[base + ENTRY.token]!;
      if (token === 0) continue; // an entry being set up
      if (!validPid(pid) || !validToken(token)) {
        warnSideFile(`the doorbell table of ${this.storePath} holds an entry with pid ${pid} and token ${token}, out of range`);
        continue;
      }
      // Only the writer that flips pending 0 → 1 writes to the FIFO: one byte per wake, however many writes.
      if (Atomics.compareExchange(table, base + ENTRY.pending, 0, 1) !== 0) continue;
      this.writeDoorbell(table, entry, pid, token);
    }
  }

  private writeDoorbell(table: Int32Array, entry: number, pid: number, token: number): void {
    let cached = this.writerFds.get(entry);
    if (cached !== undefined && (cached.token !== token || cached.pid !== pid)) {
      if (cached.fd !== REFUSED) fs.closeSync(cached.fd);
      this.writerFds.delete(entry);
      cached = undefined;
    }
    // A FIFO that failed its checks is never rung; pending stays 1, so other writers of ours skip it too.
    if (cached?.fd === REFUSED) return;
    const fifo = fifoPath(this.identity!, pid, token);
    try {
      if (cached === undefined) {
        const opened = openDoorbell(fifo, this.store!);
        if (typeof opened === 'string') {
          warnSideFile(opened);
          this.writerFds.set(entry, { pid, token, fd: REFUSED });
          return;
        }
        cached = { pid, token, fd: opened };
        this.writerFds.set(entry, cached);
      }
      fs.writeSync(cached.fd, oneByte);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return; // the pipe is full: the waiter has wake-ups queued already
      if (cached !== undefined) {
        fs.closeSync(cached.fd);
        this.writerFds.delete(entry);
      }
      // No reader or no FIFO: a waiter that died without cleaning up frees its entry here.
      if (!processAlive(pid) && Atomics.compareExchange(table, entryBase(entry) + ENTRY.pid, pid, 0) === pid) {
        if (Atomics.exchange(table, entryBase(entry) + ENTRY.armed, 0) !== 0) Atomics.sub(table, ARMED_COUNT, 1);
        removeSideFile(fifo, 'fifo', [euid(), this.store!.uid]);
      } else {
        Atomics.store(table, entryBase(entry) + ENTRY.pending, 0);
      }
    }
  }

  /** The waiting side of this process on this store, created on first use. */
  waiterSide(): LocalWaiter {
    if (this.waiter === undefined) {
      const table = this.doorbellTable();
      // Tell writers (ours, in any process) that a table exists; C never reads this padding byte.
      if (table !== undefined) Atomics.store(this.header, BUS_PRESENT_BYTE, 1);
      this.waiter = new LocalWaiter(this, table, this.sab);
    }
    return this.waiter;
  }

  /** Last handle closed: stop waiting, leave the table, close the FIFOs. */
  dispose(): void {
    this.waiter?.dispose();
    this.waiter = undefined;
    for (const { fd } of this.writerFds.values()) if (fd !== REFUSED) fs.closeSync(fd);
    this.writerFds.clear();
  }
}

/** The one waiter of this process on one store. */
export class LocalWaiter {
  armed = false;
  private readonly subscriptions = new Set<Subscription>();
  private lowLatencyCount = 0;
  private scheduled = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private fallback: NodeJS.Timeout | undefined;
  private fallbackDelay = 0;
  private spinning = false;
  private entry = -1;
  private token = 0;
  private socket: net.Socket | undefined;
  private keepWriterFd = -1;
  private sabWaiting = false;
  private disposed = false;

  constructor(
    private readonly line: BusLine,
    private readonly table: Int32Array | undefined,
    private readonly sab: Int32Array | undefined,
  ) {}

  add(subscription: Subscription): void {
    this.subscriptions.add(subscription);
    if (subscription.lowLatency) this.lowLatencyCount++;
    if (!this.armed) this.arm();
    this.updateDoorbell();
    if (subscription.lowLatency) this.spin();
  }

  remove(subscription: Subscription): void {
    if (!this.subscriptions.delete(subscription)) return;
    if (subscription.lowLatency) this.lowLatencyCount--;
    if (this.subscriptions.size === 0) this.disarm();
    else this.updateDoorbell();
  }

  /** A write in this process: check once, soon (many writes in a row coalesce into one check). */
  kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.checkAll();
    });
  }

  /** Checks every subscription; true when any delivered a change. */
  checkAll(): boolean {
    let delivered = false;
    // A subscription may end (and leave the set) while we check: iterate over a copy only then.
    for (const subscription of this.subscriptions.size === 1 ? this.subscriptions : [...this.subscriptions]) {
      if (subscription.check()) delivered = true;
    }
    return delivered;
  }

  private arm(): void {
    this.armed = true;
    // A pending wait keeps the process alive, as a pending timer would; nothing else of ours is ref'd.
    this.keepAlive = setInterval(() => {}, KEEPALIVE_MS);
    if (this.sab !== undefined) {
      Atomics.add(this.sab, SAB_WAITERS_W32, 1);
      this.waitOnSab();
      return;
    }
    this.fallbackDelay = this.line.pollIntervalMs;
    this.scheduleFallback();
    const table = this.table;
    if (table !== undefined && this.entry < 0) this.register(table);
  }

  /**
   * Writers ring our doorbell only while some subscription waits for it: low-latency ones spin
   * on the epochs and need no ring, so with only those, writers are spared the FIFO write and
   * our spin is not interrupted to read it.
   */
  private updateDoorbell(): void {
    const table = this.table;
    if (table === undefined || this.entry < 0) return;
    const base = entryBase(this.entry);
    const wanted = this.armed && this.subscriptions.size > this.lowLatencyCount;
    if (wanted && Atomics.load(table, base + ENTRY.armed) === 0) {
      Atomics.store(table, base + ENTRY.pending, 0);
      Atomics.store(table, base + ENTRY.armed, 1);
      Atomics.add(table, ARMED_COUNT, 1); // after armed = 1: a writer that counts us finds us ready
    } else if (!wanted && Atomics.exchange(table, base + ENTRY.armed, 0) !== 0) {
      Atomics.sub(table, ARMED_COUNT, 1);
    }
  }

  /**
   * The fallback poll for writers that cannot ring: each look that finds nothing doubles the
   * next delay (up to 8× the base), so an idle watch costs little; a look that finds a change
   * (a writer that did not ring, i.e. a C process) brings the delay back to the base.
   */
  private scheduleFallback(): void {
    const timer = setTimeout(() => {
      if (!this.armed) return;
      const base = this.line.pollIntervalMs;
      this.fallbackDelay = this.checkAll() ? base : Math.min(this.fallbackDelay * 2, base * MAX_POLL_STRETCH);
      this.scheduleFallback();
    }, this.fallbackDelay);
    timer.unref();
    this.fallback = timer;
  }

  private disarm(): void {
    this.armed = false;
    clearInterval(this.keepAlive);
    clearTimeout(this.fallback);
    this.keepAlive = this.fallback = undefined;
    if (this.sab !== undefined) {
      Atomics.sub(this.sab, SAB_WAITERS_W32, 1);
      Atomics.add(this.sab, SAB_SEQUENCE_W32, 1);
      Atomics.notify(this.sab, SAB_SEQUENCE_W32); // lets our own pending waitAsync finish
      return;
    }
    this.updateDoorbell();
  }

  /** Claims an entry of the table and listens on a FIFO of our own; without one, polling still works. */
  private register(table: Int32Array): void {
    const identity = this.line.identity!;
    for (let entry = 0; entry < MAX_WAITERS; entry++) {
      const base = entryBase(entry);
      if (Atomics.compareExchange(table, base + ENTRY.pid, 0, process.pid) !== 0) continue;
      const token = randomInt(1, TOKEN_LIMIT);
      const fifo = createFifo(fifoPath(identity, process.pid, token), this.line.store!);
      if (typeof fifo === 'string') {
        Atomics.store(table, base + ENTRY.pid, 0);
        warnSideFile(fifo);
        return;
      }
      const readFd = fifo.readFd;
      // Our own write end keeps the FIFO from reporting end-of-file between writers.
      this.keepWriterFd = fifo.writeFd;
      const onDoorbell = (): boolean => {
        // Clear pending before checking: a write after our check rings again.
        Atomics.store(table, base + ENTRY.pending, 0);
        this.checkAll();
        return true;
      };
      // `onread`: the bytes land in one reused buffer and the callback runs straight from the
      // read, with no stream machinery or allocation in between (the doorbell's bytes mean nothing).
      const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
        fd: readFd,
        readable: true,
        writable: false,
        onread: { buffer: doorbellBytes, callback: onDoorbell },
      };
      const socket = new net.Socket(options);
      socket.on('error', () => {});
      socket.unref();
      this.socket = socket;
      this.entry = entry;
      this.token = token;
      Atomics.store(table, base + ENTRY.token, token); // last: writers use an entry only once it has a token
      return;
    }
  }

  private waitOnSab(): void {
    if (this.sabWaiting || !this.armed || this.disposed) return;
    const sab = this.sab!;
    const seen = Atomics.load(sab, SAB_SEQUENCE_W32);
    this.checkAll();
    const result = Atomics.waitAsync(sab, SAB_SEQUENCE_W32, seen, SAB_WAIT_SLICE_MS);
    if (!result.async) {
      queueMicrotask(() => this.waitOnSab());
      return;
    }
    this.sabWaiting = true;
    void result.value.then(() => {
      this.sabWaiting = false;
      if (this.armed && !this.disposed) this.waitOnSab();
    });
  }

  /**
   * Low-latency mode: each turn of the event loop checks in a tight loop for up to
   * SPIN_SLICE_MS, returning as soon as a change is delivered (so its reader runs at once),
   * then lets the event loop run other work before the next slice.
   */
  private spin(): void {
    if (this.spinning) return;
    this.spinning = true;
    const turn = (): void => {
      if (this.lowLatencyCount === 0 || this.disposed) {
        this.spinning = false;
        return;
      }
      const until = performance.now() + SPIN_SLICE_MS;
      while (!this.checkAll() && performance.now() < until && this.lowLatencyCount > 0) {
        // spinning: the caller asked to trade a core for latency
      }
      setImmediate(turn);
    };
    setImmediate(turn);
  }

  dispose(): void {
    if (this.armed) this.disarm();
    this.disposed = true;
    this.subscriptions.clear();
    const table = this.table;
    if (table !== undefined && this.entry >= 0) {
      const base = entryBase(this.entry);
      Atomics.store(table, base + ENTRY.token, 0);
      this.socket?.destroy();
      if (this.keepWriterFd >= 0) fs.closeSync(this.keepWriterFd);
      removeSideFile(fifoPath(this.line.identity!, process.pid, this.token), 'fifo', [euid(), this.line.store!.uid]);
      Atomics.store(table, base + ENTRY.pid, 0);
      this.entry = -1;
    }
  }
}

const lines = new Map<string | SharedArrayBuffer, BusLine>();

/** The bus line of a store for this process (one per store, shared by all its handles). */
export function acquireLine(backing: Backing, pollIntervalMs: number, target: string | undefined): BusLine {
  const key = backing.identity ?? (backing.bytes.buffer as SharedArrayBuffer);
  let line = lines.get(key);
  if (line === undefined) {
    // Absolute: the store file is looked at again later (for its owner and mode), maybe after a chdir.
    const storePath = target === undefined ? undefined : path.resolve(resolveTarget(target).path);
    line = new BusLine(backing.identity, backing, pollIntervalMs, storePath);
    lines.set(key, line);
  }
  line.hold(backing.bytes);
  return line;
}

export function releaseLine(backing: Backing, line: BusLine): void {
  if (!line.letGo(backing.bytes)) return;
  lines.delete(backing.identity ?? (backing.bytes.buffer as SharedArrayBuffer));
  line.dispose();
}
