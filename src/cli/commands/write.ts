/** The write group: set, append and unset values, integer math, labels, retrain, tandem orders. */
import { IntOp, KEY_MAX_BYTES, SlotType } from '../../layout/constants.js';
import { CliFailure, UsageError } from '../usage-error.js';
import { type Key, keyBytes, tandemKey } from '../../facade/inspect.js';
import { counted, hex64, keyJson, parseMask, parseType, parseU64, preview, quoteKey, showKey, table, typeName } from '../values.js';
import type { Handler } from './handler.js';
import { keyed, notFound } from './key.js';

export const set: Handler = async (ctx) => {
  const key = ctx.key(0);
  const typeText = ctx.option('type');
  const mask = typeof typeText === 'string' ? parseType(typeText, 'set') : undefined;
  const value = await ctx.valueBytes(1);
  const store = ctx.store();
  store.set(key, value);
  if (mask !== undefined) store.setNamedType(key, mask);
  if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), length: typeof value === 'string' ? Buffer.byteLength(value) : value.length, epoch: store.getEpoch(key) });
};

export const append: Handler = async (ctx) => {
  const key = ctx.key(0);
  const data = await ctx.valueBytes(1);
  const store = ctx.store();
  if (!store.has(key)) throw notFound(ctx, key);
  const length = store.append(key, data);
  if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), length });
};

export const unset: Handler = (ctx) => {
  const key = ctx.key(0);
  const store = ctx.store();
  if (!store.has(key)) throw notFound(ctx, key);
  let bytes = 0;
  const removed: Key[] = [];
  if (ctx.flag('recursive')) {
    for (let order = 1; ; order++) {
      const orderKey = tandemKey(key, order);
      if (keyBytes(orderKey).length > KEY_MAX_BYTES) break;
      const length = store.unset(orderKey);
      if (length === undefined) break;
      bytes += length;
      removed.push(orderKey);
    }
  }
  const length = store.unset(key);
  if (length === undefined) throw notFound(ctx, key);
  bytes += length;
  removed.unshift(key);
  if (ctx.json) {
    // The orders of a key that is not UTF-8 are not UTF-8 either: all names have their bytes in deletedHex, or none.
    const names = removed.map((k) => keyJson(ctx.shown(k)));
    const hex = names.flatMap((name) => (name.keyHex === undefined ? [] : [name.keyHex]));
    ctx.jsonOut({ deleted: names.map((name) => name.key), ...(hex.length > 0 ? { deletedHex: hex } : {}), bytes });
    return;
  }
  const what = removed.length === 1 ? showKey(ctx.shown(key)) : `${showKey(ctx.shown(key))} and ${removed.length - 1} order${removed.length === 2 ? '' : 's'}`;
  ctx.line(`deleted ${what} (${counted(bytes, 'byte')})`);
};

const MATH_OPS: Record<string, IntOp> = {
  inc: IntOp.INC,
  incr: IntOp.INC,
  add: IntOp.INC,
  dec: IntOp.DEC,
  decr: IntOp.DEC,
  sub: IntOp.DEC,
  and: IntOp.AND,
  or: IntOp.OR,
  xor: IntOp.XOR,
  not: IntOp.NOT,
};
export const MATH_OP_NAMES = ['inc', 'dec', 'and', 'or', 'xor', 'not'];

export const math: Handler = (ctx) => {
  const key = ctx.key(0);
  const opName = ctx.arg(1).toLowerCase();
  const op = MATH_OPS[opName];
  if (op === undefined) throw new UsageError(`unknown math operation ${JSON.stringify(ctx.arg(1))}; one of ${MATH_OP_NAMES.join(', ')}`, 'math');
  const valueText = ctx.inv.args[2];
  let operand = 0n;
  if (op === IntOp.NOT) {
    if (valueText !== undefined) throw new UsageError('math not takes no value', 'math');
  } else if (valueText === undefined) {
    if (op !== IntOp.INC && op !== IntOp.DEC) throw new UsageError(`math ${opName} needs a VALUE`, 'math');
    operand = 1n;
  } else {
    operand = parseU64(valueText, 'the math VALUE', 'math');
  }
  const store = ctx.store();
  const s = store.slotSnapshot(key);
  if (s === undefined) throw notFound(ctx, key);
  if ((s.typeFlag & SlotType.BIGUINT) === 0) {
    throw new CliFailure('EPROTOTYPE', `math ${quoteKey(ctx.shown(key))}: the key is ${typeName(s.typeFlag)}, not biguint (convert it with: splinter type ${ctx.arg(0)} biguint)`);
  }
  store.integerOp(key, op, operand);
  const now = store.getBigUint(key) ?? 0n;
  if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), value: now });
  else ctx.line(now.toString());
};

export function labelHandler(on: boolean): Handler {
  return (ctx) => {
    const key = ctx.key(0);
    const mask = parseMask(ctx.arg(1), ctx.command);
    const store = ctx.store();
    if (!store.has(key)) throw notFound(ctx, key);
    if (on) store.setLabel(key, mask);
    else store.unsetLabel(key, mask);
    const labels = store.slotSnapshot(key)?.bloom ?? 0n;
    if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), labels: hex64(labels) });
  };
}

export const retrain: Handler = keyed((store, key) => store.retrainSlot(key));

export const orders: Handler = (ctx) => {
  const [first, second] = ctx.inv.args;
  const modes = ['show', 'set', 'unset'];
  const mode = modes.includes(first!) && second !== undefined ? first! : 'show';
  const base = mode === first ? 1 : 0;
  if (mode === 'show' && ctx.inv.args.length > base + 1) {
    throw new UsageError(`orders takes show, set or unset first, received ${JSON.stringify(first)}`, 'orders');
  }
  const key = ctx.key(base);
  const rest = ctx.inv.args.slice(base + 1);
  if (mode === 'set') {
    if (rest.length === 0) throw new UsageError('orders set needs KEY and at least one VALUE (VALUE0 is the base key)', 'orders');
    if (rest.length > 255) throw new UsageError(`orders set takes at most 255 values, received ${rest.length}`, 'orders');
    const store = ctx.store();
    store.setTandem(key, rest);
    if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), orders: rest.length });
    else ctx.line(`set ${showKey(ctx.shown(key))} and ${rest.length - 1} order${rest.length === 2 ? '' : 's'}`);
    return;
  }
  if (mode === 'unset') {
    if (rest.length !== 1) throw new UsageError('orders unset needs KEY and COUNT', 'orders');
    const count = Number(parseU64(rest[0]!, 'COUNT', 'orders'));
    if (count < 1 || count > 255) throw new UsageError(`COUNT is 1..255 (the base key is order 0), received ${rest[0]}`, 'orders');
    ctx.store().unsetTandem(key, count);
    if (ctx.json) ctx.jsonOut({ ...keyJson(ctx.shown(key)), orders: count });
    return;
  }
  const store = ctx.store();
  const found: Array<{ order: number; key: Key; length: number; preview: string }> = [];
  for (let order = 0; order < 256; order++) {
    const orderKey = tandemKey(key, order);
    if (keyBytes(orderKey).length > KEY_MAX_BYTES) break;
    const value = store.get(orderKey);
    if (value === undefined) break;
    found.push({ order, key: ctx.shown(orderKey), length: value.length, preview: preview(value) });
  }
  if (found.length === 0) throw notFound(ctx, key);
  if (ctx.json) ctx.jsonOut(found.map(({ preview: _p, ...rest }) => rest));
  else ctx.line(table(['ORDER', 'KEY', 'LEN', 'VALUE'], found.map((f) => [String(f.order), showKey(f.key), String(f.length), f.preview]), new Set([0, 2])));
};
