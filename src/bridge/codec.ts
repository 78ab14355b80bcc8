/**
 * One change of one key as Redis holds it: in the namespace's hash (the current value) and in its
 * stream (the history). A record is binary: the value's bytes travel unchanged.
 *
 *   0   16 bytes  the stamp, hex (clock.ts)
 *   16  1 byte    's' for a value, 'u' for an unset
 *   17  1 byte    the slot's type flag
 *   18  1 byte    H, the length of the host id
 *   19  H bytes   the host id (ASCII)
 *   19+H …        the value (none for an unset)
 *
 * Whatever Redis holds is read as hostile: decodeRecord says why bytes are not a record rather
 * than guessing (put-script.ts's Lua applies the same rules to the current record).
 */
import type { Key } from '../store/keys/key-text.js';
import { compareStamps, parseStamp, STAMP_CHARS, stampText, type Stamp } from './clock.js';

/** Who wrote a value and when: the order of the convergence rule. */
export interface Version {
  readonly stamp: Stamp;
  /** The writing bridge's host id; breaks ties between equal stamps. */
  readonly host: string;
}

export interface Change extends Version {
  /** A string when its bytes are UTF-8, else the bytes (as store.keys() gives keys). */
  readonly key: Key;
  /** The value's bytes; undefined for an unset. */
  readonly value: Buffer | undefined;
  readonly type: number;
}

const OP_SET = 0x73; // 's'
const OP_UNSET = 0x75; // 'u'
const HEAD = STAMP_CHARS + 3;

/** Host ids are printable ASCII without spaces, so JS string order is byte order, as in the Lua script. */
export const HOST_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Positive when `a` wins over `b`: the larger stamp, then the larger host id. */
export function compareVersions(a: Version, b: Version): number {
  const byStamp = compareStamps(a.stamp, b.stamp);
  if (byStamp !== 0) return byStamp;
  return a.host < b.host ? -1 : a.host > b.host ? 1 : 0;
}

export function encodeRecord(change: Change): Buffer {
  const host = Buffer.from(change.host, 'latin1');
  const value = change.value ?? Buffer.alloc(0);
  const record = Buffer.allocUnsafe(HEAD + host.length + value.length);
  record.write(stampText(change.stamp), 0, 'latin1');
  record[STAMP_CHARS] = change.value === undefined ? OP_UNSET : OP_SET;
  record[STAMP_CHARS + 1] = change.type;
  record[STAMP_CHARS + 2] = host.length;
  host.copy(record, HEAD);
  value.copy(record, HEAD + host.length);
  return record;
}

/** The change a record holds, or (a string) why the bytes are not a record a bridge writes. */
export function decodeRecord(key: Key, record: Buffer): Change | string {
  if (record.length < HEAD) return `a record has at least ${HEAD} bytes, this one ${record.length}`;
  const stamp = parseStamp(record.toString('latin1', 0, STAMP_CHARS));
  if (stamp === undefined) return `a record starts with a stamp of ${STAMP_CHARS} hex digits, this one with 0x${record.subarray(0, STAMP_CHARS).toString('hex')}`;
  const op = record[STAMP_CHARS];
  if (op !== OP_SET && op !== OP_UNSET) return `a record's operation is 's' or 'u', this one is byte ${op}`;
  const hostLength = record[STAMP_CHARS + 2]!;
  if (record.length < HEAD + hostLength) return `the record is cut short: its host id needs ${hostLength} bytes, ${record.length - HEAD} follow`;
  const host = record.toString('latin1', HEAD, HEAD + hostLength);
  if (!HOST_ID_PATTERN.test(host)) return `a host id is 1..255 printable ASCII characters, this one is 0x${record.subarray(HEAD, HEAD + hostLength).toString('hex')}`;
  const value = op === OP_SET ? Buffer.from(record.subarray(HEAD + hostLength)) : undefined;
  if (value !== undefined && value.length === 0) return 'the record sets an empty value (a store value is never empty)';
  return { key, stamp, host, type: record[STAMP_CHARS + 1]!, value };
}
