import { SplinterError } from '../../errors.js';
import { KEY_MAX, KEY_MAX_BYTES } from '../../layout/constants.js';
import { fnv1a64AsciiWords, fnv1a64Into, homeSlot, type HashHalves } from '../../layout/fnv1a.js';
import { escapeKey, type Key } from './key-text.js';

const utf8 = new TextEncoder();

/** An encoded key, kept so a key used again costs one Map lookup instead of encoding and hashing. */
export interface EncodedKey {
  /**
   * The key's bytes (a string's UTF-8), their NUL and zeros to a 4-byte boundary, as int32 words: how a slot stores
   * them (C pads with zeros). Only for keys of more than four words; shorter keys (up to 15
   * bytes, most keys) have none, so a new key costs one object (its allocation and collection
   * are most of an insert's own time).
   */
  readonly words: readonly number[];
  /** The first four words, inline (zero past `wordCount`), and how many words there are. */
  readonly word0: number;
  readonly word1: number;
  readonly word2: number;
  readonly word3: number;
  readonly wordCount: number;
  readonly length: number;
  readonly hashLo: number;
  readonly hashHi: number;
  readonly home: number;
  /** Where the key was last found (-1: missing), trusted only while `generation` is the codec's (probe.ts locateKey). */
  slot: number;
  generation: number;
}

/**
 * Keys remembered per handle; past this many distinct keys the memory starts over. A key not
 * remembered costs an encoding (about 1 µs with the memory churning), which is the whole cost
 * of a get; each remembered key takes about 0.5 kB of heap (16 MB for a handle that used 32 768).
 */
const CACHE_LIMIT = 32768;

/**
 * Encodes keys (a string to UTF-8, a Uint8Array as it is) and hashes them, remembering recent
 * string keys, so the hot paths allocate nothing for a key seen before. Holds only the most
 * recent key: not reentrant.
 */
export class KeyCodec {
  /** The current key's cache entry: encode() only swaps this pointer, the getters below read through it. */
  entry: EncodedKey;
  /**
   * Moves on whenever another writer may have inserted a key: entries of an older generation
   * are not trusted. `expectedEpoch` is the global epoch's low word as this handle last saw it,
   * advanced past this handle's own set and append.
   */
  generation = 0;
  expectedEpoch = 0;
  /** Counts values that began with a given word (probe.ts locateKey loads one early to start its cache miss); never read. */
  warm = 0;
  /** 3 bytes per UTF-16 unit covers any key short enough to accept. */
  private readonly scratch = new Uint8Array(KEY_MAX_BYTES * 3 + 3);
  private readonly scratchWords = new Int32Array(this.scratch.buffer, 0, this.scratch.length >>> 2);
  private readonly cache = new Map<string, EncodedKey>();

  private readonly hash: HashHalves = { hi: 0, lo: 0 };
  /**
   * The entry of a key not remembered, filled in place: encoding a new key allocates nothing
   * until keep() remembers it (an insert of a key never used again costs no object and no garbage).
   */
  private readonly transient: MutableEncodedKey = {
    words: Array.from({ length: KEY_MAX >>> 2 }, () => 0),
    word0: 0,
    word1: 0,
    word2: 0,
    word3: 0,
    wordCount: 1,
    length: 0,
    hashLo: 0,
    hashHi: 0,
    home: 0,
    slot: -1,
    generation: -1,
  };
  /** The key the transient entry holds; at first a string too long to be a key (refused before it is compared). */
  private transientKey = NOT_A_KEY;
  /** The transient entry holds a bytes key: keep() leaves it out of the string-keyed memory. */
  private transientIsBytes = false;

  constructor(private readonly slots: number) {
    this.entry = this.transient;
  }

  /** Encodes and hashes `key`, remembering a string key; throws EINVAL for a non-key, NUL, bad Unicode or more than 63 bytes. */
  encode(key: Key): void {
    this.encodeTransient(key);
    if (this.entry === this.transient) this.keep();
  }

  /**
   * encode() without remembering a key not remembered yet: set and unset use it (set calls
   * keep() once the key turns out to be stored already, an overwrite), so inserting or removing
   * a key used once allocates nothing, and an unset then set of it encodes it once.
   */
  encodeTransient(key: Key): void {
    // A bytes key (or not a key at all) takes the slower exact path; the string path is unchanged.
    if (typeof key !== 'string') return this.encodeOther(key);
    // Refused from its length before anything reads its characters: a string of more than
    // 63 UTF-16 units is more than 63 UTF-8 bytes, and a huge one must cost neither time nor memory.
    if (key.length > KEY_MAX_BYTES) throw tooLong(key, key.length, true);
    const known = this.cache.get(key);
    if (known !== undefined) {
      this.entry = known;
      return;
    }
    // The transient entry still holds this key's encoding (only its slot memory changes meanwhile).
    if (key === this.transientKey) {
      this.entry = this.transient;
      return;
    }
    this.encodeNew(key);
  }

  /** Remembers the current key when only the transient entry holds it. */
  keep(): void {
    const t = this.transient;
    // A bytes key is not remembered: the memory is keyed by string, and bytes keys are the rare case.
    if (this.entry !== t || this.transientIsBytes) return;
    const entry: EncodedKey = {
      words: t.wordCount > 4 ? t.words.slice(0, t.wordCount) : NO_WORDS,
      word0: t.word0,
      word1: t.word1,
      word2: t.word2,
      word3: t.word3,
      wordCount: t.wordCount,
      length: t.length,
      hashLo: t.hashLo,
      hashHi: t.hashHi,
      home: t.home,
      slot: t.slot,
      generation: t.generation,
    };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(this.transientKey, entry);
    this.entry = entry;
  }

  get length(): number {
    return this.entry.length;
  }

  get hashLo(): number {
    return this.entry.hashLo;
  }

  get hashHi(): number {
    return this.entry.hashHi;
  }

  /** The slot the current key's probe starts at (hash mod slots: a 64-bit modulo, worth remembering). */
  get home(): number {
    return this.entry.home;
  }

  /** A Uint8Array key, its bytes exactly (never remembered), or EINVAL for what is not a key. */
  private encodeOther(key: unknown): void {
    if (!(key instanceof Uint8Array)) {
      throw new SplinterError('EINVAL', `a key must be a string or a Uint8Array, received ${key === null ? 'null' : typeof key}`);
    }
    const length = key.length;
    if (length > KEY_MAX_BYTES) throw new SplinterError('EINVAL', `a key is at most ${KEY_MAX_BYTES} bytes, received a Uint8Array of ${length} bytes`);
    if (key.includes(0)) throw new SplinterError('EINVAL', `a key must not contain NUL, received the bytes "${escapeKey(key)}"`);
    const scratch = this.scratch;
    scratch.set(key);
    fnv1a64Into(scratch, length, this.hash);
    for (let b = length; b < ((length >>> 2) + 1) << 2; b++) scratch[b] = 0;
    this.fillTransient(length);
    this.transientKey = NOT_A_KEY;
    this.transientIsBytes = true;
    // The same key may be remembered as a string, as missing: an insert through its bytes is
    // this handle's own write, which moves no generation, so every memory is doubted once now.
    this.generation++;
  }

  private encodeNew(key: string): void {
    const scratchWords = this.scratchWords;
    let length = key.length;
    // An ASCII key is hashed and cut into words in one pass over its characters; any other is encoded first.
    if (!LITTLE_ENDIAN || !fnv1a64AsciiWords(key, scratchWords, this.hash)) {
      length = this.encodeSlow(key);
      const scratch = this.scratch;
      fnv1a64Into(scratch, length, this.hash);
      // Zeros after the bytes to the end of the last word; the words are read through an Int32Array of the scratch, as slots are read.
      for (let b = length; b < ((length >>> 2) + 1) << 2; b++) scratch[b] = 0;
    }
    this.fillTransient(length);
    this.transientKey = key;
    this.transientIsBytes = false;
  }

  /** The transient entry from the scratch's words and the hash just computed. */
  private fillTransient(length: number): void {
    const scratchWords = this.scratchWords;
    const wordCount = (length >>> 2) + 1;
    const t = this.transient;
    if (wordCount > 4) for (let k = 0; k < wordCount; k++) t.words[k] = scratchWords[k]!;
    // Words past the key are zero (the entry's contract): the scratch holds older keys there.
    t.word0 = scratchWords[0]!;
    t.word1 = wordCount > 1 ? scratchWords[1]! : 0;
    t.word2 = wordCount > 2 ? scratchWords[2]! : 0;
    t.word3 = wordCount > 3 ? scratchWords[3]! : 0;
    t.wordCount = wordCount;
    t.length = length;
    t.hashLo = this.hash.lo;
    t.hashHi = this.hash.hi;
    t.home = homeSlot(this.hash.hi, this.hash.lo, this.slots);
    t.slot = -1;
    t.generation = -1;
    this.entry = t;
  }

  /** UTF-8 into the scratch, checked: a key that is not ASCII, or has a NUL. Returns its length in bytes. */
  private encodeSlow(key: string): number {
    if (key.includes('\0')) throw hasNul(key);
    if (!key.isWellFormed()) {
      throw new SplinterError('EINVAL', `a key must be well-formed Unicode, received ${JSON.stringify(key)} (lone surrogate)`);
    }
    const { written } = utf8.encodeInto(key, this.scratch);
    if (written > KEY_MAX_BYTES) throw tooLong(key, written, false);
    return written;
  }
}

/** Byte `i` (below `e.length`) of an entry's key. */
export function keyByte(e: EncodedKey, i: number): number {
  const k = i >>> 2;
  const word = k === 0 ? e.word0 : k === 1 ? e.word1 : k === 2 ? e.word2 : k === 3 ? e.word3 : e.words[k]!;
  BYTE_VIEW_WORD[0] = word;
  return BYTE_VIEW[i & 3]!; // through a typed array: the platform's byte order, as the words were made
}

/** The words of fnv1a64AsciiWords are little-endian; slots are read through an Int32Array in the platform's order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const BYTE_VIEW_WORD = new Int32Array(1);
const BYTE_VIEW = new Uint8Array(BYTE_VIEW_WORD.buffer);

const NO_WORDS: readonly number[] = [];

/** A string too long to be a key (refused before it is compared): the transient key when it holds none. */
const NOT_A_KEY = 'x'.repeat(KEY_MAX_BYTES + 1);

type MutableEncodedKey = { -readonly [K in keyof EncodedKey]: EncodedKey[K] } & { words: number[] };

/**
 * Past this many UTF-16 units a refused key is not quoted: reading any character of a string
 * built by concatenation or repeat() makes V8 flatten all of it (a 400 MB key: 400 MB, 0.2 s).
 */
const QUOTED_KEY_LIMIT = 4096;

/** `atLeast`: `size` counts UTF-16 units of a string never encoded, a lower bound of its UTF-8 bytes. */
function tooLong(key: string, size: number, atLeast: boolean): SplinterError {
  const received = atLeast ? `a string of ${size} UTF-16 units (at least ${size} bytes)` : `${size} bytes`;
  const shown = key.length > QUOTED_KEY_LIMIT ? '' : `: ${key.length > 80 ? `${JSON.stringify(key.slice(0, 80))}…` : JSON.stringify(key)}`;
  return new SplinterError('EINVAL', `a key is at most ${KEY_MAX_BYTES} UTF-8 bytes, received ${received}${shown}`);
}

function hasNul(key: string): SplinterError {
  return new SplinterError('EINVAL', `a key must not contain NUL, received ${JSON.stringify(key)}`);
}
