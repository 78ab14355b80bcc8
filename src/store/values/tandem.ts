/** Tandem keys: a base key holds order 0, `base.1`, `base.2`, … the later orders. */
import { describe, SplinterError } from '../../errors.js';
import type { Key } from '../keys/key-text.js';

const utf8 = new TextEncoder();

/**
 * The most orders a tandem call takes (base included): C's set_tandem and unset_tandem take
 * the count as a uint8_t, so no C caller makes more. The 63-byte key limit alone would allow
 * 10^61 orders, far too many to walk (each order is a lookup; a missing one probes every slot).
 */
export const MAX_TANDEM_ORDERS = 255;

/** The key of an order: the base key's bytes then `.N` (a bytes base key gives a bytes key). */
export function tandemKey(baseKey: Key, order: number): Key {
  if (order === 0) return baseKey;
  if (typeof baseKey === 'string') return `${baseKey}.${order}`;
  if (!(baseKey instanceof Uint8Array)) return baseKey; // not a key: the codec refuses it
  const suffix = utf8.encode(`.${order}`);
  const key = new Uint8Array(baseKey.length + suffix.length);
  key.set(baseKey);
  key.set(suffix, baseKey.length);
  return key;
}

export function checkOrders(orders: unknown): number {
  if (typeof orders !== 'number' || !Number.isInteger(orders) || orders < 1 || orders > MAX_TANDEM_ORDERS) {
    throw new SplinterError(
      'EINVAL',
      `orders must be an integer from 1 to ${MAX_TANDEM_ORDERS} (the base key counts as order 0), received ${describe(orders)}`,
    );
  }
  return orders;
}

export function checkTandemValues(values: unknown): Array<Uint8Array | string> {
  if (!Array.isArray(values) || values.length === 0 || values.length > MAX_TANDEM_ORDERS) {
    const received = Array.isArray(values) ? `${values.length} values` : describe(values);
    throw new SplinterError('EINVAL', `setTandem needs an array of 1 to ${MAX_TANDEM_ORDERS} values (one per order), received ${received}`);
  }
  return values as Array<Uint8Array | string>;
}
