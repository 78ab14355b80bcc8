import { SplinterError } from '../errors.js';
import { KEY_MAX_BYTES } from '../layout/constants.js';
import { fnv1a64Into, homeSlot, type HashHalves } from '../layout/fnv1a.js';

const utf8 = new TextEncoder();

/** An encoded key, kept so a key used again costs one Map lookup instead of encoding and hashing. */
interface EncodedKey {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly hashLo: number;
  readonly hashHi: number;
  readonly home: number;
}

/** Keys remembered per handle; past this many distinct keys the memory starts over. */
const CACHE_LIMIT = 8192;

/**
 * Encodes keys to UTF-8 and hashes them, remembering recent keys, so the hot paths allocate
 * nothing for a key seen before. Holds only the most recent key: not reentrant.
 */
export class KeyCodec {
  /** The current key's bytes (a cached copy, or the scratch buffer). */
  bytes: Uint8Array;
  length = 0;
  readonly hash: HashHalves = { hi: 0, lo: 0 };
  /** The slot the current key's probe starts at (hash mod slots: a 64-bit modulo, worth remembering). */
  home = 0;
  /** 3 bytes per UTF-16 unit covers any key short enough to accept. */
  private readonly scratch = new Uint8Array(KEY_MAX_BYTES * 3 + 3);
  private readonly cache = new Map<string, EncodedKey>();

  constructor(private readonly slots: number) {
    this.bytes = this.scratch;
  }

  /** Encodes and hashes `key`; throws EINVAL for a non-string, NUL, bad Unicode or more than 63 bytes. */
  encode(key: string): void {
    const known = this.cache.get(key);
    if (known !== undefined) {
      this.bytes = known.bytes;
      this.length = known.length;
      this.hash.lo = known.hashLo;
      this.hash.hi = known.hashHi;
      this.home = known.home;
      return;
    }
    this.encodeNew(key);
  }

  private encodeNew(key: string): void {
    if (typeof key !== 'string') {
      throw new SplinterError('EINVAL', `a key must be a string, received ${key === null ? 'null' : typeof key}`);
    }
    const units = key.length;
    if (units > KEY_MAX_BYTES) throw tooLong(key, utf8.encode(key).length);
    const scratch = this.scratch;
    let i = 0;
    for (; i < units; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) break;
      if (c === 0) throw hasNul(key);
      scratch[i] = c;
    }
    const length = i < units ? this.encodeSlow(key) : i;
    fnv1a64Into(scratch, length, this.hash);
    this.home = homeSlot(this.hash.hi, this.hash.lo, this.slots);
    const entry: EncodedKey = { bytes: scratch.slice(0, length), length, hashLo: this.hash.lo, hashHi: this.hash.hi, home: this.home };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, entry);
    this.bytes = entry.bytes;
    this.length = length;
  }

  private encodeSlow(key: string): number {
    if (key.includes('\0')) throw hasNul(key);
    if (!key.isWellFormed()) {
      throw new SplinterError('EINVAL', `a key must be well-formed Unicode, received ${JSON.stringify(key)} (lone surrogate)`);
    }
    const { written } = utf8.encodeInto(key, this.scratch);
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
