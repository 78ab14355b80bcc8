/** The Content-Type of a raw value of each slot type (and the type names, from the layout). */
import { SlotType } from '../layout/constants.js';

export { typeName } from '../layout/type-names.js';

/** The Content-Type of a raw value: JSON and text as such, a BIGUINT as its decimal text, anything else as bytes. */
export function contentTypeOf(flag: number): string {
  if ((flag & SlotType.BIGUINT) !== 0) return 'text/plain; charset=utf-8';
  if ((flag & SlotType.JSON) !== 0) return 'application/json';
  if ((flag & SlotType.VARTEXT) !== 0) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}
