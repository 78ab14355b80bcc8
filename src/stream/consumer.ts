/**
 * A durable consumer: a name under which the last acknowledged seq is kept in the store
 * (`NAME#c.<id>`, BIGUINT), so a consumer process killed and started again resumes after it.
 * Delivery is at least once: what was delivered but not acknowledged comes again.
 */
import { SLOT, SlotType } from '../layout/constants.js';
import { getBigUint, setTypedValue } from '../store/values/biguint.js';
import { publish, writeHeld } from '../store/values/kv.js';
import { locateKey, slotHoldsKey } from '../store/keys/probe.js';
import { tryLock, unlock } from '../store/sync/seqlock.js';
import { sleepSync } from '../store/sync/sleep.js';
import { SplinterError } from '../errors.js';
import { holderAlive } from './cells.js';
import { checkConsumerId, checkSeq, consumerKey } from './layout.js';
import type { Stream } from './stream.js';
import type { SubscribeOptions, Subscription } from './subscription.js';

export class StreamConsumer {
  readonly id: string;
  private readonly key: string;
  private readonly bytes = new Uint8Array(8);
  private readonly view = new DataView(this.bytes.buffer);

  /** @internal Use `stream.consumer(id)`. */
  constructor(
    private readonly stream: Stream,
    id: unknown,
  ) {
    this.id = checkConsumerId(stream.name, id);
    this.key = consumerKey(stream.name, this.id);
  }

  /**
   * The last acknowledged seq (0n: none).
   * @throws {SplinterError} EPROTOTYPE (the key holds something else), ECLOSED
   */
  acknowledged(): bigint {
    this.stream.host.live();
    const kv = this.stream.host.kv;
    try {
      return getBigUint(kv, this.key) ?? 0n;
    } catch (error) {
      if (!(error instanceof SplinterError) || error.code !== 'EAGAIN' || !this.releaseIfWriterDied()) throw error;
      return getBigUint(kv, this.key) ?? 0n;
    }
  }

  /** The ack key's slot index (its key left encoded in the context), -1 when it is missing. */
  private ackSlot(): number {
    const kv = this.stream.host.kv;
    kv.key.encode(this.key);
    return locateKey(kv.m, kv.key);
  }

  /**
   * The ack key held odd: waits up to the claim timeout for the writer to leave, and releases the
   * slot if it stays odd, unchanged, and its atime names no live process (a consumer of ours
   * names itself there while it writes; one killed inside would otherwise leave its id unusable).
   * True when the slot is free now.
   */
  private releaseIfWriterDied(): boolean {
    const m = this.stream.host.kv.m;
    const index = this.ackSlot();
    if (index < 0) return true;
    const slotByte = m.slotByte(index);
    const epochW = m.epochW32(slotByte);
    const atimeW = (slotByte + SLOT.atime) >>> 2;
    // Atomics: the odd value must be the same one all along (a live writer moves it when it leaves).
    const odd = Atomics.load(m.u32, epochW);
    if ((odd & 1) === 0) return true;
    const until = performance.now() + this.stream.claimTimeoutMs;
    while (performance.now() < until) {
      if (Atomics.load(m.u32, epochW) !== odd) return true;
      sleepSync(1);
    }
    if (holderAlive(Atomics.load(m.u32, atimeW), Atomics.load(m.u32, atimeW + 1))) return false;
    // CAS: only the odd value that stood still is released, as C's retrain frees a slot a dead writer held.
    Atomics.compareExchange(m.u32, epochW, odd, (odd + 1) >>> 0);
    return true;
  }

  /**
   * Acknowledges every message up to `seq`: a restart resumes after it. An earlier seq than the
   * one kept changes nothing. One process per consumer id at a time: two acknowledging at once
   * may keep either's seq.
   * @throws {SplinterError} EINVAL (not a seq, or past the head), ECLOSED
   */
  ack(seq: bigint | number): void {
    const n = checkSeq(seq, 'ack');
    if (n > this.stream.headNumber()) {
      throw new SplinterError('EINVAL', `ack: seq ${n} of stream "${this.stream.name}" was never appended (the head is ${this.stream.headNumber()})`);
    }
    if (BigInt(n) <= this.acknowledged()) return;
    this.view.setBigUint64(0, BigInt(n), true);
    if (this.writeNamed() || this.writeNamed()) return;
    // A new key (or one another writer holds): the plain set inserts it, or says EAGAIN.
    setTypedValue(this.stream.host.kv, this.key, this.bytes, 8, SlotType.BIGUINT);
  }

  /**
   * Overwrites the ack key under its lock with our pid in its atime while inside, so that a reader
   * finding the slot held by a process that is gone may release it (releaseIfWriterDied). False
   * when the key is missing, or held by another writer that did not leave (then released if dead).
   */
  private writeNamed(): boolean {
    const kv = this.stream.host.kv;
    const m = kv.m;
    const index = this.ackSlot();
    if (index < 0) return false;
    const slotByte = m.slotByte(index);
    const epochW = m.epochW32(slotByte);
    if (!tryLock(m.u32, epochW)) {
      this.releaseIfWriterDied();
      return false;
    }
    // C's unset takes no lock: the key may have left between the find and the lock.
    if (!slotHoldsKey(m, slotByte, kv.key)) {
      unlock(m.u32, m.u64, epochW);
      return false;
    }
    const atimeW = (slotByte + SLOT.atime) >>> 2;
    // Inside our odd epoch: plain stores, published by the release.
    m.u32[atimeW] = process.pid;
    m.u32[atimeW + 1] = 0;
    writeHeld(kv, index, slotByte, this.bytes, 8, SlotType.BIGUINT);
    m.u32[atimeW] = 0;
    publish(kv, index, slotByte);
    return true;
  }

  /**
   * The stream from the message after the last acknowledged one (a gap first when those were
   * overwritten meanwhile).
   * @throws {SplinterError} EINVAL, ECLOSED
   */
  subscribe<T = unknown>(options: Omit<SubscribeOptions, 'from'> = {}): Subscription<T> {
    const from = this.acknowledged() + 1n;
    return this.stream.subscribe<T>({ ...options, from });
  }
}
