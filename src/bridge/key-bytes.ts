/**
 * Store keys as the bridge carries them: bytes on the Redis side (hash fields and stream fields are
 * binary-safe), `Key`s on the store side (a string when the bytes are UTF-8, else the bytes, as
 * `store.keys()` gives them). A key read from Redis becomes a `Key` only when it is one the store
 * can hold under that exact name: no NUL, at most KEY_MAX_BYTES bytes, under the namespace's prefix.
 */
import { KEY_MAX_BYTES } from '../layout/constants.js';
import { escapeKey, keyOfBytes, type Key } from '../store/keys/key-text.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** How many bytes of a key (or a Redis field that should be one) a message shows. */
const SHOWN_BYTES = 80;

/**
 * The key's bytes as a message shows them: quoted when they are printable UTF-8, else the quoted
 * escaped form (`\xHH` for each byte that is not, as `splinter list` shows keys); cut after SHOWN_BYTES.
 */
export function showKeyBytes(bytes: Uint8Array): string {
  const head = bytes.subarray(0, SHOWN_BYTES);
  const more = bytes.length > SHOWN_BYTES ? `… (${bytes.length} bytes)` : '';
  let text: string | undefined;
  try {
    text = strictUtf8.decode(head);
  } catch {
    text = undefined; // not UTF-8 (or cut inside a character)
  }
  if (text !== undefined && !/[\u0000-\u001f\u007f]/.test(text)) return `${JSON.stringify(text)}${more}`;
  return `"${escapeKey(head)}"${more}`;
}

/** A store key as a message shows it (see showKeyBytes): a key is at most 63 bytes, never cut. */
export function showKey(key: Key): string {
  return showKeyBytes(keyToRedis(key));
}

/** The store key that Redis's bytes name, or why they name none this bridge can write. */
export function keyFromRedis(bytes: Buffer, prefix: Buffer): { key: Key } | { why: string } {
  if (bytes.length > KEY_MAX_BYTES) return { why: `a key is at most ${KEY_MAX_BYTES} bytes, this one has ${bytes.length}` };
  if (bytes.includes(0)) return { why: 'a key cannot hold NUL' };
  if (bytes.length < prefix.length || !bytes.subarray(0, prefix.length).equals(prefix)) return { why: `the key is not under the prefix ${showKeyBytes(prefix)}` };
  // Any other bytes are a legal store key: a string when UTF-8 (as store.keys() names it), else a copy of the bytes.
  return { key: keyOfBytes(bytes) };
}

/** A key as Redis gets it: a string's UTF-8 bytes, a bytes key's own bytes (not copied). */
export function keyToRedis(key: Key): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}
