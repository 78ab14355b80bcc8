/** What a stream reader receives: messages, gaps, and cells no sound producer writes. */
import { SlotType } from '../layout/constants.js';
import { CELL, type Cells, type CellRead, type CellState } from './cells.js';

/** A message, decoded by the cell's type: bytes → Uint8Array, text → string, json → the parsed value. */
export interface StreamMessage<T = unknown> {
  kind: 'message';
  seq: bigint;
  type: 'bytes' | 'text' | 'json';
  value: T;
}

/**
 * Seqs `from`..`to` (inclusive) this reader cannot have: 'overwritten' (it fell more than the
 * stream's capacity behind; the cells hold later messages now) or 'abandoned' (claimed by a
 * producer that never published them: it died, or took longer than the claim timeout).
 */
export interface StreamGap {
  kind: 'gap';
  from: bigint;
  to: bigint;
  reason: 'overwritten' | 'abandoned';
}

/** A cell holding seq `seq` with bytes no producer following the convention writes: reported, never dropped. */
export interface StreamMalformed {
  kind: 'malformed';
  seq: bigint;
  /** The slot type byte found. */
  slotType: number;
  /** The value's bytes (empty when its length or offset was out of bounds). */
  bytes: Uint8Array;
  reason: string;
}

export type StreamEvent<T = unknown> = StreamMessage<T> | StreamGap | StreamMalformed;

const strictText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The event for a read of seq `n` that found `state` (not pending or busy), from the cell's copied bytes. */
export function decodeCell(state: CellState, n: number, cells: Cells, read: CellRead): StreamEvent {
  const seq = BigInt(n);
  if (state === CELL.abandoned) return { kind: 'gap', from: seq, to: seq, reason: 'abandoned' };
  if (state === CELL.lost) return { kind: 'gap', from: seq, to: seq, reason: 'overwritten' };
  if (state === CELL.malformed) return malformed(seq, read.type, new Uint8Array(0), read.reason);
  const length = read.length;
  const type = read.type;
  if (type === SlotType.BINARY) return { kind: 'message', seq, type: 'bytes', value: cells.handOut(length) };
  const bytes = cells.bytes.subarray(cells.at, cells.at + length);
  if (type !== SlotType.VARTEXT && type !== SlotType.JSON) {
    return malformed(seq, type, bytes.slice(), `slot type ${type} is not a message type (BINARY 16, VARTEXT 128, JSON 8)`);
  }
  let text: string;
  try {
    text = strictText.decode(bytes);
  } catch {
    return malformed(seq, type, bytes.slice(), 'the text is not valid UTF-8');
  }
  if (type === SlotType.VARTEXT) return { kind: 'message', seq, type: 'text', value: text };
  try {
    return { kind: 'message', seq, type: 'json', value: JSON.parse(text) as unknown };
  } catch (error) {
    return malformed(seq, type, bytes.slice(), `the JSON does not parse (${(error as Error).message})`);
  }
}

function malformed(seq: bigint, slotType: number, bytes: Uint8Array, reason: string): StreamMalformed {
  return { kind: 'malformed', seq, slotType, bytes, reason };
}
