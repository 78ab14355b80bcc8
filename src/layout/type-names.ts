/** Slot type names as `splinter` prints them and the gateway answers them: one name per type_flag bit. */
import { SlotType } from './constants.js';

export const TYPE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [SlotType.VOID, 'void'],
  [SlotType.BIGINT, 'bigint'],
  [SlotType.BIGUINT, 'biguint'],
  [SlotType.JSON, 'json'],
  [SlotType.BINARY, 'binary'],
  [SlotType.IMGDATA, 'img'],
  [SlotType.AUDIO, 'audio'],
  [SlotType.VARTEXT, 'vartext'],
];

/** The type_flag as names: one per bit, joined with |; "none" for 0. */
export function typeName(flag: number): string {
  if (flag === 0) return 'none';
  return TYPE_NAMES.filter(([bit]) => (flag & bit) !== 0)
    .map(([, name]) => name)
    .join('|');
}
