/**
 * A durable consumer: a name under which the last acknowledged seq is kept in the store
 * (`NAME#c.<id>`, BIGUINT), so a consumer process killed and started again resumes after it.
 * Delivery is at least once: what was delivered but not acknowledged comes again.
 */
import { SlotType } from '../layout/constants.js';
import { getBigUint, setTypedValue } from '../store/biguint.js';
import { SplinterError } from '../errors.js';
import { checkConsumerId, checkSeq, consumerKey } from './layout.js';
import type { Stream } from './stream.js';
import type { StreamEvent } from './events.js';
import type { SubscribeOptions } from './subscription.js';

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
    return getBigUint(this.stream.host.kv, this.key) ?? 0n;
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
    setTypedValue(this.stream.host.kv, this.key, this.bytes, 8, SlotType.BIGUINT);
  }

  /**
   * The stream from the message after the last acknowledged one (a gap first when those were
   * overwritten meanwhile).
   * @throws {SplinterError} EINVAL, ECLOSED
   */
  subscribe<T = unknown>(options: Omit<SubscribeOptions, 'from'> = {}): AsyncIterableIterator<StreamEvent<T>> {
    const from = this.acknowledged() + 1n;
    return this.stream.subscribe<T>({ ...options, from });
  }
}
