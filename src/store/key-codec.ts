import { SplinterError } from '../errors.js';
import { KEY_MAX_BYTES } from '../layout/constants.js';
import { fnv1a64Into, type HashHalves } from '../layout/fnv1a.js';

const utf8 = new TextEncoder();

/**
 * Encodes keys to UTF-8 into one reusable buffer and hashes them, so the hot paths
 * allocate nothing for ASCII keys. Holds only the most recent key: not reentrant.
 */
export class KeyCodec {
  /** The key's bytes, then scratch; 3 bytes per UTF-16 unit covers any key short enough to accept. */
  readonly bytes = new Uint8Array(KEY_MAX_BYTES * 3 + 3);
  length = 0;
  readonly hash: HashHalves = { hi: 0, lo: 0 };

  /** Encodes and hashes `key`; throws EINVAL for a non-string, NUL, bad Unicode or more than 63 bytes. */
  encode(key: string): void {
    if (typeof key !== 'string') {
      throw new SplinterError('EINVAL', `a key must be a string, received ${key === null ? 'null' : typeof key}`);
    }
    const units = key.length;
    if (units > KEY_MAX_BYTES) throw tooLong(key, utf8.encode(key).length);
    const bytes = this.bytes;
    let i = 0;
    for (; i < units; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) break;
      if (c === 0) throw hasNul(key);
      bytes[i] = c;
    }
    let length = i;
    if (i < units) length = this.encodeSlow(key);
    this.length = length;
    fnv1a64Into(bytes, length, this.hash);
  }

  private encodeSlow(key: string): number {
    if (key.includes('\0')) throw hasNul(key);
    if (!key.isWellFormed()) {
      throw new SplinterError('EINVAL', `a key must be well-formed Unicode, received ${JSON.stringify(key)} (lone surrogate)`);
    }
    const { written } = utf8.encodeInto(key, this.bytes);
    if (written > KEY_MAX_BYTES) throw tooLong(key, written);
    return written;
  }
}

function tooLong(key: string, bytes: number): SplinterError {
  const shown = key.length > 80 ? `${JSON.stringify(key.slice(0, 80))}…` : JSON.stringify(key);
  return new SplinterError('EINVAL', `a key is at most ${KEY_MAX_BYTES} UTF-8 bytes, received ${bytes} bytes: ${shown}`);
}

function hasNul(key: string): SplinterError {
  return new SplinterError('EINVAL', `a key must not contain NUL, received ${JSON.stringify(key)}`);
}
