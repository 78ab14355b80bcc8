/**
 * The FIFO doorbell of shm/file stores: each waiter of ours claims an entry of the store's
 * doorbell table (sidecar.ts) and listens on a FIFO of its own through the event loop (no
 * thread, no CPU while idle); writers of ours in other processes write one byte to the FIFO
 * of every armed entry. This file holds both sides: `Doorbells` rings, `DoorbellListener` listens.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { OnReadOpts, Socket, SocketConstructorOpts } from 'node:net';
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

// node:net and node:crypto are loaded when first needed, not with the store: loading them costs a one-shot command more than its work.
const net = (): typeof import('node:net') => createRequire(import.meta.url)('node:net') as typeof import('node:net');
const crypto = (): typeof import('node:crypto') => createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');

const oneByte = new Uint8Array([1]);
/** Where doorbell bytes are read into, for every listener of this process (their content is never used). */
const doorbellBytes = new Uint8Array(64);
/** A waiter's FIFO we checked and must not ring (a cached writer fd of -1). */
const REFUSED = -1;
/** Tokens are positive i32s, so a token read back from the table is the one written. */
const TOKEN_LIMIT = 2 ** 31;

/** The mapped doorbell table of one store, and the FIFOs this process rings its waiters by. */
export class Doorbells {
  /** Per table entry, the FIFO we ring it by (fd REFUSED: one that failed its checks). */
  private readonly writerFds = new Map<number, { pid: number; token: number; fd: number }>();

  private constructor(
    readonly table: Int32Array,
    /** The store file's owner and mode, which every side file is judged against. */
    readonly store: StoreOwnership,
    readonly identity: string,
    private readonly storePath: string,
  ) {}

  /**
   * Maps the table of a store (creating it when `create`: a waiter); undefined when it does not
   * exist and was not to be made, or, with a warning, when it cannot be used.
   */
  static open(identity: string, storePath: string, create: boolean): Doorbells | undefined {
    const store = storeOwnership(storePath, identity);
    if (typeof store === 'string') {
      warnSideFile(store);
      return undefined;
    }
    const table = mapSidecar(identity, store, create);
    if (table === undefined) return undefined;
    if (typeof table === 'string') {
      warnSideFile(table);
      return undefined;
    }
    return new Doorbells(table, store, identity, storePath);
  }

  /** Called after every write of ours: one plain load when no waiter is armed. */
  ring(): void {
    if (this.table[ARMED_COUNT] !== 0) this.ringArmed();
  }

  /**
   * The table is untrusted input (any process that can write it may have put anything there):
   * entries are indexed by our own loop bound, and a pid or token out of range is never used.
   */
  private ringArmed(): void {
    const table = this.table;
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
      this.writeDoorbell(entry, pid, token);
    }
  }

  private writeDoorbell(entry: number, pid: number, token: number): void {
    const table = this.table;
    let cached = this.writerFds.get(entry);
    if (cached !== undefined && (cached.token !== token || cached.pid !== pid)) {
      if (cached.fd !== REFUSED) fs.closeSync(cached.fd);
      this.writerFds.delete(entry);
      cached = undefined;
    }
    // A FIFO that failed its checks is never rung; pending stays 1, so other writers of ours skip it too.
    if (cached?.fd === REFUSED) return;
    const fifo = fifoPath(this.identity, pid, token);
    try {
      if (cached === undefined) {
        const opened = openDoorbell(fifo, this.store);
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
        removeSideFile(fifo, 'fifo', [euid(), this.store.uid]);
      } else {
        Atomics.store(table, entryBase(entry) + ENTRY.pending, 0);
      }
    }
  }

  /** Closes the FIFOs this process rings by. */
  close(): void {
    for (const { fd } of this.writerFds.values()) if (fd !== REFUSED) fs.closeSync(fd);
    this.writerFds.clear();
  }
}

/** A waiter's entry in the table and the FIFO it listens on. */
export class DoorbellListener {
  private entry = -1;
  private token = 0;
  private socket: Socket | undefined;
  private keepWriterFd = -1;

  constructor(
    private readonly doorbells: Doorbells,
    /** LocalWaiter.checkAll (waiter.ts): looks for changes; called on every ring. */
    private readonly checkAll: () => void,
  ) {}

  /** Claims an entry of the table and listens on a FIFO of our own; without one, polling still works. */
  register(): void {
    if (this.entry >= 0) return;
    const { table, identity, store } = this.doorbells;
    for (let entry = 0; entry < MAX_WAITERS; entry++) {
      const base = entryBase(entry);
      if (Atomics.compareExchange(table, base + ENTRY.pid, 0, process.pid) !== 0) continue;
      const token = crypto().randomInt(1, TOKEN_LIMIT);
      const fifo = createFifo(fifoPath(identity, process.pid, token), store);
      if (typeof fifo === 'string') {
        Atomics.store(table, base + ENTRY.pid, 0);
        warnSideFile(fifo);
        return;
      }
      const readFd = fifo.readFd;
      // Our own write end keeps the FIFO from reporting end-of-file between writers.
      this.keepWriterFd = fifo.writeFd;
      const onDoorbell = (): boolean => {
        // A writer in another process rang (the write-to-wake flow: store/handle/write-listener.ts).
        // Clear pending before checking: a write after our check rings again.
        Atomics.store(table, base + ENTRY.pending, 0);
        this.checkAll();
        return true;
      };
      // `onread`: the bytes land in one reused buffer and the callback runs straight from the
      // read, with no stream machinery or allocation in between (the doorbell's bytes mean nothing).
      const options: SocketConstructorOpts & { onread: OnReadOpts } = {
        fd: readFd,
        readable: true,
        writable: false,
        onread: { buffer: doorbellBytes, callback: onDoorbell },
      };
      const socket = new (net().Socket)(options);
      socket.on('error', () => {});
      socket.unref();
      this.socket = socket;
      this.entry = entry;
      this.token = token;
      Atomics.store(table, base + ENTRY.token, token); // last: writers use an entry only once it has a token
      return;
    }
  }

  /** Whether writers should ring us (a registered entry only). */
  setArmed(wanted: boolean): void {
    const table = this.doorbells.table;
    if (this.entry < 0) return;
    const base = entryBase(this.entry);
    if (wanted && Atomics.load(table, base + ENTRY.armed) === 0) {
      Atomics.store(table, base + ENTRY.pending, 0);
      Atomics.store(table, base + ENTRY.armed, 1);
      Atomics.add(table, ARMED_COUNT, 1); // after armed = 1: a writer that counts us finds us ready
    } else if (!wanted && Atomics.exchange(table, base + ENTRY.armed, 0) !== 0) {
      Atomics.sub(table, ARMED_COUNT, 1);
    }
  }

  /** Leaves the table and removes our FIFO. */
  dispose(): void {
    if (this.entry < 0) return;
    const { table, identity, store } = this.doorbells;
    const base = entryBase(this.entry);
    Atomics.store(table, base + ENTRY.token, 0);
    this.socket?.destroy();
    if (this.keepWriterFd >= 0) fs.closeSync(this.keepWriterFd);
    removeSideFile(fifoPath(identity, process.pid, this.token), 'fifo', [euid(), store.uid]);
    Atomics.store(table, base + ENTRY.pid, 0);
    this.entry = -1;
  }
}
