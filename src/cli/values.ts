/** Parsing what operators type (numbers, masks, types) and rendering what stores hold. */
import { KEY_MAX_BYTES, SlotType, SPLINTER_BLOOM_BITS, SPLINTER_MAX_GROUPS, U64_MAX } from '../layout/constants.js';
import { TYPE_NAMES } from '../layout/type-names.js';
import { escapeKey, type Key, keyBytes, keyOfBytes, unescapeKey } from '../facade/inspect.js';
import { UsageError } from './usage-error.js';

export { typeName } from '../layout/type-names.js';

/** A u64 written as decimal, 0x hex, 0o octal or 0b binary (underscores allowed). */
export function parseU64(text: string, what: string, command?: string): bigint {
  const t = text.trim().replaceAll('_', '');
  let value: bigint | undefined;
  if (/^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(t)) {
    try {
      value = BigInt(t.toLowerCase());
    } catch {
      value = undefined;
    }
  }
  if (value === undefined || value > U64_MAX) {
    throw new UsageError(`${what} must be an unsigned 64-bit number (decimal, 0x hex, 0o octal or 0b binary), received ${JSON.stringify(text)}`, command);
  }
  return value;
}

/** A label mask: a non-zero u64, or "bit:N" for the single bit N. */
export function parseMask(text: string, command: string): bigint {
  const bit = /^bit:(\d+)$/i.exec(text.trim());
  const mask = bit !== null ? (Number(bit[1]) < SPLINTER_BLOOM_BITS ? 1n << BigInt(bit[1]!) : -1n) : parseU64(text, 'a label mask', command);
  if (mask < 0n) throw new UsageError(`a label bit is 0..${SPLINTER_BLOOM_BITS - 1}, received ${JSON.stringify(text)}`, command);
  if (mask === 0n) throw new UsageError('a label mask must have at least one bit set, received 0', command);
  return mask;
}

/** A signal group number 0..63. */
export function parseGroup(text: string | number, command: string): number {
  const n = typeof text === 'number' ? text : /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n >= SPLINTER_MAX_GROUPS) {
    throw new UsageError(`a signal group is 0..${SPLINTER_MAX_GROUPS - 1}, received ${JSON.stringify(text)}`, command);
  }
  return n;
}

export const hex64 = (v: bigint): string => `0x${v.toString(16)}`;

// ── Types ────────────────────────────────────────────────────────────────────


const TYPE_INPUT: Record<string, number> = {
  void: SlotType.VOID,
  bigint: SlotType.BIGINT,
  biguint: SlotType.BIGUINT,
  json: SlotType.JSON,
  binary: SlotType.BINARY,
  bin: SlotType.BINARY,
  img: SlotType.IMGDATA,
  imgdata: SlotType.IMGDATA,
  image: SlotType.IMGDATA,
  audio: SlotType.AUDIO,
  vartext: SlotType.VARTEXT,
  text: SlotType.VARTEXT,
};

export const TYPE_CHOICES = TYPE_NAMES.map(([, name]) => name);


/** A type name (or several joined with |, or a number 1..255) to its type_flag mask. */
export function parseType(text: string, command: string): number {
  let mask = 0;
  for (const part of text.toLowerCase().split('|')) {
    const bit = TYPE_INPUT[part.trim()] ?? (/^\d+$/.test(part.trim()) ? Number(part.trim()) : undefined);
    if (bit === undefined || bit < 1 || bit > 255) {
      throw new UsageError(`unknown type ${JSON.stringify(part)}; one of ${TYPE_CHOICES.join(', ')}`, command);
    }
    mask |= bit;
  }
  return mask;
}

// ── Keys ─────────────────────────────────────────────────────────────────────

/**
 * The stored key for a key argument: prefix + key, the argument read by the escape rule
 * (docs/cli.md, "Keys": `\\` a backslash, `\xHH` a byte), checked like the library does (exit 2 instead of 1).
 */
export function storedKey(prefix: string, key: string, command: string): Key {
  let decoded: Key;
  try {
    decoded = unescapeKey(key);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/^EINVAL: /, '') : String(error), command);
  }
  const full = typeof decoded === 'string' ? prefix + decoded : keyOfBytes(concatBytes(keyBytes(prefix), decoded));
  if (typeof full === 'string' && !full.isWellFormed()) throw new UsageError(`a key must be well-formed Unicode, received ${JSON.stringify(key)}`, command);
  const bytes = keyBytes(full);
  if (bytes.includes(0)) throw new UsageError(`a key must not contain NUL, received ${JSON.stringify(key)}`, command);
  if (bytes.length > KEY_MAX_BYTES) {
    const which = prefix === '' ? '' : ` (with the prefix ${JSON.stringify(prefix)})`;
    const unit = typeof full === 'string' ? 'UTF-8 bytes' : 'bytes';
    throw new UsageError(`a key is at most ${KEY_MAX_BYTES} ${unit}; ${JSON.stringify(key)}${which} is ${bytes.length}`, command);
  }
  return full;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * How a key is shown in text: its escaped form (docs/cli.md, "Keys"), in single quotes when it
 * is empty or holds a space, a quote or a backslash, so that it pastes into a shell and into
 * the interactive mode as one argument naming the same key (a `'` inside as `'\''`).
 */
export function showKey(key: Key): string {
  return shellWord(escapeKey(key));
}

/** Text as one shell word: as it is when plain, else in single quotes. */
export function shellWord(text: string): string {
  return text === '' || /[\s"'\\]/u.test(text) ? `'${text.replaceAll("'", "'\\''")}'` : text;
}

/** A key in a message: a string key JSON-quoted, as messages always did; one that is not UTF-8 as showKey shows it. */
export function quoteKey(key: Key): string {
  return typeof key === 'string' ? JSON.stringify(key) : showKey(key);
}

/**
 * A key in JSON output: `key` is the key's text; a key that is not UTF-8 has its escaped form
 * there and its bytes in `keyHex` (docs/cli.md, "Keys"), so no two keys look alike.
 */
export function keyJson(key: Key): { key: string; keyHex?: string } {
  return typeof key === 'string' ? { key } : { key: escapeKey(key), keyHex: Buffer.from(key).toString('hex') };
}

// ── Values ───────────────────────────────────────────────────────────────────

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as a string when they are valid UTF-8, else undefined. */
export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Valid UTF-8 with no control characters other than tab, newline and carriage return. */
export function printableText(bytes: Uint8Array): string | undefined {
  const text = utf8OrUndefined(bytes);
  if (text === undefined) return undefined;
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text) ? undefined : text;
}

/** A `hexdump -C` style dump: offset, 16 bytes in two groups of 8, and the printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, bytes.length));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      const b = row[i];
      hex += b === undefined ? '   ' : `${b.toString(16).padStart(2, '0')} `;
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines.join('\n');
}

/** A short one-line preview of a value (for watch and list-like output). */
export function preview(bytes: Uint8Array, max = 60): string {
  const text = printableText(bytes);
  if (text !== undefined) {
    const oneLine = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
    return oneLine;
  }
  const shown = Buffer.from(bytes.subarray(0, Math.min(bytes.length, Math.floor(max / 2)))).toString('hex');
  return `0x${shown}${bytes.length > max / 2 ? '…' : ''}`;
}

/**
 * A value in the lossless JSON encoding of `export` and `--json`: "utf8" when the bytes are
 * valid UTF-8 without control characters (tab, newline and CR allowed), else "base64".
 */
export function encodeValue(bytes: Uint8Array): { encoding: 'utf8' | 'base64'; value: string } {
  const text = printableText(bytes);
  if (text !== undefined) return { encoding: 'utf8', value: text };
  return { encoding: 'base64', value: Buffer.from(bytes).toString('base64') };
}

/** Formats an integer with thousands separators. */
export function grouped(n: number | bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A count with its unit, grouped, the unit singular for exactly 1: "1 byte", "1,024 bytes", "0 keys". */
export function counted(n: number | bigint, unit: string): string {
  return `${grouped(n)} ${unit}${n === 1 || n === 1n ? '' : 's'}`;
}

/** Left-aligned columns, two spaces apart; numeric columns right-aligned when listed in `right`. */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : c === cells.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A glob (* and ?) as a RegExp; text without either matches as a substring. Keys are matched in their escaped form. */
export function keyMatcher(pattern: string | undefined): (key: Key) => boolean {
  if (pattern === undefined || pattern === '') return () => true;
  if (!/[*?]/.test(pattern)) return (key) => escapeKey(key).includes(pattern);
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  const regex = new RegExp(`^${source}$`, 'su');
  return (key) => regex.test(escapeKey(key));
}
