/**
 * A read-only reader of a store's bytes through the layout constants, for `doctor` and
 * `stats`: it trusts nothing in the header, so a damaged store can still be diagnosed.
 * It reads the file (for /dev/shm objects the page cache is the shared memory itself),
 * never maps it and never writes.
 */
import fs from 'node:fs';
import { HEADER, KEY_MAX, SLOT, SPLINTER_MAGIC } from '../layout/constants.js';
import { detectEmbeddings, offsetsOf, storeSize, type Geometry, type Offsets } from '../layout/geometry.js';
import { type DecodedSlot, decodeHeader, decodeSlot, type HeaderSnapshot, shorterThanHeader, type StoreWords, wordsOf } from '../facade/inspect.js';

/** The header as read from the raw bytes: the library's snapshot fields, trusted for nothing. */
export type RawHeader = HeaderSnapshot;

/** A slot as read from the raw bytes: the library's snapshot fields, with the key as bytes. */
export interface RawSlot extends DecodedSlot<Uint8Array> {
  /** False when the 64 key bytes hold no NUL (the key is then all 64 of them). */
  keyTerminated: boolean;
}

/** One open, read-only store file. */
export class RawStore {
  readonly size: number;
  private readonly fd: number;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    this.size = fs.fstatSync(fd).size;
  }

  /** Opens `path` read-only; ENOENT and EACCES come back as Node errors. */
  static open(path: string): RawStore {
    const fd = fs.openSync(path, fs.constants.O_RDONLY);
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
    }
    return new RawStore(path, fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  read(position: number, length: number): Buffer {
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, this.size - position)));
    let done = 0;
    while (done < buffer.length) {
      const n = fs.readSync(this.fd, buffer, done, buffer.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === buffer.length ? buffer : buffer.subarray(0, done);
  }

  /** The header fields, read as they are; undefined when the file is shorter than a header (now, whatever its size was at open). */
  header(): RawHeader | undefined {
    const bytes = this.read(0, HEADER.size);
    return bytes.length < HEADER.size ? undefined : decodeHeader(wordsOf(bytes));
  }

  /** Reads slots [from, from + count) of a store with offsets `o`. */
  slots(o: Offsets, from: number, count: number): RawSlot[] {
    const buffer = this.read(o.slotsStart + from * o.slotSize, count * o.slotSize);
    const words = wordsOf(buffer);
    const out: RawSlot[] = [];
    for (let k = 0; k * o.slotSize + SLOT.key + KEY_MAX <= buffer.length && k < count; k++) {
      out.push(rawSlot(words, k * o.slotSize, from + k));
    }
    return out;
  }

  slot(o: Offsets, index: number): RawSlot | undefined {
    return this.slots(o, index, 1)[0];
  }
}

function rawSlot(words: StoreWords, at: number, index: number): RawSlot {
  const keyField = words.u8.subarray(at + SLOT.key, at + SLOT.key + KEY_MAX);
  const nul = keyField.indexOf(0);
  const key = new Uint8Array(keyField.subarray(0, nul < 0 ? KEY_MAX : nul));
  return { ...decodeSlot(words, at, index, key), keyTerminated: nul >= 0 };
}

/** What the header and the file size say about the geometry. */
export type GeometryCheck =
  | { ok: true; geometry: Geometry; offsets: Offsets }
  | { ok: false; kind: 'truncated' | 'magic' | 'version' | 'geometry' | 'size'; message: string };

export function checkGeometry(size: number, header: RawHeader | undefined, where: string): GeometryCheck {
  if (header === undefined || size < HEADER.size) {
    return { ok: false, kind: 'truncated', message: `${where} is ${size} bytes; a store is at least ${HEADER.size} bytes (its header)` };
  }
  if (header.magic !== SPLINTER_MAGIC) {
    const hex = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;
    return { ok: false, kind: 'magic', message: `${where} has magic ${hex(header.magic)}, expected ${hex(SPLINTER_MAGIC)}: not a Splinter store` };
  }
  if (header.version !== 4) {
    return { ok: false, kind: 'version', message: `${where} is format version ${header.version}; format version 4 is what this tool reads` };
  }
  if (header.slots === 0 || header.maxValueSize === 0) {
    return { ok: false, kind: 'geometry', message: `${where} declares ${header.slots} slots of ${header.maxValueSize} bytes; both must be at least 1` };
  }
  const embeddings = detectEmbeddings(size, header.slots, header.maxValueSize);
  if (embeddings === undefined && size < storeSize(header.slots, header.maxValueSize, false)) {
    return { ok: false, kind: 'truncated', message: shorterThanHeader(where, size, header.slots, header.maxValueSize, header.valSz) };
  }
  if (embeddings === undefined) {
    return {
      ok: false,
      kind: 'size',
      message:
        `the header says ${header.slots} slots × ${header.maxValueSize} bytes, which is ${storeSize(header.slots, header.maxValueSize, false)} bytes ` +
        `(or ${storeSize(header.slots, header.maxValueSize, true)} with embeddings), but ${where} is ${size} bytes`,
    };
  }
  const geometry = { slots: header.slots, maxValueSize: header.maxValueSize, embeddings };
  return { ok: true, geometry, offsets: offsetsOf(geometry) };
}

/** Calls `visit` for every slot, reading `chunk` slots at a time. */
export function forEachSlot(raw: RawStore, o: Offsets, slots: number, visit: (slot: RawSlot) => void, chunk = 4096): void {
  for (let from = 0; from < slots; from += chunk) {
    for (const slot of raw.slots(o, from, Math.min(chunk, slots - from))) visit(slot);
  }
}
