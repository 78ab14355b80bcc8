/** The golden stores written by libsplinter 1.2.0 and the ops that made them (read-only: tests copy them). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OURS, OURS_SIZE } from '../../src/layout/constants.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const fixtureDir = process.env['SPLINTER_FIXTURES'] ?? path.join(repoRoot, 'test', 'fixtures', 'c-1.2.0');

export interface FixtureOp {
  op: string;
  rc?: number;
  key?: string;
  value_hex?: string;
  new_len?: number;
  mask?: string | number;
  group?: number;
  mode?: number;
  int_op?: number;
  operand?: string;
  time?: string;
  offset?: number | string;
  seed?: number;
  shard_id?: number;
  pid?: number;
  intent?: number;
  priority?: number;
  duration?: string;
  claimed_at?: string;
  [field: string]: unknown;
}

export interface Fixture {
  name: string;
  description: string;
  slots: number;
  maxValueSize: number;
  embeddings: boolean;
  ops: FixtureOp[];
  /** The raw op lines as the file holds them (what the C peer is sent). */
  opLines: string[];
  image: Uint8Array;
  imagePath: string;
}

export function fixtureNames(): string[] {
  return fs
    .readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.spl'))
    .map((f) => f.slice(0, -'.spl'.length))
    .sort();
}

export function loadFixture(name: string): Fixture {
  const imagePath = path.join(fixtureDir, `${name}.spl`);
  const meta = JSON.parse(fs.readFileSync(`${imagePath}.ops.json`, 'utf8')) as {
    description: string;
    created_by: string;
    slots: number;
    max_val_sz: number;
    ops: FixtureOp[];
  };
  return {
    name,
    description: meta.description,
    slots: meta.slots,
    maxValueSize: meta.max_val_sz,
    embeddings: meta.created_by.includes('EMBEDDINGS'),
    ops: meta.ops,
    opLines: meta.ops.map((op) => JSON.stringify(op)),
    image: new Uint8Array(fs.readFileSync(imagePath)),
    imagePath,
  };
}

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');

/** Removes a store file and the bus doorbell table (and FIFOs) a waiter may have left beside it in /dev/shm. */
export function removeStoreFile(file: string): void {
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile()) return; // directories and links go with the recursive removal of their folder
    const { dev, ino } = stat;
    const prefix = `.splinter-bus-${dev}-${ino}`;
    for (const name of fs.readdirSync('/dev/shm')) {
      if (name === prefix || name.startsWith(`${prefix}.`)) fs.rmSync(`/dev/shm/${name}`, { force: true });
    }
  } catch {
    // no such file: nothing beside it either
  }
  fs.rmSync(file, { force: true });
}

/** A private temporary directory, removed (with the doorbell tables of stores in it) when the test ends. */
export function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-test-'));
  t.teardown(() => {
    for (const name of fs.readdirSync(dir)) removeStoreFile(path.join(dir, name));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A writable copy of a fixture image (the originals are never opened read-write). */
export function copyFixture(t: { teardown(fn: () => void): void }, name: string): string {
  const copy = path.join(tempDir(t), `${name}.spl`);
  fs.copyFileSync(path.join(fixtureDir, `${name}.spl`), copy);
  fs.chmodSync(copy, 0o644);
  return copy;
}

let shmCounter = 0;
/** A shared-memory name unique to this process, unlinked when the test ends. */
export function shmName(t: { teardown(fn: () => void): void }, label = 'store'): string {
  const name = `splinter-test-${process.pid}-${label}-${shmCounter++}`;
  t.teardown(() => removeStoreFile(`/dev/shm/${name}`));
  return name;
}

/** First differing offset of two images, described for a failure message; undefined when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.length !== b.length) return `sizes differ: ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !isOursPadding(i)) {
      const diffs: number[] = [];
      for (let j = i; j < a.length && diffs.length < 16; j++) if (a[j] !== b[j] && !isOursPadding(j)) diffs.push(j);
      return `first difference at byte ${i} (0x${i.toString(16)}): ${a[i]} vs ${b[i]}; differing offsets ${diffs.join(', ')}`;
    }
  }
  return undefined;
}

/**
 * Header padding bytes where processes of ours keep their bookkeeping (OURS in
 * src/layout/constants.ts, docs/format.md): C never reads them, so a store image compared
 * with C's is compared without them.
 */
export function isOursPadding(offset: number): boolean {
  for (const [field, at] of Object.entries(OURS)) {
    if (offset >= at && offset < at + OURS_SIZE[field as keyof typeof OURS]) return true;
  }
  return false;
}
