/**
 * A BIGUINT slot holds a u64 (docs/api.md, "Decisions"): `set` replaces it only with 8 bytes
 * that are not text, and `append` is refused, so a counter never silently reads as the bytes
 * of a string. C keeps the type and takes any value; this is a deliberate difference.
 */
import { SplinterError } from '../../errors.js';
import { SLOT, SlotType } from '../../layout/constants.js';
import type { KvContext } from '../handle/context.js';
import type { StoreMemory } from '../backing/memory.js';
import { keyName, type Key } from '../keys/key-text.js';

const U64_BYTES = 8;

/** True when the slot is named BIGUINT. Plain load: a hint before locking, exact once the caller holds the slot. */
export function holdsU64(m: StoreMemory, slotByte: number): boolean {
  return (m.u8[slotByte + SLOT.type_flag]! & SlotType.BIGUINT) !== 0;
}

/** True for a value that may replace a u64: 8 bytes given as bytes (a string is encoded into the handle's scratch). */
export function isU64Value(ctx: KvContext, value: Uint8Array, length: number): boolean {
  return length === U64_BYTES && value !== ctx.valueScratch;
}

export function notU64(what: 'set' | 'append', keyText: Key, length: number, text: boolean): SplinterError {
  const given = text ? `a string of ${length} bytes` : `${length} bytes`;
  return new SplinterError(
    'EPROTOTYPE',
    what === 'set'
      ? `set "${keyName(keyText)}": the key is BIGUINT, which holds a u64; expected 8 bytes (the u64, little-endian), received ${given}. ` +
          `Use setBigUint(key, n), or setNamedType(key, SlotType.VOID) first to store other bytes`
      : `append "${keyName(keyText)}": the key is BIGUINT, which holds a u64 and is not appended to; received ${given}. ` +
          `Use integerOp, or setNamedType(key, SlotType.VOID) first`,
  );
}
