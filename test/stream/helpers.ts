/** What the stream tests share: deadlines, event collection, and the stream's bytes as the convention lays them out. */
import { HEADER, SLOT_SIZE } from '../../src/layout/constants.js';
import type { Store, StreamEvent } from '../../src/index.js';

/** Generous on a loaded 2-core machine: only a hang runs into it. */
export const DEADLINE_MS = 15_000;

/** The promise's value, or a rejection naming `what` once `ms` pass. */
export function within<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Whether the promise is still pending after `ms`. */
export async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol('pending');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<symbol>((resolve) => (timer = setTimeout(() => resolve(marker), ms)));
  const first = await Promise.race([promise.then(() => 'settled', () => 'settled'), late]);
  clearTimeout(timer);
  return first === marker;
}

/** The next `count` events of a subscription (each within the deadline). */
export async function take(events: AsyncIterator<StreamEvent>, count: number): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for (let i = 0; i < count; i++) {
    const next = await within(events.next(), `event ${i + 1} of ${count}`);
    if (next.done === true) throw new Error(`the subscription ended after ${i} of ${count} events`);
    out.push(next.value);
  }
  return out;
}

/** An event in a form `t.same` compares plainly (bytes as arrays of numbers). */
export function plain(event: StreamEvent): unknown {
  if (event.kind === 'message' && event.value instanceof Uint8Array) return { ...event, value: [...event.value] };
  if (event.kind === 'malformed') return { ...event, bytes: [...event.bytes], reason: typeof event.reason };
  return event;
}

/** A message event as `plain` shows it. */
export function message(seq: number, type: 'bytes' | 'text' | 'json', value: unknown): unknown {
  return { kind: 'message', seq: BigInt(seq), type, value };
}

export function gap(from: number, to: number, reason: 'overwritten' | 'abandoned'): unknown {
  return { kind: 'gap', from: BigInt(from), to: BigInt(to), reason };
}

/** Store byte of the head counter: the first 8-aligned address at or after byte 16 of the meta value. */
export function headByte(store: Store, name: string): number {
  const valueAt = HEADER.size + store.slots * SLOT_SIZE + store.slotSnapshot(`${name}#s`)!.valueOffset;
  return Math.ceil((valueAt + 16) / 8) * 8;
}

/**
 * Claims the next seq as another producer would, without ever writing it: one atomic add on the
 * head counter in the memory of a createShared store. Returns the seq claimed.
 */
export function claimByHand(store: Store, name: string): bigint {
  const words = new BigUint64Array(store.buffer!);
  return Atomics.add(words, headByte(store, name) / 8, 1n) + 1n;
}
