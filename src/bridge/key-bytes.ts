/**
 * Store keys as the bridge carries them: bytes on the Redis side (hash fields and stream fields are
 * binary-safe), strings on the store side, where the Store API takes and lists keys as strings for
 * now. A key read from Redis becomes a string only when it is one the store can hold under that
 * exact name: UTF-8, no NUL, at most KEY_MAX_BYTES bytes, under the namespace's prefix.
 */
import { KEY_MAX_BYTES } from '../layout/constants.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** How many bytes of a key (or a Redis field that should be one) a message shows. */
const SHOWN_BYTES = 80;

/** The key's bytes as a message shows them: quoted when they are printable UTF-8, else hex; cut after SHOWN_BYTES. */
export function showKeyBytes(bytes: Uint8Array): string {
  const head = bytes.subarray(0, SHOWN_BYTES);
  const more = bytes.length > SHOWN_BYTES ? `… (${bytes.length} bytes)` : '';
  let text: string | undefined;
  try {
    text = strictUtf8.decode(head);
  } catch {
    text = undefined; // not UTF-8 (or cut inside a character): hex says exactly what it is
  }
  if (text !== undefined && !/[\u0000-\u001f\u007f]/.test(text)) return `${JSON.stringify(text)}${more}`;
  return `0x${Buffer.from(head).toString('hex')}${more}`;
}

/** The store key that Redis's bytes name, or why they name none this bridge can write. */
export function keyFromRedis(bytes: Buffer, prefix: Buffer): { key: string } | { why: string } {
  if (bytes.length > KEY_MAX_BYTES) return { why: `a key is at most ${KEY_MAX_BYTES} bytes, this one has ${bytes.length}` };
  if (bytes.includes(0)) return { why: 'a key cannot hold NUL' };
  if (bytes.length < prefix.length || !bytes.subarray(0, prefix.length).equals(prefix)) return { why: `the key is not under the prefix ${showKeyBytes(prefix)}` };
  try {
    return { key: strictUtf8.decode(bytes) };
  } catch {
    // A byte key is a legal store key; the Store API cannot name it yet (keys are strings).
    return { why: 'the key is not UTF-8, and this bridge carries UTF-8 keys only' };
  }
}

/** A key as Redis gets it: its UTF-8 bytes. */
export function keyToRedis(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}
