/**
 * What a fixture's ops imply for a reader, worked out from the ops alone (not from any
 * store): each key's value, and the global epoch.
 */
import { fromHex, type Fixture } from './fixtures.js';

export interface Expected {
  values: Map<string, Uint8Array>;
  globalEpoch: bigint;
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

export function expectedState(f: Fixture): Expected {
  const values = new Map<string, Uint8Array>();
  let globalEpoch = 1n;
  for (const op of f.ops) {
    if (op.rc !== undefined && op.rc < 0) continue;
    switch (op.op) {
      case 'set':
        values.set(op.key!, fromHex(op.value_hex!));
        globalEpoch++;
        break;
      case 'unset':
        values.delete(op.key!);
        break;
      case 'append':
        values.set(op.key!, concat(values.get(op.key!)!, fromHex(op.value_hex!)));
        globalEpoch++;
        break;
      case 'set_named_type': {
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
        const value = values.get(op.key!)!;
        const padded = new Uint8Array(f.maxValueSize);
        padded.set(value);
        values.set(op.key!, padded);
        break;
      }
      case 'set_label':
      case 'unset_label':
      case 'retrain_slot':
      case 'set_embedding':
        globalEpoch++;
        break;
      default:
        break; // no effect on values or the global epoch
    }
  }
  return { values, globalEpoch };
}

/** C's strtoull(s, 0, 0) for text starting with a digit, else the bytes little-endian. */
export function promote(value: Uint8Array): bigint {
  const text = Buffer.from(value).toString('latin1');
  if (/^[0-9]/.test(text)) {
    const hex = /^0[xX]([0-9a-fA-F]+)/.exec(text);
    if (hex) return BigInt(`0x${hex[1]}`) & 0xffffffffffffffffn;
    const octal = /^0([0-7]*)/.exec(text);
    if (octal) return octal[1] ? BigInt(`0o${octal[1]}`) : 0n;
    return BigInt(/^[0-9]+/.exec(text)![0]) & 0xffffffffffffffffn;
  }
  let n = 0n;
  for (let i = value.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(value[i]!);
  return n;
}

export function integerOp(value: bigint, op: number, operand: bigint): bigint {
  const mask = 0xffffffffffffffffn;
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
