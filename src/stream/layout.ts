/**
 * The stream convention (docs/streams.md "The convention"), declared once: the keys a stream is
 * made of, the meta value's offsets, and what a cell's ctime says. Any language that follows it
 * takes part; nothing here is private to this library.
 */
import { describe, SplinterError } from '../errors.js';
import { KEY_MAX } from '../layout/constants.js';

/** The meta value's first 8 bytes. */
export const STREAM_MAGIC = 'SPLSTRM1';
/** The meta value: magic, capacity (u64 LE), then 16 bytes holding the 8-aligned head counter. */
export const META = { magic: 0, capacity: 8, headFrom: 16, length: 32 } as const;
/** A cell's ctime high word with this bit: a C producer is writing the seq of the other bits. */
export const WRITING_BIT_HI = 0x8000_0000;

export const MAX_NAME_BYTES = 40;
export const DEFAULT_CAPACITY = 1024;
/** How long a claimed seq may stay unpublished before a process of ours declares it abandoned. */
export const DEFAULT_CLAIM_TIMEOUT_MS = 2000;
/** Sequence numbers stay below this: they are kept as numbers inside, exact up to 2^53. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

const encoder = new TextEncoder();

export function metaKey(name: string): string {
  return `${name}#s`;
}

export function cellKey(name: string, index: number): string {
  return `${name}#${index}`;
}

export function consumerKey(name: string, id: string): string {
  return `${name}#c.${id}`;
}

/**
 * A stream name: 1..40 UTF-8 bytes, no NUL and no `#` (the separator of its keys).
 * @throws {SplinterError} EINVAL
 */
export function checkStreamName(name: unknown): string {
  if (typeof name !== 'string') throw new SplinterError('EINVAL', `a stream name is a string, received ${describe(name)}`);
  const bytes = encoder.encode(name).length;
  if (bytes < 1 || bytes > MAX_NAME_BYTES || name.includes('\0') || name.includes('#')) {
    throw new SplinterError(
      'EINVAL',
      `a stream name is 1..${MAX_NAME_BYTES} UTF-8 bytes without NUL or "#", received ${describe(name)} (${bytes} bytes)`,
    );
  }
  return name;
}

/**
 * A durable consumer's id: what is left of a key after `NAME#c.`, no NUL.
 * @throws {SplinterError} EINVAL
 */
export function checkConsumerId(name: string, id: unknown): string {
  const room = KEY_MAX - 1 - encoder.encode(consumerKey(name, '')).length;
  if (typeof id !== 'string' || id.length === 0 || id.includes('\0') || encoder.encode(id).length > room) {
    throw new SplinterError('EINVAL', `a consumer id of stream "${name}" is 1..${room} UTF-8 bytes without NUL, received ${describe(id)}`);
  }
  return id;
}

/**
 * A capacity: whole number of cells, 1..slots − 1 (the meta takes one slot).
 * @throws {SplinterError} EINVAL
 */
export function checkCapacity(capacity: unknown, slots: number): number {
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > slots - 1) {
    throw new SplinterError('EINVAL', `a stream's capacity is a whole number of messages, 1..${slots - 1} in this store, received ${describe(capacity)}`);
  }
  return capacity;
}

/** A seq given by a caller (bigint or number): a whole number 1..2^53 − 1 (`zero`: 0 allowed too). */
export function checkSeq(seq: unknown, what: string, zero = false): number {
  const n = typeof seq === 'bigint' ? (seq <= BigInt(MAX_SEQ) && seq >= 0n ? Number(seq) : -1) : seq;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (zero ? 0 : 1) || n > MAX_SEQ) {
    throw new SplinterError('EINVAL', `${what} takes a sequence number ${zero ? 0 : 1}..2^53−1 (bigint or number), received ${describe(seq)}`);
  }
  return n;
}
