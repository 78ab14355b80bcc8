/**
 * Keys in URLs: percent-encoded bytes (a key is any 1..63 bytes but NUL, and C writes keys
 * that are not UTF-8), decoded here byte by byte; decodeURIComponent would throw on those.
 */
import { escapeKey, type Key } from '../store/keys/key-text.js';
import { HttpError } from './answer.js';

const KEY_MAX_BYTES = 63;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes a percent-encoded text stands for; EINVAL for a bad escape or a character outside printable ASCII. */
export function percentBytes(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new HttpError(400, 'EINVAL', `${what}: "%" must be followed by two hex digits, received ${JSON.stringify(`%${hex}`)}`);
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else if (c > 0x20 && c < 0x7f) {
      out[n++] = c;
    } else {
      throw new HttpError(400, 'EINVAL', `${what}: percent-encode every byte outside printable ASCII, received the code ${c}`);
    }
  }
  return out.subarray(0, n);
}

/** A string when the bytes are UTF-8 (the form the library lists), else the bytes. */
export function keyOfBytes(bytes: Uint8Array): Key {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes;
  }
}

/** A key from its percent-encoded form: 1..63 bytes, no NUL, as the library takes them; EINVAL otherwise. */
export function keyFromUrl(text: string): Key {
  const bytes = percentBytes(text, 'a key');
  if (bytes.length < 1 || bytes.length > KEY_MAX_BYTES) {
    throw new HttpError(400, 'EINVAL', `a key is 1..${KEY_MAX_BYTES} bytes, received ${bytes.length} bytes`);
  }
  if (bytes.includes(0)) throw new HttpError(400, 'EINVAL', 'a key holds no NUL byte (%00)');
  return keyOfBytes(new Uint8Array(bytes));
}

/** A key in a JSON answer: its text; a key that is not UTF-8 has its escaped form there and its bytes in keyHex (as `splinter export`). */
export function keyJson(key: Key): { key: string; keyHex?: string } {
  return typeof key === 'string' ? { key } : { key: escapeKey(key), keyHex: Buffer.from(key).toString('hex') };
}

export function keyBytesOf(key: Key): Uint8Array {
  return typeof key === 'string' ? new Uint8Array(Buffer.from(key, 'utf8')) : key;
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
