/**
 * One bus line per store per process, shared by every handle on that store: the writer side
 * (`ring`, called after each write) and the waiting side (waiter.ts). The line chooses the wake
 * mechanisms by the kind of store: a FIFO doorbell (doorbell.ts) for shm/file stores, a
 * sequence word of the header for SharedArrayBuffer ones (sab-wait.ts).
 */
import path from 'node:path';
import type { SplinterError } from '../errors.js';
import { BUS_PRESENT_BYTE, HEADER } from '../layout/constants.js';
import type { Backing } from '../store/backing/backing.js';
import { resolveTarget } from '../store/backing/target.js';
import { Doorbells } from './doorbell.js';
import { NameCheck } from './name-check.js';
import { ringSab, sabWords } from './sab-wait.js';
import { LocalWaiter } from './waiter.js';

export { BUS_PRESENT_BYTE, SAB_SEQUENCE_W32, SAB_WAITERS_W32 } from '../layout/constants.js';
export { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS } from './fallback-poll.js';
export { LocalWaiter, type Subscription } from './waiter.js';
export { NameCheck, STALE_CHECK_MS } from './name-check.js';

export class BusLine {
  /** The bytes of every handle holding this line: each handle maps the store on its own. */
  readonly holders: Uint8Array[] = [];
  /** The absolute path each holder opened the store by (same order; empty for SharedArrayBuffer stores). */
  private readonly holderPaths: string[] = [];
  private doorbells: Doorbells | undefined;
  private doorbellsTried = false;
  /** The bus byte when this process last looked for a table as a writer and found none (0: never looked). */
  private lookedAt = 0;
  /** A live holder's bytes (never those of a closed, unmapped handle). */
  private header: Uint8Array;
  /** The global epoch's low word in `header`'s mapping (replaced with it). */
  private epochWord: Int32Array;
  private readonly sab: Int32Array | undefined;
  private waiter: LocalWaiter | undefined;
  private readonly nameCheck: NameCheck | undefined;

  constructor(
    readonly identity: string | undefined,
    backing: Backing,
    readonly pollIntervalMs: number,
    /** The path the store file was opened by (undefined for SharedArrayBuffer stores). */
    private readonly storePath: string | undefined,
  ) {
    const bytes = backing.bytes;
    this.header = bytes;
    this.epochWord = epochWordOf(bytes);
    if (identity === undefined) this.sab = sabWords(bytes);
    if (identity !== undefined && storePath !== undefined) this.nameCheck = new NameCheck(this.holderPaths, identity);
  }

  /** The ESTALE when no name of the store's handles leads to the mapped file any more (a stat each); undefined otherwise and for SharedArrayBuffer stores. */
  staleness(): SplinterError | undefined {
    return this.nameCheck?.look();
  }

  hold(bytes: Uint8Array, storePath: string | undefined): void {
    this.holders.push(bytes);
    if (storePath !== undefined) this.holderPaths.push(storePath);
  }

  /** A handle lets go; true when it was the last. */
  letGo(bytes: Uint8Array): boolean {
    const at = this.holders.indexOf(bytes);
    if (at >= 0) {
      this.holders.splice(at, 1);
      this.holderPaths.splice(at, 1);
    }
    const next = this.holders[0];
    if (next === undefined) return true;
    this.header = next; // before the leaving handle unmaps its bytes
    this.epochWord = epochWordOf(next);
    return false;
  }

  /**
   * The doorbell table, mapped on first need; undefined when there is none. Only a waiter
   * (`create`) makes it, once; a writer looks for one again each time the header's bus byte changes.
   */
  doorbellTable(create: boolean): Doorbells | undefined {
    if (this.doorbells !== undefined || this.identity === undefined || this.storePath === undefined) return this.doorbells;
    if (create) {
      if (this.doorbellsTried) return undefined;
      this.doorbellsTried = true;
    }
    this.doorbells = Doorbells.open(this.identity, this.storePath, create);
    return this.doorbells;
  }

  /**
   * Called after every write of ours (through WakeOnWrite, wake-on-write.ts): kicks our own waiter,
   * rings the doorbells of other processes' or bumps the SharedArrayBuffer's sequence word. Cheap
   * when nobody waits (one or two plain loads).
   */
  ring(): void {
    const waiter = this.waiter;
    if (waiter !== undefined && waiter.armed) waiter.kick();
    if (this.sab === undefined) {
      let doorbells = this.doorbells;
      // Until some waiter of ours has set up the table, one padding byte says there is nobody to ring;
      // a new value of it is a waiter that came since we last found no table.
      if (doorbells === undefined) {
        const present = this.header[BUS_PRESENT_BYTE]!;
        if (present !== 0 && present !== this.lookedAt) {
          this.lookedAt = present; // before looking: a waiter that comes after the look changes it again
          doorbells = this.doorbellTable(false);
        }
      }
      doorbells?.ring();
    } else {
      ringSab(this.sab);
    }
  }

  /** The waiting side of this process on this store, created on first use. */
  waiterSide(): LocalWaiter {
    if (this.waiter === undefined) {
      const doorbells = this.doorbellTable(true);
      // Tell writers (ours, in any process) that a table exists, with a new value each time (1..255,
      // never 0) so a writer that found none before looks again; C never reads this padding byte.
      if (doorbells !== undefined) Atomics.store(this.header, BUS_PRESENT_BYTE, (Atomics.load(this.header, BUS_PRESENT_BYTE) % 255) + 1);
      this.waiter = new LocalWaiter(this.pollIntervalMs, doorbells, this.sab, this.nameCheck, () => this.globalEpochLow());
    }
    return this.waiter;
  }

  /** The low word of the store's global epoch: every write moves it (C's included). */
  globalEpochLow(): number {
    // Atomic: C moves the epoch with an atomic add.
    return Atomics.load(this.epochWord, 0);
  }

  /** Last handle closed: stop waiting, leave the table, close the FIFOs. */
  dispose(): void {
    this.waiter?.dispose();
    this.waiter = undefined;
    this.doorbells?.close();
  }
}

const lines = new Map<string | SharedArrayBuffer, BusLine>();

/** The bus line of a store for this process (one per store, shared by all its handles). */
export function acquireLine(backing: Backing, pollIntervalMs: number, target: string | undefined): BusLine {
  const key = backing.identity ?? (backing.bytes.buffer as SharedArrayBuffer);
  let line = lines.get(key);
  // Absolute: the store file is looked at again later (for its owner and mode, and its name), maybe after a chdir.
  const storePath = target === undefined ? undefined : path.resolve(resolveTarget(target).path);
  if (line === undefined) {
    line = new BusLine(backing.identity, backing, pollIntervalMs, storePath);
    lines.set(key, line);
  }
  line.hold(backing.bytes, storePath);
  return line;
}

export function releaseLine(backing: Backing, line: BusLine): void {
  if (!line.letGo(backing.bytes)) return;
  lines.delete(backing.identity ?? (backing.bytes.buffer as SharedArrayBuffer));
  line.dispose();
}

/** The global epoch's low word (little-endian: the first 4 bytes of the u64) in a store's bytes. */
function epochWordOf(bytes: Uint8Array): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset + HEADER.epoch, 1);
}
