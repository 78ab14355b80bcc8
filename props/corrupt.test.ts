/**
 * Corruption property: mutate copies of the golden fixture images (bit flips in the header,
 * slots and arena; header fields; val_off / val_len out of range or into another region;
 * odd epochs; keys with no NUL; truncation; extension), then Store.open must either work or
 * throw a SplinterError, and if it opens, every operation must work or throw a SplinterError
 * (never another error, never hang), must not change the file's size or create files, and
 * must write only where it may: reads nothing, setMop the flags byte, set/append/unset of
 * key K only the header's global epoch, signal groups and (bus armed) K's dirty bits, plus
 * the record and home value region of slots that are empty or hold K; purge only slot
 * epochs, val_offs and the arena; any operation, reads included, may also write the header
 * padding our processes keep their bookkeeping in (docs/format.md). Reads (get, getString, getInto, rawView, has, getEpoch,
 * slotSnapshot, keys) must also return what the image says: the first match on the probe
 * path, EAGAIN for an odd epoch, ECORRUPT for a value past the arena, else its exact bytes.
 * Every step runs under a watchdog: one that takes over 10 s is reported with its input
 * and the process is killed (a hang, not a slow test).
 *
 * Each run works on its own temp dir holding only the mutated image (persistent mode: the
 * mapping is the file, so reading the file shows every write). The fixtures themselves are
 * only read (and checked unchanged at the end). Runs: SPLINTER_PROPS_RUNS (default 500);
 * replay: SPLINTER_PROPS_SEED / SPLINTER_PROPS_PATH as printed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { SplinterError, Store } from '../src/index.js';
import { fixtureDir, fixtureNames, loadFixture } from '../test/helpers/fixtures.js';
import { applyMutation, expectedRead, mutationArbitrary, storedKeys, touchedSlot, writableSlots, type ImageGeometry, type Mutation } from './corrupt/image.js';
import { H, HEADER_SIZE, KEY_BYTES, S, describeOffset, isOursPadding } from './lib/layout.js';
import { checkProperty, numRuns, parameters } from './lib/run.js';
import { validKey } from './model/keys.js';
import { Watchdog } from './lib/watchdog.js';

const DEFAULT_RUNS = 500;
/** A step that takes longer than this is a hang (the contention budget is 1 ms). */
const HANG_MS = 10_000;

interface FixtureInfo {
  name: string;
  geo: ImageGeometry;
  image: Uint8Array;
  /** Keys to aim operations at: the stored keys and every key the fixture's ops used. */
  keys: string[];
}

const fixtures: FixtureInfo[] = fixtureNames().map((name) => {
  const f = loadFixture(name);
  const geo = { slots: f.slots, maxValueSize: f.maxValueSize, slotSize: f.embeddings ? 3200 : 128 };
  const keys = new Set(storedKeys(geo, f.image).map((k) => k.key));
  for (const op of f.ops) if (typeof op.key === 'string') keys.add(op.key);
  return { name, geo, image: f.image, keys: [...keys] };
});

// ── Operations ──────────────────────────────────────────────────────────────

/** A key: one the fixture knows, the key of a slot a mutation changed, or any short string. */
type KeyPick = { stored: number } | { touched: number } | { literal: string };
type Op =
  | { kind: 'get' | 'getString' | 'has' | 'getEpoch' | 'rawView' | 'slotSnapshot' | 'getBigUint' | 'getEmbedding' | 'unset'; key: KeyPick }
  | { kind: 'getInto'; key: KeyPick; size: number }
  | { kind: 'set' | 'append'; key: KeyPick; value: Uint8Array; asText: boolean }
  | { kind: 'keys' | 'headerSnapshot' | 'purge' | 'getMop' | 'enumerateMatches' | 'epoch' }
  | { kind: 'setMop'; mode: number };

const keyPick: fc.Arbitrary<KeyPick> = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((stored): KeyPick => ({ stored })) },
  { weight: 3, arbitrary: fc.nat().map((touched): KeyPick => ({ touched })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((literal): KeyPick => ({ literal })) },
);

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom('get', 'getString', 'has', 'getEpoch', 'rawView', 'slotSnapshot', 'getBigUint', 'getEmbedding', 'unset'),
      key: keyPick,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getInto' as const), key: keyPick, size: fc.nat(300) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom('set' as const, 'append' as const),
      key: keyPick,
      value: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 300 })),
      asText: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('keys', 'headerSnapshot', 'purge', 'getMop', 'enumerateMatches', 'epoch') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setMop' as const), mode: fc.constantFrom(0, 1, 2, 3) }) },
);

/** Keys of the slots the current run's mutations changed (read from the fixture before mutating). */
let touchedKeys: string[] = [];

function keyOf(f: FixtureInfo, pick: KeyPick): string {
  if ('literal' in pick) return pick.literal;
  if ('touched' in pick && touchedKeys.length > 0) return touchedKeys[pick.touched % touchedKeys.length]!;
  const n = 'stored' in pick ? pick.stored : pick.touched;
  return f.keys[n % f.keys.length] ?? '';
}

/** Runs one operation; its result is touched as a caller would (views read, stillValid asked). */
function runOp(store: Store, f: FixtureInfo, op: Op): unknown {
  switch (op.kind) {
    case 'get':
      return store.get(keyOf(f, op.key));
    case 'getString':
      return store.getString(keyOf(f, op.key));
    case 'has':
      return store.has(keyOf(f, op.key));
    case 'getEpoch':
      return store.getEpoch(keyOf(f, op.key));
    case 'rawView': {
      const view = store.rawView(keyOf(f, op.key));
      if (view === undefined) return undefined;
      const bytes = view.bytes.slice();
      if (!view.stillValid()) throw new Error('rawView: stillValid() is false with no writer about');
      return bytes;
    }
    case 'slotSnapshot':
      return store.slotSnapshot(keyOf(f, op.key));
    case 'getBigUint':
      return store.getBigUint(keyOf(f, op.key));
    case 'getEmbedding':
      return store.getEmbedding(keyOf(f, op.key))?.length;
    case 'unset':
      return store.unset(keyOf(f, op.key));
    case 'getInto': {
      const target = new Uint8Array(op.size);
      const length = store.getInto(keyOf(f, op.key), target);
      return length < 0 ? length : { length, bytes: target.slice(0, length) };
    }
    case 'set':
      return store.set(keyOf(f, op.key), op.asText ? Buffer.from(op.value).toString('latin1') : op.value);
    case 'append':
      return store.append(keyOf(f, op.key), op.asText ? Buffer.from(op.value).toString('latin1') : op.value);
    case 'keys':
      return store.keys();
    case 'headerSnapshot':
      return store.headerSnapshot();
    case 'purge':
      return store.purge();
    case 'getMop':
      return store.getMop();
    case 'enumerateMatches':
      return store.enumerateMatches(1n);
    case 'epoch':
      return store.epoch;
    case 'setMop':
      return store.setMop(op.mode as 0 | 1 | 2);
  }
}

/**
 * Where an operation may change the file (given the image before it): a predicate over a
 * byte offset and its old and new values.
 */
type MayWrite = (offset: number, was: number, now: number) => boolean;

/** Slots whose val_off is not their own region (C's BIGUINT relocation, docs/spec/FORMAT.md §9 Q3, or damage). */
function relocatedSlots(g: FixtureInfo['geo'], image: Uint8Array): number[] {
  const dv = new DataView(image.buffer, image.byteOffset, image.length);
  const moved: number[] = [];
  for (let j = 0; j < g.slots; j++) {
    if (dv.getUint32(HEADER_SIZE + j * g.slotSize + S.val_off, true) !== j * g.maxValueSize) moved.push(j);
  }
  return moved;
}

function mayWrite(f: FixtureInfo, op: Op, before: Uint8Array): MayWrite {
  const g = f.geo;
  const arena = HEADER_SIZE + g.slots * g.slotSize;
  switch (op.kind) {
    case 'setMop':
      return (i) => i === H.core_flags;
    case 'purge':
      return (i) => {
        if (i >= arena) return true;
        if (i < HEADER_SIZE) return false;
        const rel = (i - HEADER_SIZE) % g.slotSize;
        return (rel >= S.epoch && rel < S.epoch + 8) || (rel >= S.val_off && rel < S.val_off + 4);
      };
    case 'set':
    case 'append':
    case 'unset': {
      const slots = writableSlots(g, before, keyOf(f, op.key));
      // Values C relocated (val_off outside the slot's own region) are moved home before our first write.
      for (const j of relocatedSlots(g, before)) slots.add(j);
      const dirtyBits = new Set([...slots].map((j) => j % 1024));
      return (i, was, now) => {
        if (i < HEADER_SIZE) {
          if ((i >= H.epoch && i < H.epoch + 8) || (i >= H.signal_groups && i < H.dirty_mask)) return true;
          // With an event bus armed (owner_fd ≠ -1), a write sets its slot's dirty bit; bits are never cleared.
          if (i >= H.dirty_mask && i < H.owner_fd) {
            if ((was & ~now) !== 0) return false;
            const added = now & ~was;
            for (let bit = 0; bit < 8; bit++) if (added & (1 << bit) && !dirtyBits.has((i - H.dirty_mask) * 8 + bit)) return false;
            return true;
          }
          return false;
        }
        if (i < arena) return slots.has(Math.floor((i - HEADER_SIZE) / g.slotSize));
        return slots.has(Math.floor((i - arena) / g.maxValueSize));
      };
    }
    default:
      return () => false; // reads change nothing
  }
}

const READS = new Set(['get', 'getString', 'getInto', 'rawView', 'has', 'getEpoch', 'slotSnapshot']);

/**
 * For reads of one key, what the outcome must be, worked out from the image alone: the
 * first match on the probe path; EAGAIN if its epoch is odd (no one will release it),
 * ECORRUPT if its value lies past the arena, else exactly the bytes val_off/val_len name.
 * Returns a problem, or undefined when the outcome is right.
 */
function checkRead(f: FixtureInfo, op: Op, image: Uint8Array, result: { value: unknown } | { error: SplinterError }): string | undefined {
  if (op.kind === 'keys') {
    // C's list: slots with a hash and a non-empty value, in slot order; a key with no NUL is ECORRUPT.
    const got = 'error' in result ? result.error.code : showResult(result.value);
    const dv = new DataView(image.buffer, image.byteOffset, image.length);
    const listed = storedKeys(f.geo, image).filter((k) => dv.getUint32(HEADER_SIZE + k.index * f.geo.slotSize + S.val_len, true) !== 0);
    const expected = listed.some((k) => k.bytes.length === KEY_BYTES) ? 'ECORRUPT' : showResult(listed.map((k) => listedKey(k.bytes)));
    return got === expected ? undefined : `expected ${expected}, got ${got}`;
  }
  if (!('key' in op) || !READS.has(op.kind)) return undefined;
  const key = keyOf(f, op.key);
  const got = 'error' in result ? `${result.error.code}` : showResult(result.value);
  const want = (expected: string): string | undefined => (got === expected ? undefined : `expected ${expected}, got ${got}`);
  if (!validKey(key)) return want('EINVAL');
  const e = expectedRead(f.geo, image, key);
  if (op.kind === 'has') return want(showResult(e.kind !== 'missing'));
  if (op.kind === 'getEpoch') return want(showResult(e.kind === 'missing' ? 0n : e.epoch));
  if (e.kind === 'missing') return want(showResult(op.kind === 'getInto' ? -1 : undefined));
  if (e.kind === 'busy') return want('EAGAIN');
  if (op.kind === 'slotSnapshot') {
    if ('error' in result) return want('a snapshot');
    const snap = result.value as { index: number; epoch: bigint };
    return snap.index === e.index && snap.epoch === e.epoch ? undefined : `expected slot ${e.index} epoch ${e.epoch}, got ${got}`;
  }
  if (e.kind === 'corrupt') return want('ECORRUPT');
  // val_len over maxValueSize (8 for a BIGUINT C relocated into a store of shorter values) is
  // corrupt even inside the arena: it would read into the next slot's value.
  if (e.bytes.length > Math.max(f.geo.maxValueSize, 8)) return want('ECORRUPT');
  switch (op.kind) {
    case 'get':
      return want(showResult(e.bytes));
    case 'getString':
      return want(showResult(new TextDecoder().decode(e.bytes)));
    case 'rawView':
      return want(showResult(e.bytes));
    case 'getInto':
      return want(e.bytes.length > op.size ? 'EMSGSIZE' : showResult({ length: e.bytes.length, bytes: e.bytes }));
  }
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** How keys() gives a stored key back: a string when its bytes are UTF-8, else the bytes themselves (docs/api.md, "Keys are bytes"). */
function listedKey(bytes: Uint8Array): string | Uint8Array {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes;
  }
}

function showResult(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)) ?? 'undefined';
}

function unexpected(what: string, error: unknown): Error {
  return new Error(`${what} threw ${error instanceof Error ? `${error.constructor.name} (${error.name}): ${error.message}` : String(error)}, not a SplinterError`);
}

function checkWrites(f: FixtureInfo, what: string, before: Uint8Array, after: Uint8Array, allowed: MayWrite): void {
  if (after.length !== before.length) throw new Error(`${what}: the file went from ${before.length} to ${after.length} bytes`);
  const bad: string[] = [];
  for (let i = 0; i < after.length && bad.length < 8; i++) {
    // Any operation may write the header padding our processes keep their bookkeeping in (lookups walk and raise the reach there).
    if (after[i] !== before[i] && !isOursPadding(i) && !allowed(i, before[i]!, after[i]!)) {
      bad.push(`${describeOffset({ slots: f.geo.slots, maxValueSize: f.geo.maxValueSize }, i)} (offset ${i}): ${before[i]} → ${after[i]}`);
    }
  }
  if (f.geo.slotSize !== 128 && bad.length > 0) bad.push('(offsets named for 128-byte slots; this store has 3200-byte slots)');
  if (bad.length > 0) throw new Error(`${what} wrote where it may not:\n  ${bad.join('\n  ')}`);
}

function checkDir(dir: string, what: string): void {
  const entries = fs.readdirSync(dir);
  if (entries.length !== 1 || entries[0] !== 'store.spl') throw new Error(`${what}: the temp dir now holds ${JSON.stringify(entries)}`);
}

// ── The property ────────────────────────────────────────────────────────────

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const originals = new Map(fixtureNames().map((n) => [n, sha(fs.readFileSync(path.join(fixtureDir, `${n}.spl`)))]));

t.test('corrupted fixture images: open and every operation work or throw SplinterError, and write only where they may', async (t) => {
  const watchdog = new Watchdog(HANG_MS);
  t.teardown(() => watchdog.stop());
  const params = parameters<[number, Mutation[], Op[]]>(DEFAULT_RUNS);
  const outcomes = new Map<string, number>();
  const count = (label: string): void => void outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
  let run = 0;

  const property = fc.property(
    fc.nat(fixtures.length - 1),
    fc.array(mutationArbitrary(), { minLength: 1, maxLength: 4, size: 'max' }),
    fc.array(opArbitrary, { minLength: 1, maxLength: 24, size: 'max' }),
    (which, mutations, ops) => {
      const f = fixtures[which]!;
      run++;
      const input = `seed ${params.seed}, run ${run}: ${f.name}, mutations ${JSON.stringify(mutations)}`;
      let image = f.image;
      const stored = new Map(storedKeys(f.geo, f.image).map((k) => [k.index, k.key]));
      touchedKeys = [];
      for (const m of mutations) {
        const slot = touchedSlot(f.geo, image, m);
        const key = slot === undefined ? undefined : stored.get(slot);
        if (key !== undefined) touchedKeys.push(key);
        image = applyMutation(f.geo, image, m);
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-corrupt-'));
      try {
        const file = path.join(dir, 'store.spl');
        fs.writeFileSync(file, image);
        let store: Store;
        watchdog.arm(`${input}\nStore.open`);
        try {
          store = Store.open(file, { contentionBudgetMs: 1 });
        } catch (error) {
          if (!(error instanceof SplinterError)) throw unexpected('Store.open', error);
          count(`open refused: ${error.code}`);
          const after = fs.readFileSync(file);
          if (Buffer.compare(after, image) !== 0) throw new Error('a refused Store.open changed the file');
          checkDir(dir, 'Store.open');
          return;
        } finally {
          watchdog.disarm();
        }
        count('opened');
        try {
          for (const [i, op] of ops.entries()) {
            const what = `op ${i} ${JSON.stringify(op, (_k, v: unknown) => (v instanceof Uint8Array ? `${v.length} bytes` : v))} (key ${'key' in op ? JSON.stringify(keyOf(f, op.key)) : '-'})`;
            const before = new Uint8Array(fs.readFileSync(file));
            watchdog.arm(`${input}\n${what}`);
            let result: { value: unknown } | { error: SplinterError };
            try {
              result = { value: runOp(store, f, op) };
              count(`${op.kind}: ok`);
            } catch (error) {
              if (!(error instanceof SplinterError)) throw unexpected(what, error);
              result = { error };
              count(`${op.kind}: ${error.code}`);
            } finally {
              watchdog.disarm();
            }
            const problem = checkRead(f, op, before, result);
            if (problem !== undefined) throw new Error(`${what}: ${problem}`);
            checkWrites(f, what, before, new Uint8Array(fs.readFileSync(file)), mayWrite(f, op, before));
            checkDir(dir, what);
          }
        } finally {
          const size = fs.statSync(file).size;
          watchdog.arm(`${input}\nclose`);
          store.close();
          watchdog.disarm();
          if (fs.statSync(file).size !== size) throw new Error('close changed the file size');
        }
        try {
          store.get('after close');
          throw new Error('get after close returned instead of throwing ECLOSED');
        } catch (error) {
          if (!(error instanceof SplinterError) || error.code !== 'ECLOSED') throw unexpected('get after close', error);
        }
        checkDir(dir, 'close');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
  await checkProperty(t, 'corrupt', property, params);
  const summary = [...outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`);
  t.comment(`outcomes (including shrinking):\n${summary.join('\n')}`);
  if (numRuns(DEFAULT_RUNS) >= DEFAULT_RUNS) {
    t.ok((outcomes.get('opened') ?? 0) > numRuns(DEFAULT_RUNS) / 5, 'a fair share of mutated images still open (so operations run on them)');
  }
  for (const [name, digest] of originals) {
    t.equal(sha(fs.readFileSync(path.join(fixtureDir, `${name}.spl`))), digest, `fixture ${name} unchanged`);
  }
});
