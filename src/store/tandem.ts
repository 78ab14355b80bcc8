/** Tandem keys: a base key holds order 0, `base.1`, `base.2`, … the later orders. */
import { SplinterError } from '../errors.js';
import { describe } from './kv.js';

export function tandemKey(baseKey: string, order: number): string {
  return order === 0 ? baseKey : `${baseKey}.${order}`;
}

export function checkOrders(orders: unknown): number {
  if (typeof orders !== 'number' || !Number.isInteger(orders) || orders < 1) {
    throw new SplinterError('EINVAL', `orders must be an integer ≥ 1 (the base key counts as order 0), received ${describe(orders)}`);
  }
  return orders;
}

export function checkTandemValues(values: unknown): Array<Uint8Array | string> {
  if (!Array.isArray(values) || values.length === 0) {
    throw new SplinterError('EINVAL', `setTandem needs a non-empty array of values, received ${describe(values)}`);
  }
  return values as Array<Uint8Array | string>;
}
