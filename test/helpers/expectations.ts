/**
 * What a fixture's ops imply for a reader, worked out from the ops alone (not from any
 * store): each key's value, and the global epoch.
 */
import { SPLINTER_BLOOM_BITS, SPLINTER_MAX_GROUPS, U64_MAX } from '../../src/layout/constants.js';
import { fromHex, type Fixture } from './fixtures.js';

export interface SlotMeta {
  type: number;
  bloom: bigint;
  watchers: bigint;
  ctime: bigint;
  atime: bigint;
  embeddingSeed: number | undefined;
}

export interface Expected {
  values: Map<string, Uint8Array>;
  meta: Map<string, SlotMeta>;
  /** bloom_watches: label bit → group (absent = none). */
  labelGroups: Map<number, number>;
  signals: bigint[];
  globalEpoch: bigint;
  mop: number;
}

const bitsOf = (mask: bigint): number[] => [...Array(SPLINTER_BLOOM_BITS).keys()].filter((b) => (mask >> BigInt(b)) & 1n);

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

export function expectedState(f: Fixture): Expected {
  const values = new Map<string, Uint8Array>();
  const meta = new Map<string, SlotMeta>();
  const labelGroups = new Map<number, number>();
  const signals: bigint[] = Array.from({ length: SPLINTER_MAX_GROUPS }, () => 0n);
  let globalEpoch = 1n;
  let mopFlags = 3;
  const slot = (key: string): SlotMeta => meta.get(key)!;
  const pulse = (key: string): void => {
    for (const g of bitsOf(slot(key).watchers)) signals[g]!++;
    for (const b of bitsOf(slot(key).bloom)) if (labelGroups.has(b)) signals[labelGroups.get(b)!]!++;
  };
  for (const op of f.ops) {
    if (op.rc !== undefined && op.rc < 0) continue;
    switch (op.op) {
      case 'set':
        values.set(op.key!, fromHex(op.value_hex!));
        if (!meta.has(op.key!)) meta.set(op.key!, { type: 1, bloom: 0n, watchers: 0n, ctime: 0n, atime: 0n, embeddingSeed: undefined });
        pulse(op.key!);
        globalEpoch++;
        break;
      case 'unset':
        values.delete(op.key!);
        meta.delete(op.key!);
        break;
      case 'append':
        values.set(op.key!, concat(values.get(op.key!)!, fromHex(op.value_hex!)));
        pulse(op.key!);
        globalEpoch++;
        break;
      case 'set_label':
        slot(op.key!).bloom |= BigInt(op.mask!);
        globalEpoch++;
        break;
      case 'unset_label':
        slot(op.key!).bloom &= ~BigInt(op.mask!);
        globalEpoch++;
        break;
      case 'watch_register':
        slot(op.key!).watchers |= 1n << BigInt(op.group!);
        break;
      case 'watch_unregister':
        slot(op.key!).watchers &= ~(1n << BigInt(op.group!));
        break;
      case 'watch_label_register':
        for (const b of bitsOf(BigInt(op.mask!))) labelGroups.set(b, op.group!);
        break;
      case 'bump_slot':
      case 'pulse_keygroup':
        pulse(op.key!);
        break;
      case 'retrain_slot':
        slot(op.key!).embeddingSeed = undefined;
        pulse(op.key!);
        globalEpoch++;
        break;
      case 'set_embedding':
        slot(op.key!).embeddingSeed = op.seed;
        globalEpoch++;
        break;
      case 'set_slot_time':
        slot(op.key!)[op.mode === 0 ? 'ctime' : 'atime'] = (BigInt(op.time!) - BigInt(op.offset ?? 0)) & U64_MAX;
        break;
      case 'set_mop':
        mopFlags = op.mode === 0 ? 0 : op.mode === 1 ? 3 : mopFlags | 1;
        break;
      case 'set_named_type': {
        slot(op.key!).type = Number(op.mask);
        globalEpoch++;
        const value = values.get(op.key!)!;
        if ((Number(op.mask) & 4) !== 0 && value.length < 8) values.set(op.key!, u64Bytes(promote(value)));
        break;
      }
      case 'integer_op': {
        globalEpoch++;
        const before = new DataView(values.get(op.key!)!.buffer).getBigUint64(0, true);
        values.set(op.key!, u64Bytes(integerOp(before, op.int_op!, BigInt(op.operand ?? '0'))));
        break;
      }
      case 'set_as_system': {
        slot(op.key!).type = 16;
        const value = values.get(op.key!)!;
        const padded = new Uint8Array(f.maxValueSize);
        padded.set(value);
        values.set(op.key!, padded);
        break;
      }
      default:
        break; // no effect on values or the global epoch
    }
  }
  return { values, meta, labelGroups, signals, globalEpoch, mop: (mopFlags & 2) !== 0 ? 1 : (mopFlags & 1) !== 0 ? 2 : 0 };
}

/** C's strtoull(s, 0, 0) for text starting with a digit, else the bytes little-endian. */
export function promote(value: Uint8Array): bigint {
  const text = Buffer.from(value).toString('latin1');
  if (/^[0-9]/.test(text)) {
    const saturate = (n: bigint): bigint => (n > U64_MAX ? U64_MAX : n);
    const hex = /^0[xX]([0-9a-fA-F]+)/.exec(text);
    if (hex) return saturate(BigInt(`0x${hex[1]}`));
    const octal = /^0([0-7]*)/.exec(text);
    if (octal) return octal[1] ? saturate(BigInt(`0o${octal[1]}`)) : 0n;
    return saturate(BigInt(/^[0-9]+/.exec(text)![0]));
  }
  let n = 0n;
  for (let i = value.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(value[i]!);
  return n;
}

export function integerOp(value: bigint, op: number, operand: bigint): bigint {
  const mask = U64_MAX;
  switch (op) {
    case 0:
      return value & operand;
    case 1:
      return value | operand;
    case 2:
      return value ^ operand;
    case 3:
      return ~value & mask;
    case 4:
      return (value + operand) & mask;
    case 5:
      return (value - operand) & mask;
    default:
      throw new Error(`unknown integer op ${op}`);
  }
}

export function u64Bytes(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}
