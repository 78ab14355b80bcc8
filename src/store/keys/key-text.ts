/**
 * Keys as C stores them: 0..63 bytes without NUL, any bytes (docs/api.md, "Keys"). A key that is
 * valid UTF-8 is a string here, any other a Uint8Array of its bytes; and one text form of every
 * key, the escaped form (docs/cli.md, "Keys"), for messages and the CLI.
 */
import { SplinterError } from '../../errors.js';

/** A key: a string (its UTF-8 bytes) or a Uint8Array (its bytes, exactly). */
export type Key = string | Uint8Array;

const utf8 = new TextEncoder();
/** ignoreBOM keeps a leading U+FEFF: the default would drop it, and the key with it. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A key's bytes: a string's UTF-8, a Uint8Array as it is (not copied). */
export function keyBytes(key: Key): Uint8Array {
  return typeof key === 'string' ? utf8.encode(key) : key;
}

/** The key of these bytes: a string when they are valid UTF-8, else a copy of the bytes. */
export function keyOfBytes(bytes: Uint8Array): Key {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return new Uint8Array(bytes); // a copy, and a plain Uint8Array (a Buffer's slice() would share its memory)
  }
}

/** True when two keys are the same bytes. */
export function sameKey(a: Key, b: Key): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const x = keyBytes(a);
  const y = keyBytes(b);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

/** One string per distinct key (a Set or Map key): a string key itself, a bytes key its escaped form after a NUL (no string key has one). */
export function keyIdentity(key: Key): string {
  return typeof key === 'string' ? key : `\0${escapeKey(key)}`;
}

/** How messages name a key: a string as it is, a bytes key in the escaped form. */
export function keyName(key: Key): string {
  return typeof key === 'string' ? key : escapeKey(key);
}

/** Code points shown escaped although valid: C0 and C1 controls, DEL, the line and paragraph separators. */
function unprintable(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029;
}

const hex2 = (byte: number): string => `\\x${byte.toString(16).padStart(2, '0')}`;

/**
 * The escaped form of a key: printable UTF-8 as it is, `\` as `\\`, and every other byte (not
 * valid UTF-8, or part of a control character) as `\xHH` (lower-case hex). unescapeKey reverses it.
 */
export function escapeKey(key: Key): string {
  const bytes = keyBytes(key);
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x5c) {
      out += '\\\\';
      i++;
      continue;
    }
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      out += hex2(b);
      i++;
      continue;
    }
    const cp = codePointAt(bytes, i, length);
    if (unprintable(cp)) for (let k = 0; k < length; k++) out += hex2(bytes[i + k]!);
    else out += String.fromCodePoint(cp);
    i += length;
  }
  return out;
}

/** Length of the well-formed UTF-8 sequence at `i` (1–4), or 0 when the bytes there are not one (RFC 3629). */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  if (b < 0x80) return 1;
  const cont = (k: number, low = 0x80, high = 0xbf): boolean => {
    const c = bytes[i + k];
    return c !== undefined && c >= low && c <= high;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no surrogates
  if (b >= 0xe1 && b <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

function codePointAt(bytes: Uint8Array, i: number, length: number): number {
  const b = bytes[i]!;
  if (length === 1) return b;
  let cp = b & (0xff >>> (length + 1));
  for (let k = 1; k < length; k++) cp = (cp << 6) | (bytes[i + k]! & 0x3f);
  return cp;
}

/**
 * The key an escaped form names: `\\` is a backslash, `\xHH` the byte HH, anything else its
 * UTF-8; EINVAL for any other backslash or text that is not well-formed Unicode. Text without
 * a backslash is returned as it is.
 * @throws SplinterError EINVAL for a backslash not followed by `\` or two hex digits, or a lone surrogate.
 */
export function unescapeKey(text: string): Key {
  if (!text.includes('\\')) return text;
  if (!text.isWellFormed()) throw new SplinterError('EINVAL', `a key must be well-formed Unicode, received ${JSON.stringify(text)} (lone surrogate)`);
  const bytes: number[] = [];
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('\\', i);
    const end = at < 0 ? text.length : at;
    if (end > i) for (const byte of utf8.encode(text.slice(i, end))) bytes.push(byte);
    if (at < 0) break;
    const next = text[at + 1];
    const pair = text.slice(at + 2, at + 4);
    if (next === '\\') {
      bytes.push(0x5c);
      i = at + 2;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(pair)) {
      bytes.push(Number.parseInt(pair, 16));
      i = at + 4;
    } else {
      throw new SplinterError(
        'EINVAL',
        `in a key, a backslash starts \\\\ (a backslash) or \\xHH (the byte HH), received ${JSON.stringify(text.slice(at, at + 4))} in ${JSON.stringify(text)}`,
      );
    }
  }
  return keyOfBytes(Uint8Array.from(bytes));
}
