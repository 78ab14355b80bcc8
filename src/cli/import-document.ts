/**
 * Reading an `export` document back for `import`: every field is checked before anything is
 * written, so a bad document fails whole, naming the entry and what was expected and received.
 */
import { SplinterError } from '../errors.js';
import { KEY_MAX_BYTES, SPLINTER_BLOOM_BITS, SPLINTER_EMBED_DIM, SPLINTER_MAX_GROUPS, U64_MAX } from '../layout/constants.js';
import { escapeKey, type Key, keyBytes, keyIdentity, keyOfBytes } from '../facade/inspect.js';
import { counted, parseType } from './values.js';

/** What the target store can take: its geometry, and the namespace keys go into. */
export interface ImportTarget {
  slots: number;
  maxValueSize: number;
  embeddings: boolean;
  prefix: string;
}

/** One key of the document, checked, with the prefix put before it. */
export interface ImportEntry {
  key: Key;
  value: Uint8Array;
  typeFlag: number | undefined;
  labels: bigint;
  watchers: bigint;
  ctime: bigint | undefined;
  atime: bigint | undefined;
  embedding: Float32Array | undefined;
}

export interface ImportDocument {
  entries: ImportEntry[];
  /** Label bit → signal group. */
  labelGroups: Map<number, number>;
}

/** Per key in the largest document a store takes: its key (escaped and in hex), its metadata and indentation. */
const KEY_OVERHEAD = 2048;
const MARGIN = 64 * 1024;
/** V8's longest string (2^29 − 24 UTF-16 units): a document is decoded into one, so it is at most that many bytes. */
const LONGEST_STRING = 2 ** 29 - 24;

/**
 * The most bytes a document that fits the store can hold: every slot filled with a value at
 * its largest in its longest encoding (JSON-escaped text is at most 2 bytes a byte, base64 4/3),
 * its embedding in base64, and the fields around it; plus a margin for the header. Never more than
 * one string can hold.
 */
export function documentLimit(target: Omit<ImportTarget, 'prefix'>): number {
  const embedding = target.embeddings ? Math.ceil((SPLINTER_EMBED_DIM * 4) / 3) * 4 : 0;
  return Math.min(target.slots * (2 * target.maxValueSize + embedding + KEY_OVERHEAD) + MARGIN, LONGEST_STRING);
}

const invalid = (message: string): SplinterError => new SplinterError('EINVAL', message);
const received = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The document in `bytes`, checked against the store it goes into.
 * @throws SplinterError EINVAL for a document that is not an export (not UTF-8, not JSON, a wrong shape, a bad key,
 *   base64, type, mask or time, a duplicate key); EMSGSIZE for a value the store cannot hold; ENOTSUP for an
 *   embedding a store without embeddings cannot keep; ENOSPC for more keys than the store has slots.
 */
export function parseImportDocument(bytes: Uint8Array, target: ImportTarget): ImportDocument {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw invalid('an import document is the JSON that export writes, received bytes that are not UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw invalid(`an import document is the JSON that export writes, received text that is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(doc) || doc['format'] !== 'splinter-export') {
    throw invalid(`an import document is an object with "format": "splinter-export", received ${isRecord(doc) ? `"format": ${received(doc['format'])}` : received(doc)}`);
  }
  if (doc['formatVersion'] !== undefined && doc['formatVersion'] !== 1) {
    throw invalid(`an import document has "formatVersion": 1, received ${received(doc['formatVersion'])}`);
  }
  const keys = doc['keys'];
  if (!Array.isArray(keys)) throw invalid(`an import document has "keys": an array, received ${received(keys)}`);
  if (keys.length > target.slots) {
    throw new SplinterError('ENOSPC', `the document has ${counted(keys.length, 'key')} and the store only ${counted(target.slots, 'slot')}`);
  }
  const seen = new Map<string, number>();
  const entries = keys.map((item, index) => {
    const entry = parseEntry(item, index, target);
    const identity = keyIdentity(entry.key);
    const first = seen.get(identity);
    if (first !== undefined) throw invalid(`keys[${index}]: the key ${received(escapeKey(entry.key))} is already keys[${first}]; a key appears once`);
    seen.set(identity, index);
    return entry;
  });
  return { entries, labelGroups: parseLabelGroups(doc['labelGroups']) };
}

function parseLabelGroups(value: unknown): Map<number, number> {
  const groups = new Map<number, number>();
  if (value === undefined) return groups;
  if (!isRecord(value)) throw invalid(`"labelGroups" is an object of label bit to signal group, received ${received(value)}`);
  for (const [bitText, group] of Object.entries(value)) {
    const bit = /^\d{1,2}$/.test(bitText) ? Number(bitText) : NaN;
    if (!(bit < SPLINTER_BLOOM_BITS)) throw invalid(`"labelGroups": a label bit is 0..${SPLINTER_BLOOM_BITS - 1}, received ${received(bitText)}`);
    if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group >= SPLINTER_MAX_GROUPS) {
      throw invalid(`"labelGroups" bit ${bit}: a signal group is 0..${SPLINTER_MAX_GROUPS - 1}, received ${received(group)}`);
    }
    groups.set(bit, group);
  }
  return groups;
}

function parseEntry(item: unknown, index: number, target: ImportTarget): ImportEntry {
  const at = `keys[${index}]`;
  if (!isRecord(item)) throw invalid(`${at}: a key is an object, received ${received(item)}`);
  const key = parseKey(item, at, target.prefix);
  const named = `${at} (${received(escapeKey(key))})`;
  const value = parseValue(item, named, target.maxValueSize);
  const embedding = parseEmbedding(item['embedding'], named, target.embeddings);
  return {
    key,
    value,
    typeFlag: parseTypeFlag(item, named),
    labels: parseMask64(item['labels'], `${named} "labels"`),
    watchers: parseMask64(item['watchers'], `${named} "watchers"`),
    ctime: parseTime(item['ctime'], `${named} "ctime"`),
    atime: parseTime(item['atime'], `${named} "atime"`),
    embedding,
  };
}

/** The key's bytes: "keyHex" when present (it must agree with "key"), else the text of "key", the prefix before it. */
function parseKey(item: Record<string, unknown>, at: string, prefix: string): Key {
  const text = item['key'];
  if (typeof text !== 'string') throw invalid(`${at}: "key" is a string, received ${received(text)}`);
  const hex = item['keyHex'];
  let key: Key = text;
  if (hex !== undefined) {
    if (typeof hex !== 'string' || !/^(?:[0-9a-f]{2})+$/i.test(hex)) throw invalid(`${at}: "keyHex" is the key's bytes as pairs of hex digits, received ${received(hex)}`);
    key = keyOfBytes(Buffer.from(hex, 'hex'));
    if (escapeKey(key) !== text) throw invalid(`${at}: "keyHex" is the key ${received(escapeKey(key))} and "key" says ${received(text)}; they must name the same key`);
  } else if (!text.isWellFormed()) {
    throw invalid(`${at}: "key" is well-formed Unicode (a key that is not UTF-8 has "keyHex"), received ${received(text)}`);
  }
  const bytes = new Uint8Array([...keyBytes(prefix), ...keyBytes(key)]);
  if (bytes.includes(0)) throw invalid(`${at}: a key has no NUL byte, received ${received(escapeKey(key))}`);
  if (bytes.length > KEY_MAX_BYTES) {
    const which = prefix === '' ? '' : ` with the prefix ${received(prefix)}`;
    throw invalid(`${at}: a key is at most ${KEY_MAX_BYTES} bytes, received ${received(escapeKey(key))}, ${bytes.length} bytes${which}`);
  }
  return prefix === '' ? key : keyOfBytes(bytes);
}

function parseValue(item: Record<string, unknown>, named: string, maxValueSize: number): Uint8Array {
  const encoding = item['encoding'];
  const text = item['value'];
  if (typeof text !== 'string') throw invalid(`${named}: "value" is a string, received ${received(text)}`);
  let value: Uint8Array;
  if (encoding === 'utf8') value = Buffer.from(text, 'utf8');
  else if (encoding === 'base64') value = decodeBase64(text, `${named} "value"`);
  else throw invalid(`${named}: "encoding" is "utf8" or "base64", received ${received(encoding)}`);
  if (encoding === 'utf8' && !text.isWellFormed()) throw invalid(`${named}: a "utf8" value is well-formed Unicode, received ${received(text)}`);
  const length = item['length'];
  if (length !== undefined && length !== value.length) throw invalid(`${named}: "length" says ${received(length)} and the value is ${value.length} bytes`);
  if (value.length < 1 || value.length > maxValueSize) {
    throw new SplinterError('EMSGSIZE', `${named}: a value is 1..${maxValueSize} bytes in this store, received ${value.length} bytes`);
  }
  return value;
}

/** Strict base64: Buffer.from would skip what is not base64 and read the rest. */
function decodeBase64(text: string, what: string): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw invalid(`${what} is base64 (A-Z a-z 0-9 + /, = padding), received ${received(text)}`);
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** "typeFlag" (a byte) and "type" (its names); both when both are given must agree. */
function parseTypeFlag(item: Record<string, unknown>, named: string): number | undefined {
  const flag = item['typeFlag'];
  const name = item['type'];
  if (flag !== undefined && (typeof flag !== 'number' || !Number.isInteger(flag) || flag < 0 || flag > 0xff)) {
    throw invalid(`${named}: "typeFlag" is 0..255, received ${received(flag)}`);
  }
  if (name === undefined) return flag as number | undefined;
  if (typeof name !== 'string') throw invalid(`${named}: "type" is a type name, received ${received(name)}`);
  let mask: number;
  try {
    mask = name === 'none' ? 0 : parseType(name, 'import');
  } catch (error) {
    throw invalid(`${named}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (flag !== undefined && flag !== mask) throw invalid(`${named}: "type" ${received(name)} is ${mask}, and "typeFlag" says ${flag}`);
  return mask;
}

function parseMask64(value: unknown, what: string): bigint {
  if (value === undefined) return 0n;
  const mask = typeof value === 'string' && /^0x[0-9a-f]{1,16}$/i.test(value) ? BigInt(value) : undefined;
  if (mask === undefined) throw invalid(`${what} is a 64-bit mask in hex (0x…), received ${received(value)}`);
  return mask;
}

function parseTime(value: unknown, what: string): bigint | undefined {
  if (value === undefined) return undefined;
  const time = typeof value === 'string' && /^\d{1,20}$/.test(value) ? BigInt(value) : typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
  if (time === undefined || time > U64_MAX) throw invalid(`${what} is an unsigned 64-bit number (a decimal string), received ${received(value)}`);
  return time;
}

function parseEmbedding(value: unknown, named: string, storeHasEmbeddings: boolean): Float32Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${named}: "embedding" is base64, received ${received(value)}`);
  if (!storeHasEmbeddings) {
    throw new SplinterError('ENOTSUP', `${named} has an embedding and this store has none (create it with: splinter init --embeddings)`);
  }
  const bytes = decodeBase64(value, `${named} "embedding"`);
  if (bytes.length !== SPLINTER_EMBED_DIM * 4) {
    throw invalid(`${named}: "embedding" is ${SPLINTER_EMBED_DIM} float32 (${SPLINTER_EMBED_DIM * 4} bytes), received ${bytes.length} bytes`);
  }
  return new Float32Array(bytes.buffer, bytes.byteOffset, SPLINTER_EMBED_DIM);
}
