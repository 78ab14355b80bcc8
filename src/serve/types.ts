/** Slot type names as `splinter` prints them, and the Content-Type of a raw value of each type. */
import { SlotType } from '../layout/constants.js';

const NAMES: ReadonlyArray<[number, string]> = [
  [SlotType.VOID, 'void'],
  [SlotType.BIGINT, 'bigint'],
  [SlotType.BIGUINT, 'biguint'],
  [SlotType.JSON, 'json'],
  [SlotType.BINARY, 'binary'],
  [SlotType.IMGDATA, 'img'],
  [SlotType.AUDIO, 'audio'],
  [SlotType.VARTEXT, 'vartext'],
];

/** The type_flag as names, one per bit, joined with |; "none" for 0. */
export function typeName(flag: number): string {
  if (flag === 0) return 'none';
  return NAMES.filter(([bit]) => (flag & bit) !== 0)
    .map(([, name]) => name)
    .join('|');
}

/** The Content-Type of a raw value: JSON and text as such, a BIGUINT as its decimal text, anything else as bytes. */
export function contentTypeOf(flag: number): string {
  if ((flag & SlotType.BIGUINT) !== 0) return 'text/plain; charset=utf-8';
  if ((flag & SlotType.JSON) !== 0) return 'application/json';
  if ((flag & SlotType.VARTEXT) !== 0) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}
