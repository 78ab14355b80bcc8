/**
 * The one waiter of this process on one store: every poll, watch and signals subscription on
 * the store hangs from it. It wakes by whichever mechanisms the store has:
 * - shm/file stores: the FIFO doorbell (doorbell.ts) for writers of ours in other processes,
 *   a kick for writers in this process, and the fallback poll (fallback-poll.ts) for writers
 *   that cannot ring (C processes);
 * - SharedArrayBuffer stores: Atomics.waitAsync on a header word (sab-wait.ts);
 * - low-latency subscriptions, on either: a spin on every turn of the event loop (spin.ts).
 * While armed on a shm/file store it also looks, a few times a second, whether the store's name
 * still leads to the mapped file (name-check.ts); when not, every subscription fails with ESTALE.
 * Every wake source calls `checkAll`, which calls each subscription's `check` (the whole
 * write-to-wake flow: store/handle/write-listener.ts).
 */
import type { SplinterError } from '../errors.js';
import { DoorbellListener, type Doorbells } from './doorbell.js';
import { FallbackPoll } from './fallback-poll.js';
import type { NameCheck } from './name-check.js';
import { SabWait } from './sab-wait.js';
import { Spin } from './spin.js';

/** Something a waiter re-checks whenever the store may have changed. */
export interface Subscription {
  readonly lowLatency: boolean;
  /**
   * Asks for wakes only while `setIdle(this, false)` says so (a stream reader draining messages needs
   * none): writers then ring nobody, and spend no FIFO write per wake. Default: always asks.
   */
  readonly wakesOnDemand?: boolean;
  /** Looks for changes now; called on every wake (spurious wakes are fine). True when it delivered one. */
  check(): boolean;
  /** The wait cannot go on (the store was replaced or unlinked): end with this error, leaving the waiter. */
  fail(error: SplinterError): void;
}

const KEEPALIVE_MS = 2 ** 30;

export class LocalWaiter {
  armed = false;
  private readonly subscriptions = new Set<Subscription>();
  /**
   * The same subscriptions as an array, replaced (never changed) on add and remove: checkAll runs on
   * every wake and on every turn of a spin, and iterating a Set allocates an iterator each time,
   * garbage that a spinning consumer turned into a scavenge every 40 ms.
   */
  private checked: readonly Subscription[] = [];
  private lowLatencyCount = 0;
  /** Subscriptions that do not ask for wakes now (wakesOnDemand ones, until they ask). */
  private readonly idle = new Set<Subscription>();
  private scheduled = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly sabWait: SabWait | undefined;
  private readonly fallback: FallbackPoll | undefined;
  private readonly doorbell: DoorbellListener | undefined;
  private readonly spin: Spin;

  constructor(
    pollIntervalMs: number,
    doorbells: Doorbells | undefined,
    sab: Int32Array | undefined,
    /** The store's name against its file; undefined for SharedArrayBuffer stores, which have no name. */
    private readonly nameCheck: NameCheck | undefined,
    /** The low word of the store's global epoch, read by the spin between full checks. */
    globalEpochLow: () => number,
  ) {
    const checkAll = (): boolean => this.checkAll();
    if (sab !== undefined) {
      this.sabWait = new SabWait(sab, checkAll);
    } else {
      this.fallback = new FallbackPoll(pollIntervalMs, checkAll);
      if (doorbells !== undefined) this.doorbell = new DoorbellListener(doorbells, checkAll);
    }
    this.spin = new Spin(
      checkAll,
      () => this.lowLatencyCount > 0,
      () => this.disposed,
      globalEpochLow,
    );
  }

  add(subscription: Subscription): void {
    this.subscriptions.add(subscription);
    this.checked = [...this.subscriptions];
    if (subscription.wakesOnDemand === true) this.idle.add(subscription);
    if (subscription.lowLatency) this.lowLatencyCount++;
    if (!this.armed) this.arm();
    this.updateDoorbell();
    if (subscription.lowLatency) this.spin.start();
    // A name already found leading elsewhere stays so: a new wait on it fails at once (after its caller has set up).
    const known = this.nameCheck?.known();
    if (known !== undefined) queueMicrotask(() => this.failAll(known));
  }

  remove(subscription: Subscription): void {
    if (!this.subscriptions.delete(subscription)) return;
    this.checked = [...this.subscriptions];
    this.idle.delete(subscription);
    if (subscription.lowLatency) this.lowLatencyCount--;
    if (this.subscriptions.size === 0) this.disarm();
    else this.updateDoorbell();
  }

  /**
   * A wakesOnDemand subscription asks for wakes (`idle` false: it is about to wait; it must look
   * for changes once more after this call, since a write just before it rang nobody) or stops.
   */
  setIdle(subscription: Subscription, idle: boolean): void {
    if (!this.subscriptions.has(subscription)) return;
    if (idle === this.idle.has(subscription)) return;
    if (idle) this.idle.add(subscription);
    else this.idle.delete(subscription);
    this.updateDoorbell();
  }

  /** A write in this process (BusLine.ring): check once, soon (many writes in a row coalesce into one check). */
  kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.checkAll();
    });
  }

  /**
   * Every wake comes here (doorbell, SharedArrayBuffer wait, fallback poll, spin, kick): checks every
   * subscription (`ChangeStream.deliver`, `StreamSubscription.deliver`, a poll's look); true when any delivered a change.
   */
  checkAll(): boolean {
    let delivered = false;
    // A subscription may end (and leave the set) while we check: `checked` is a snapshot, replaced, not changed.
    const checked = this.checked;
    for (let i = 0; i < checked.length; i++) if (checked[i]!.check()) delivered = true;
    return delivered;
  }

  /** Ends every subscription with `error` (each leaves the waiter as it ends). */
  private failAll(error: SplinterError): void {
    for (const subscription of [...this.subscriptions]) subscription.fail(error);
  }

  private arm(): void {
    this.armed = true;
    // A pending wait keeps the process alive, as a pending timer would; nothing else of ours is ref'd.
    this.keepAlive = setInterval(() => {}, KEEPALIVE_MS);
    this.nameCheck?.start((error) => this.failAll(error));
    if (this.sabWait !== undefined) {
      this.sabWait.start();
      return;
    }
    this.fallback?.start();
    this.doorbell?.register();
  }

  /**
   * Writers ring our doorbell only while some subscription waits for it: low-latency ones spin
   * on the epochs and need no ring, so with only those, writers are spared the FIFO write and
   * our spin is not interrupted to read it.
   */
  private updateDoorbell(): void {
    let ringable = this.subscriptions.size - this.lowLatencyCount;
    // Idle ones that are low-latency are counted out once already.
    for (const subscription of this.idle) if (!subscription.lowLatency) ringable--;
    this.doorbell?.setArmed(this.armed && ringable > 0);
  }

  private disarm(): void {
    this.armed = false;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    this.nameCheck?.stop();
    this.fallback?.stop();
    if (this.sabWait !== undefined) {
      this.sabWait.stop();
      return;
    }
    this.updateDoorbell();
  }

  dispose(): void {
    if (this.armed) this.disarm();
    this.disposed = true;
    this.sabWait?.dispose();
    this.subscriptions.clear();
    this.checked = [];
    this.doorbell?.dispose();
  }
}
