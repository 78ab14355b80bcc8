/**
 * Concurrency torture: splinter-ts and the C peer (standing in for libsplinter) on one
 * /dev/shm store at the same time, each in its own process.
 *
 *  a. the C peer writes one key while our processes read it (get, getInto);
 *  b. one of our processes writes while C peers read (torture_read);
 *  c. several of our writers on one key, read by ours and by C; ours and C writing one key
 *     at once (C may store it twice, docs/spec/FORMAT.md §9 Q1: every copy must go with repeated unsets);
 *     and our writers racing to insert the same new keys while another process opens holes
 *     on their probe paths: no key may end up stored twice;
 *  d. a dead writer: a slot left odd makes every operation end in EAGAIN, quickly, and
 *     retrainSlot frees it;
 *  e. unset and re-insert under readers (the epoch ABA): ours, then the C peer, cycle set,
 *     set, unset on a 64 KiB value while two of our processes read it; nothing torn.
 *
 * Every value is a torture value (test/peer/README.md): seq, filler, FNV-1a checksum, so a
 * torn copy cannot pass. Per-case duration: SPLINTER_TORTURE_SECONDS (default 2).
 * SPLINTER_TORTURE_REPORT=file.json also writes the figures there.
 */
import fs from 'node:fs';
import t from 'tap';
import { isSplinterError, SplinterError, Store } from '../../src/index.js';
import { HEADER, SLOT, SLOT_SIZE } from '../../src/layout/constants.js';
import type { Test } from '../helpers/assert.js';
import { shmName, toHex } from '../helpers/fixtures.js';
import type { PeerAnswer } from '../helpers/peer.js';
import { newTortureCheck, tortureValue, verifyTorture } from '../helpers/torture-value.js';
import { ChildPool, Fleet, type Child } from './children.js';
import type { ChurnerReport, InserterReport } from './torture-insert.js';
import type { ReaderReport } from './torture-reader.js';
import { CYCLE_FIRST_SEQ, type CyclerReport, type WriterReport } from './torture-writer.js';
import { retryingEagain } from '../helpers/retry.js';

const SECONDS = (() => {
  const raw = process.env['SPLINTER_TORTURE_SECONDS'];
  const value = raw === undefined || raw === '' ? 2 : Number(raw);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`SPLINTER_TORTURE_SECONDS must be a positive number, received ${raw}`);
  return value;
})();
/** How long a child may take to start (tsx compiles on the fly) and, on top of the run, to answer. */
const START_TIMEOUT_MS = 15_000;
const ANSWER_TIMEOUT_MS = SECONDS * 1000 + 10_000;
const GEOMETRY = { slots: 64, maxValueSize: 512 };
/** The most of our processes a case runs at once. */
const POOL_SIZE = 3;
const KEY = 'torture/key';

interface Figure {
  direction: string;
  reader: string;
  reads: number;
  readsPerSecond: number;
  eagain: number;
  eagainRate: number;
  torn: number;
  regressions: number;
}
const figures: Figure[] = [];
/** Other measured figures (writers, the insert race, the dead writer), for the summary and the report file. */
const notes: Record<string, unknown> = {};

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (n: number): string => `${(n * 100).toFixed(n < 0.001 ? 4 : 2)}%`;

function record(t: Test, direction: string, reader: string, r: { reads: number; eagain: number; torn: number; regressions: number }, seconds: number): void {
  const attempts = r.reads + r.eagain;
  const figure: Figure = {
    direction,
    reader,
    reads: r.reads,
    readsPerSecond: r.reads / seconds,
    eagain: r.eagain,
    eagainRate: attempts === 0 ? 0 : r.eagain / attempts,
    torn: r.torn,
    regressions: r.regressions,
  };
  figures.push(figure);
  t.comment(
    `${direction} | ${reader}: ${fmt(figure.readsPerSecond)} reads/s (${fmt(r.reads)} in ${seconds.toFixed(2)} s), ` +
      `EAGAIN ${fmt(r.eagain)} (${pct(figure.eagainRate)}), torn ${r.torn}, regressions ${r.regressions}`,
  );
}

/** A fleet whose C peers are killed when the test ends, however it ends. */
function fleetFor(t: Test): Fleet {
  const fleet = new Fleet(START_TIMEOUT_MS);
  t.teardown(() => fleet.killAll());
  return fleet;
}

// Long runs (SPLINTER_TORTURE_SECONDS) get a file timeout to match: the timed cases take up
// to 6.5 × the duration, and the unset cases up to 2 × 20 rounds more; allow that and half again, plus room for starting processes.
t.setTimeout(Math.max(240_000, (70 * SECONDS + 90) * 1000));

// Our processes start now (tsx takes a while) and serve every case; the encoding check
// below runs meanwhile. They are ended when the file ends, however it ends.
const pool = new ChildPool(POOL_SIZE, START_TIMEOUT_MS, 3 * SECONDS * 1000 + 2 * ANSWER_TIMEOUT_MS + 60_000);
t.teardown(() => pool.shutdown());

/** Ends a case: our processes drop their handle on its store, the C peers exit. */
async function endCase(fleet: Fleet, name: string): Promise<void> {
  await pool.release(name);
  await fleet.shutdown();
}

/** The store for one case, on /dev/shm, closed and unlinked at teardown; `seedKey` is set to the value of seq 0. */
function tortureStore(t: Test, label: string, geometry = GEOMETRY, seedKey: string | null = KEY): { name: string; store: Store } {
  const name = shmName(t, label);
  const store = Store.create(name, geometry);
  t.teardown(() => store.close());
  if (seedKey !== null) store.set(seedKey, tortureValue(0, geometry.maxValueSize));
  return { name, store };
}

function cReadReport(a: PeerAnswer): ReaderReport {
  return {
    reads: Number(a['reads']),
    eagain: Number(a['eagain']),
    torn: Number(a['torn']),
    regressions: Number(a['regressions']),
    missing: Number(a['missing']),
    missingAfterSeen: Number(a['missing']),
    errors: a.rc === 0 ? 0 : 1,
    maxSeq: Number(a['max_seq']),
    writersSeen: 1,
    seconds: SECONDS,
    tornSamples: [],
    errorSamples: a.rc === 0 ? [] : [JSON.stringify(a)],
  };
}

function checkReader(t: Test, who: string, r: ReaderReport, { regressionsMatter = true } = {}): void {
  t.ok(r.reads > 0, `${who}: read the key (${r.reads} reads)`);
  t.equal(r.torn, 0, `${who}: no torn value accepted`, { samples: r.tornSamples });
  if (regressionsMatter) t.equal(r.regressions, 0, `${who}: seq never went back`);
  t.equal(r.missingAfterSeen, 0, `${who}: the key never went missing`);
  t.equal(r.errors, 0, `${who}: no error other than EAGAIN`, { samples: r.errorSamples });
}


/** The value of KEY as the store holds it now: verified, with its seq. */
function finalSeq(t: Test, bytes: Uint8Array | undefined, maxValueSize: number, who: string): number {
  const check = newTortureCheck();
  if (bytes === undefined) {
    t.fail(`${who}: the key is gone`);
    return -1;
  }
  t.ok(verifyTorture(bytes, bytes.length, maxValueSize, check), `${who}: the final value is intact (${check.verdict})`);
  return check.seq;
}

t.test('the torture encoding agrees with the C peer', async (t) => {
  const { name, store } = tortureStore(t, 'torture-enc', { slots: 8, maxValueSize: 100 }, null);
  const fleet = fleetFor(t);
  const peer = fleet.openPeer(name);
  await fleet.ready();
  // C encodes, ours verifies.
  const w = await Fleet.ask(peer, { op: 'torture_write', key: 'enc/c', seconds: 0.01 }, ANSWER_TIMEOUT_MS);
  t.equal(w.rc, 0, 'torture_write ran');
  const last = Number(w['last_seq']);
  t.equal(finalSeq(t, store.get('enc/c'), 100, 'C value read by ours'), last, 'ours reads the seq C wrote last');
  // Ours encodes, C verifies (torture_read checks every copy it accepts).
  for (const seq of [0, 1, 84, 85, 2 ** 40 + 3, 2 ** 52 + 12345]) {
    store.set('enc/ours', tortureValue(seq, 100));
    const r = await Fleet.ask(peer, { op: 'torture_read', key: 'enc/ours', seconds: 0.002 }, ANSWER_TIMEOUT_MS);
    t.ok(Number(r['reads']) > 0 && r['torn'] === 0 && r['max_seq'] === String(seq), `seq ${seq}: C accepts our value`, { answer: r });
  }
  // The u64 arithmetic agrees with a BigInt reference, wrap-around included.
  const check = newTortureCheck();
  for (const seq of [0n, 1n, 0xffffffffn, 0x1_0000_0001n, 2n ** 63n + 5n, 2n ** 64n - 1n]) {
    const length = 16 + Number(((seq * 7n) % 2n ** 64n) % 85n);
    const ref = new Uint8Array(length);
    new DataView(ref.buffer).setBigUint64(0, seq, true);
    for (let j = 8; j < length - 8; j++) ref[j] = Number((seq * 31n + BigInt(j)) & 0xffn);
    let h = 14695981039346656037n;
    for (let j = 0; j < length - 8; j++) h = ((h ^ BigInt(ref[j]!)) * 1099511628211n) & (2n ** 64n - 1n);
    new DataView(ref.buffer).setBigUint64(length - 8, h, true);
    t.ok(verifyTorture(ref, length, 100, check), `seq ${seq}: the reference value verifies (${check.verdict})`);
    t.equal(check.seqHi * 2 ** 32 + check.seqLo, Number(seq), `seq ${seq}: seq read back`);
    // Corrupt one byte: it must fail.
    ref[length >> 1] = ref[length >> 1]! ^ 0x40;
    t.notOk(verifyTorture(ref, length, 100, check), `seq ${seq}: one flipped byte is caught (${check.verdict})`);
  }
  t.notOk(verifyTorture(new Uint8Array(100), 15, 100, check), 'a 15-byte value is refused');
  await endCase(fleet, name);
});

t.test('a. the C peer writes, our processes read', async (t) => {
  const { name, store } = tortureStore(t, 'torture-a');
  const fleet = fleetFor(t);
  const writer = fleet.openPeer(name);
  const modes = ['get', 'getInto'] as const;
  const readers = await pool.take(modes.length);
  await fleet.ready();
  const [w, ...reports] = await Promise.all([
    Fleet.ask(writer, { op: 'torture_write', key: KEY, seconds: SECONDS }, ANSWER_TIMEOUT_MS, 'C writer'),
    ...readers.map((r, i) =>
      r.request<ReaderReport>({ op: 'read', target: name, key: KEY, mode: modes[i], seconds: SECONDS }, ANSWER_TIMEOUT_MS),
    ),
  ]);
  t.equal(w.rc, 0, 'C writer ran');
  t.ok(Number(w['writes']) > 0, `C writer: ${fmt(Number(w['writes']) / SECONDS)} sets/s, ${w['eagain']} refused`);
  notes['C writer sets/s (a)'] = Math.round(Number(w['writes']) / SECONDS);
  t.comment(`C writer: ${fmt(Number(w['writes']))} sets (${fmt(Number(w['writes']) / SECONDS)}/s), ${w['eagain']} refused, last seq ${w['last_seq']}`);
  for (const [i, r] of reports.entries()) {
    const who = `ours reader ${i + 1} (${modes[i]})`;
    checkReader(t, who, r);
    record(t, 'C → ours', who, r, r.seconds);
  }
  t.equal(finalSeq(t, store.get(KEY), GEOMETRY.maxValueSize, 'after the run'), Number(w['last_seq']), 'ours reads the last seq C wrote');
  await endCase(fleet, name);
});

t.test('b. our process writes, C peers read', async (t) => {
  const { name } = tortureStore(t, 'torture-b');
  const fleet = fleetFor(t);
  const [writer] = await pool.take(1);
  const readers = [fleet.openPeer(name), fleet.openPeer(name)];
  await fleet.ready();
  const [w, ...answers] = await Promise.all([
    writer!.request<WriterReport>({ op: 'write', target: name, key: KEY, writerId: 0, seconds: SECONDS }, ANSWER_TIMEOUT_MS),
    ...readers.map((p, i) => Fleet.ask(p, { op: 'torture_read', key: KEY, seconds: SECONDS }, ANSWER_TIMEOUT_MS, `C reader ${i + 1}`)),
  ]);
  t.ok(w.writes > 0, `ours writer: ${fmt(w.writes)} sets`);
  t.equal(w.errors, 0, 'ours writer: no error other than EAGAIN', { samples: w.errorSamples });
  t.comment(`ours writer: ${fmt(w.writes)} sets (${fmt(w.writes / w.seconds)}/s), EAGAIN ${w.eagain}, last seq ${w.lastSeq}`);
  notes['ours writer sets/s (b)'] = Math.round(w.writes / w.seconds);
  notes['ours writer EAGAIN (b)'] = w.eagain;
  for (const [i, a] of answers.entries()) {
    const who = `C reader ${i + 1} (torture_read)`;
    t.equal(a.rc, 0, `${who} ran`);
    const r = cReadReport(a);
    checkReader(t, who, r);
    record(t, 'ours → C', who, r, SECONDS);
  }
  const last = await Fleet.ask(readers[0]!, { op: 'get', key: KEY }, ANSWER_TIMEOUT_MS);
  const bytes = typeof last['value_hex'] === 'string' ? new Uint8Array(Buffer.from(last['value_hex'], 'hex')) : undefined;
  t.equal(finalSeq(t, bytes, GEOMETRY.maxValueSize, 'C get after the run'), w.lastSeq, 'C reads the last seq ours wrote');
  await endCase(fleet, name);
});

t.test('c. several of our writers on one key, read by ours and by C', async (t) => {
  const { name, store } = tortureStore(t, 'torture-c1');
  const fleet = fleetFor(t);
  const [reader, ...writers] = await pool.take(3);
  const cReader = fleet.openPeer(name);
  await fleet.ready();
  const [ws, r, c] = await Promise.all([
    Promise.all(
      writers.map((w, i) =>
        w.request<WriterReport>({ op: 'write', target: name, key: KEY, writerId: i + 1, seconds: SECONDS }, ANSWER_TIMEOUT_MS),
      ),
    ),
    reader!.request<ReaderReport>({ op: 'read', target: name, key: KEY, mode: 'getInto', seconds: SECONDS }, ANSWER_TIMEOUT_MS),
    Fleet.ask(cReader, { op: 'torture_read', key: KEY, seconds: SECONDS }, ANSWER_TIMEOUT_MS, 'C reader'),
  ]);
  for (const [i, w] of ws.entries()) {
    t.ok(w.writes > 0, `ours writer ${i + 1}: ${fmt(w.writes)} sets`);
    t.equal(w.errors, 0, `ours writer ${i + 1}: no error other than EAGAIN`, { samples: w.errorSamples });
    t.comment(`ours writer ${i + 1}: ${fmt(w.writes)} sets (${fmt(w.writes / w.seconds)}/s), EAGAIN ${w.eagain}`);
    notes[`ours writer ${i + 1} sets/s (c)`] = Math.round(w.writes / w.seconds);
    notes[`ours writer ${i + 1} EAGAIN (c)`] = w.eagain;
  }
  // Seqs carry the writer id in bits 40+: ours checks monotonicity per writer.
  checkReader(t, 'ours reader', r);
  t.comment(`ours reader saw ${r.writersSeen} writers (the seed counts as writer 0)`);
  record(t, 'ours ×2 → ours', 'ours reader (getInto)', r, r.seconds);
  // torture_read checks one global order, which two interleaved writers do not keep: only tearing counts.
  t.equal(c.rc, 0, 'C reader ran');
  const cr = cReadReport(c);
  checkReader(t, 'C reader', cr, { regressionsMatter: false });
  record(t, 'ours ×2 → C', 'C reader (torture_read)', { ...cr, regressions: 0 }, SECONDS);
  t.comment(`C reader: ${cr.regressions} cross-writer seq drops (expected with two writers, not counted)`);
  const lastSeqs = ws.map((w) => w.lastSeq);
  t.ok(lastSeqs.includes(finalSeq(t, store.get(KEY), GEOMETRY.maxValueSize, 'after the run')), 'the final value is the last of one writer');
  await endCase(fleet, name);
});

t.test('c. ours and the C peer write one key at once (C may duplicate it, docs/spec/FORMAT.md §9 Q1)', async (t) => {
  const seconds = Math.max(0.5, SECONDS / 2);
  const { name, store } = tortureStore(t, 'torture-c3');
  const fleet = fleetFor(t);
  const [writer, reader] = await pool.take(2);
  const cWriter = fleet.openPeer(name);
  await fleet.ready();
  const [w, r, c] = await Promise.all([
    writer!.request<WriterReport>({ op: 'write', target: name, key: KEY, writerId: 1, seconds }, ANSWER_TIMEOUT_MS),
    reader!.request<ReaderReport>({ op: 'read', target: name, key: KEY, mode: 'getInto', seconds }, ANSWER_TIMEOUT_MS),
    Fleet.ask(cWriter, { op: 'torture_write', key: KEY, seconds }, ANSWER_TIMEOUT_MS, 'C writer'),
  ]);
  t.ok(w.writes > 0 && Number(c['writes']) > 0, `both wrote: ours ${fmt(w.writes)}, C ${fmt(Number(c['writes']))}`);
  t.equal(w.errors, 0, 'ours writer: no error other than EAGAIN', { samples: w.errorSamples });
  // Readers only ever see the first copy on the probe path, where seqs of each writer only grow.
  checkReader(t, 'ours reader', r);
  record(t, 'ours + C → ours', 'ours reader (getInto)', r, r.seconds);
  const listed = await Fleet.ask(cWriter, { op: 'list' }, ANSWER_TIMEOUT_MS);
  const copies = (listed['keys'] as string[]).filter((k) => k === KEY).length;
  notes['copies of a key C and ours wrote at once'] = copies;
  t.comment(`the key is stored ${copies} time(s) after ${fmt(w.writes + Number(c['writes']))} concurrent sets (C's set skips a busy slot and inserts again)`);
  t.equal(store.keys().filter((k) => k === KEY).length, copies, 'keys() lists every copy, as C list does');
  const cFirst = await Fleet.ask(cWriter, { op: 'slot', key: KEY }, ANSWER_TIMEOUT_MS);
  t.equal(store.slotSnapshot(KEY)?.index, cFirst['index'], 'ours and C read the same (first) copy');
  finalSeq(t, store.get(KEY), GEOMETRY.maxValueSize, 'the first copy');
  // One unset removes the first copy only: unset until the key is gone.
  let unsets = 0;
  while (store.has(KEY) && unsets < GEOMETRY.slots) {
    store.unset(KEY);
    unsets++;
  }
  t.equal(unsets, copies, `unset until has() is false removed the ${copies} copies`);
  const after = await Fleet.ask(cWriter, { op: 'list' }, ANSWER_TIMEOUT_MS);
  t.same(after['keys'], [], 'no copy is left, as C sees it');
  await endCase(fleet, name);
});

t.test('c. our writers race to insert the same new keys while holes open on their path', async (t) => {
  const geometry = { slots: 32, maxValueSize: 64 };
  const FILLERS = 22;
  const PER_GEN = 8;
  const PERIOD_NS = 100_000n;
  const MIN_RACES = 10;
  const { name, store } = tortureStore(t, 'torture-c2', geometry, null);
  const fleet = fleetFor(t);
  const [churner, ...inserters] = await pool.take(3);
  const peer = fleet.openPeer(name);
  await fleet.ready();
  const churned = churner!.request<ChurnerReport>(
    { op: 'churn', target: name, fillers: FILLERS, seconds: 3 * SECONDS },
    2 * SECONDS * 1000 + ANSWER_TIMEOUT_MS,
  );
  const check = newTortureCheck();
  const totals = { gens: 0, sets: 0, eagain: 0, enospc: 0, failed: 0, late: 0, errors: 0, overlapping: 0, skipped: 0 };
  const trouble = { missing: 0, unexpected: 0, torn: 0, duplicated: 0, reappeared: 0 };
  const duplicateSamples: string[] = [];
  const started = performance.now();
  let gen = 0;
  // Runs for the case's duration, longer (up to 3×) on a machine so busy that the two
  // inserters seldom met; the last generation stays in the store for the final scan.
  for (let last = false; !last; gen++) {
    const elapsed = performance.now() - started;
    last = elapsed >= SECONDS * 1000 && (totals.overlapping >= MIN_RACES || elapsed >= 3 * SECONDS * 1000);
    const start = process.hrtime.bigint() + 4_000_000n;
    const reports = await Promise.all(
      inserters.map((c, i) =>
        c.request<InserterReport>(
          { op: 'insert', target: name, writerId: i + 1, gen, start: String(start), period: String(PERIOD_NS), count: PER_GEN },
          ANSWER_TIMEOUT_MS,
        ),
      ),
    );
    totals.gens++;
    for (const r of reports) {
      totals.sets += r.sets;
      totals.eagain += r.eagain;
      totals.enospc += r.enospc;
      totals.failed += r.failed;
      totals.late += r.late;
      totals.errors += r.errors;
      if (r.errors > 0) duplicateSamples.push(...r.errorSamples);
    }
    // A real race: both inserters were inside set() for the same new key at the same time.
    const [a, b] = reports as [InserterReport, InserterReport];
    const attempted: boolean[] = [];
    for (let r = 0; r < PER_GEN; r++) {
      const [a0, a1, b0, b1] = [a.spans[2 * r]!, a.spans[2 * r + 1]!, b.spans[2 * r]!, b.spans[2 * r + 1]!];
      attempted.push(a0 >= 0 || b0 >= 0);
      if (a0 >= 0 && b0 >= 0 && a0 < b1 && b0 < a1) totals.overlapping++;
      if (a0 < 0 && b0 < 0) totals.skipped++;
    }
    // Race keys only: keys() is no snapshot, and a filler the churner moves meanwhile can be met twice.
    const seen = new Set<string>();
    for (const key of store.keys() as string[]) {
      if (!key.startsWith('race/')) continue;
      if (seen.has(key)) {
        trouble.duplicated++;
        if (duplicateSamples.length < 5) duplicateSamples.push(`gen ${gen}: ${key} listed twice`);
      }
      seen.add(key);
    }
    for (let r = 0; r < PER_GEN; r++) {
      const key = `race/${gen}/${r}`;
      const value = store.get(key);
      if (value === undefined) {
        if (attempted[r]) trouble.missing++;
      } else if (!attempted[r]) trouble.unexpected++;
      else if (!verifyTorture(value, value.length, geometry.maxValueSize, check)) trouble.torn++;
      if (last) continue;
      // An unset removes the first copy: a hidden second copy would show up now.
      retryingEagain(() => store.unset(key));
      if (store.has(key)) trouble.reappeared++;
    }
  }
  retryingEagain(() => store.set('ctl/stop', '1'));
  const c = await churned;
  retryingEagain(() => store.unset('ctl/stop'));
  t.comment(
    `insert race: ${totals.gens} generations × ${PER_GEN} new keys × 2 inserters; ${fmt(totals.sets)} sets, ` +
      `${fmt(totals.overlapping)} keys raced (both inside set at once), EAGAIN ${totals.eagain}, ENOSPC ${totals.enospc}, ${totals.late} late arrivals (${totals.skipped} keys left to nobody); churner ${fmt(c.sets)} sets + ${fmt(c.unsets)} unsets ` +
      `(${fmt((c.sets + c.unsets) / c.seconds)}/s), EAGAIN ${c.eagain}, ENOSPC ${c.enospc}`,
  );
  notes['insert race'] = { ...totals, ...trouble, churnerOpsPerSecond: Math.round((c.sets + c.unsets) / c.seconds) };
  t.ok(totals.gens > 1 && totals.sets > 0, `the race ran (${totals.gens} generations)`);
  t.ok(totals.overlapping > 0, `the inserters really raced (${totals.overlapping} keys set by both at once)`);
  t.equal(totals.errors + c.errors, 0, 'no error other than EAGAIN/ENOSPC', { samples: [...duplicateSamples, ...c.errorSamples] });
  t.equal(totals.failed, 0, 'no set gave up (EAGAIN or ENOSPC on every retry)');
  t.equal(trouble.missing, 0, 'every new key was there after the race');
  t.equal(trouble.unexpected, 0, 'no key appeared that nobody set');
  t.equal(trouble.torn, 0, 'every new key holds an intact value');
  t.equal(trouble.duplicated, 0, 'keys() never listed a key twice after a race', { samples: duplicateSamples });
  t.equal(trouble.reappeared, 0, 'no key came back after its unset (no hidden copy)');
  t.equal(c.vanished + c.lingering, 0, 'the churner saw its own keys come and go as it asked');

  // Final scan, slot by slot, through the C peer (its `slot` op) and through ours.
  const keyAt = new Map<string, number>();
  let scanned = 0;
  let duplicates = 0;
  for (let index = 0; index < geometry.slots; index++) {
    const s = await Fleet.ask(peer, { op: 'slot', index }, ANSWER_TIMEOUT_MS);
    if (s['hash'] === '0') continue;
    scanned++;
    const keyHex = String(s['key_hex']).replace(/(00)+$/, '');
    const first = keyAt.get(keyHex);
    if (first !== undefined) {
      duplicates++;
      t.fail(`key ${String(s['key'])} is in slot ${first} and in slot ${index}`);
    } else keyAt.set(keyHex, index);
  }
  t.equal(duplicates, 0, `no key is stored twice (C's slot view of all ${geometry.slots} slots, ${scanned} in use)`);
  const listed = store.keys();
  t.equal(new Set(listed).size, listed.length, `keys() lists ${listed.length} keys, none twice`);
  for (let r = 0; r < PER_GEN; r++) {
    const key = `race/${gen - 1}/${r}`;
    const snapshot = store.slotSnapshot(key);
    const cIndex = keyAt.get(toHex(new TextEncoder().encode(key)));
    t.equal(snapshot?.index, cIndex, `${key}: ours and C find it in the same slot (${snapshot?.index ?? 'absent'})`);
  }
  await endCase(fleet, name);
});

/** The operations that must give up with EAGAIN on a slot held odd; each returns what it got. */
function heldOddOps(store: Store, key: string): Array<[string, () => unknown]> {
  return [
    ['get', () => store.get(key)],
    ['getString', () => store.getString(key)],
    ['getInto', () => store.getInto(key, new Uint8Array(store.maxValueSize))],
    ['set', () => store.set(key, 'new value')],
    ['unset', () => store.unset(key)],
    ['append', () => store.append(key, '+')],
  ];
}

function expectEagainQuickly(t: Test, store: Store, key: string, what: string): void {
  for (const [op, run] of heldOddOps(store, key)) {
    const started = performance.now();
    let outcome: string;
    try {
      const got = run();
      outcome = `returned ${got instanceof Uint8Array ? `bytes ${toHex(got)}` : JSON.stringify(got)}`;
    } catch (error) {
      outcome = isSplinterError(error) ? error.code : `threw ${String(error)}`;
    }
    const ms = performance.now() - started;
    const slowest = (notes['slowest EAGAIN with a 2 ms budget (ms)'] as number | undefined) ?? 0;
    notes['slowest EAGAIN with a 2 ms budget (ms)'] = Math.max(slowest, Math.round(ms * 10) / 10);
    t.equal(outcome, 'EAGAIN', `${what}: ${op} gives up with EAGAIN`);
    t.ok(ms < 500, `${what}: ${op} gave up after ${ms.toFixed(1)} ms (budget 2 ms)`);
  }
}

t.test('d. a dead writer: a slot left odd', async (t) => {
  t.test('held odd by the C peer', async (t) => {
    const { name, store } = tortureStore(t, 'torture-d1', { slots: 16, maxValueSize: 64 }, null);
    store.set('dead/key', 'hello');
    store.set('dead/other', 'alive');
    const fleet = fleetFor(t);
    const peer = fleet.openPeer(name);
    await fleet.ready();
    const held = await Fleet.ask(peer, { op: 'hold_odd', key: 'dead/key' }, ANSWER_TIMEOUT_MS);
    t.equal(held.rc, 0, `the C peer holds the slot odd (epoch ${held['epoch']})`);
    const quick = Store.open(name, { contentionBudgetMs: 2 });
    t.teardown(() => quick.close());
    expectEagainQuickly(t, quick, 'dead/key', 'C writer died inside');
    t.equal(quick.getString('dead/other'), 'alive', 'the other keys are unaffected');
    t.equal(quick.getEpoch('dead/key'), BigInt(String(held['epoch'])), 'getEpoch reports the odd epoch without waiting');
    const slot = await Fleet.ask(peer, { op: 'slot', key: 'dead/key' }, ANSWER_TIMEOUT_MS);
    t.equal(slot['val_len'], 5, 'the refused set, unset and append left the value alone');
    t.equal(slot['stable'], false, 'the slot is still held');
    quick.retrainSlot('dead/key');
    const freed = BigInt(String(held['epoch'])) + 1n;
    t.equal(quick.getEpoch('dead/key'), freed, `retrainSlot moves the odd epoch on to ${freed} (C stores 4)`);
    const cEpoch = await Fleet.ask(peer, { op: 'get_epoch', key: 'dead/key' }, ANSWER_TIMEOUT_MS);
    t.equal(cEpoch['epoch'], String(freed), 'C sees the same epoch');
    t.equal(quick.getString('dead/key'), 'hello', 'the key reads again, with its value');
    quick.set('dead/key', 'again');
    const after = await Fleet.ask(peer, { op: 'get', key: 'dead/key' }, ANSWER_TIMEOUT_MS);
    t.equal(after['value_hex'], toHex(new TextEncoder().encode('again')), 'and C reads what ours writes after');
    await endCase(fleet, name);
  });

  t.test('held odd through our own mapping, with a half-written value', async (t) => {
    const geometry = { slots: 16, maxValueSize: 64 };
    const owner = Store.createShared(geometry);
    t.teardown(() => owner.close());
    owner.set('dead/key', 'hello');
    const store = Store.attach(owner.buffer!, { contentionBudgetMs: 2 });
    t.teardown(() => store.close());
    const snapshot = store.slotSnapshot('dead/key')!;
    const words = new Uint32Array(owner.buffer!);
    const epochW = (HEADER.size + snapshot.index * SLOT_SIZE + SLOT.epoch) >>> 2;
    const bytes = new Uint8Array(owner.buffer!);
    const valueAt = HEADER.size + geometry.slots * SLOT_SIZE + snapshot.valueOffset;
    // A writer that died inside: epoch odd, and half of a longer value written.
    t.equal(Atomics.compareExchange(words, epochW, Number(snapshot.epoch), Number(snapshot.epoch) + 1), Number(snapshot.epoch), 'epoch taken odd');
    bytes.set(new TextEncoder().encode('HALF-WR'), valueAt);
    Atomics.store(words, (HEADER.size + snapshot.index * SLOT_SIZE + SLOT.val_len) >>> 2, 7);
    expectEagainQuickly(t, store, 'dead/key', 'our writer died inside');
    t.throws(() => store.rawView('dead/key'), SplinterError, 'rawView refuses it too');
    const globalBefore = store.epoch;
    store.retrainSlot('dead/key');
    t.equal(Atomics.load(words, epochW), Number(snapshot.epoch) + 2, 'retrainSlot moves the odd epoch on to the next even one');
    t.equal(store.epoch, globalBefore + 1n, 'and moves the global epoch by 1');
    // What the dead writer left is what the slot holds now: readable, and writable again.
    t.equal(store.getString('dead/key'), 'HALF-WR', 'the key reads again');
    store.set('dead/key', 'fresh');
    t.equal(owner.getString('dead/key'), 'fresh', 'and takes new values');
  });

  t.test('a writer died while inserting: an empty slot held odd', async (t) => {
    const { name } = tortureStore(t, 'torture-d3', { slots: 16, maxValueSize: 64 }, null);
    const quick = Store.open(name, { contentionBudgetMs: 2 });
    t.teardown(() => quick.close());
    const fleet = fleetFor(t);
    const peer = fleet.openPeer(name);
    await fleet.ready();
    const held = await Fleet.ask(peer, { op: 'hold_odd', index: 3 }, ANSWER_TIMEOUT_MS);
    t.equal(held.rc, 0, 'the C peer holds empty slot 3 odd');
    // New keys: each set ends quickly and stores the key once; never a hang.
    const KEYS = 12;
    const refused: string[] = [];
    let slowest = 0;
    for (let i = 0; i < KEYS; i++) {
      const key = `new/${i}`;
      const started = performance.now();
      try {
        quick.set(key, key);
      } catch (error) {
        if (!isSplinterError(error, 'EAGAIN')) throw error;
        refused.push(key);
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
    t.ok(slowest < 500, `every set ended within ${slowest.toFixed(1)} ms`);
    const listed = quick.keys();
    t.equal(listed.length, KEYS - refused.length, `the ${KEYS - refused.length} keys set are listed`);
    t.equal(new Set(listed).size, listed.length, 'none twice');
    for (const key of listed) if (quick.getString(key) !== key) t.fail(`${key} reads back wrong`);
    t.same(refused, [], 'after the retry budget a new key passes over the busy empty slot, as C does');
    t.equal((await Fleet.ask(peer, { op: 'slot', index: 3 }, ANSWER_TIMEOUT_MS))['hash'], '0', 'slot 3 stays empty and untouched');
    notes['new keys refused behind an empty slot held odd'] = `${refused.length} of ${KEYS}`;
    await Fleet.ask(peer, { op: 'release_odd', index: 3 }, ANSWER_TIMEOUT_MS);
    for (const key of refused) quick.set(key, key);
    t.equal(quick.keys().length, KEYS, 'once the slot is released every key can be set');
    await endCase(fleet, name);
  });
  t.end();
});

/** 64 KiB values: a copy takes long enough for unset and re-insert to land inside it. */
const CYCLE_GEOMETRY = { slots: 16, maxValueSize: 65536 };
const CYCLE_KEY = 'torture/cycled';
/** Successful reads each direction must reach, over its two readers. */
const MIN_CYCLE_READS = 100_000;
/**
 * Rounds of SECONDS each, run until the reads reach MIN_CYCLE_READS: two to four on 2 cores
 * (load average 8), up to about 16 when other test files and jobs crowd them (load average 20).
 */
const MAX_CYCLE_ROUNDS = 20;
/**
 * The cyclers spin this long after each operation: flat out, their writes (a 64 KiB copy or
 * clear each, a few µs) leave no gap a 64 KiB read of ours fits in.
 */
const CYCLE_PAUSE_US = 30;

interface CycleTotals {
  rounds: number;
  cycles: number;
  unsets: number;
  writerErrors: string[];
}

/**
 * Rounds in which `writeRound` cycles set, set, unset on CYCLE_KEY while two of our readers
 * (getInto, get) read it, until they reach MIN_CYCLE_READS; nothing they accept may be torn.
 */
async function readCycledKey(
  t: Test,
  direction: string,
  name: string,
  readers: Child[],
  writeRound: (seconds: number) => Promise<{ cycles: number; unsets: number; errors: string[] }>,
): Promise<CycleTotals> {
  const modes = ['getInto', 'get'] as const;
  const totals = modes.map(() => ({ reads: 0, eagain: 0, torn: 0, regressions: 0, missing: 0, errors: 0, seconds: 0, tornSamples: [] as string[], errorSamples: [] as string[] }));
  const writer: CycleTotals = { rounds: 0, cycles: 0, unsets: 0, writerErrors: [] };
  while (writer.rounds < MAX_CYCLE_ROUNDS && totals.reduce((n, r) => n + r.reads, 0) < MIN_CYCLE_READS) {
    const [w, ...reports] = await Promise.all([
      writeRound(SECONDS),
      ...readers.map((r, i) =>
        r.request<ReaderReport>({ op: 'read', target: name, key: CYCLE_KEY, mode: modes[i], seconds: SECONDS, exact: true }, ANSWER_TIMEOUT_MS),
      ),
    ]);
    writer.rounds++;
    writer.cycles += w.cycles;
    writer.unsets += w.unsets;
    writer.writerErrors.push(...w.errors);
    for (const [i, r] of reports.entries()) {
      const total = totals[i]!;
      for (const field of ['reads', 'eagain', 'torn', 'missing', 'errors', 'seconds'] as const) total[field] += r[field];
      total.tornSamples.push(...r.tornSamples);
      total.errorSamples.push(...r.errorSamples);
    }
  }
  t.ok(writer.unsets > 0, `the writer unset the key ${fmt(writer.unsets)} times in ${writer.rounds} rounds of ${SECONDS} s`);
  let reads = 0;
  for (const [i, r] of totals.entries()) {
    const who = `ours reader ${i + 1} (${modes[i]})`;
    t.equal(r.torn, 0, `${who}: no torn value accepted`, { samples: r.tornSamples.slice(0, 5) });
    t.equal(r.errors, 0, `${who}: no error other than EAGAIN`, { samples: r.errorSamples.slice(0, 5) });
    t.ok(r.missing > 0, `${who}: found the key unset ${fmt(r.missing)} times`);
    record(t, direction, who, r, r.seconds);
    reads += r.reads;
  }
  t.ok(reads >= MIN_CYCLE_READS, `${fmt(reads)} successful reads in all (at least ${fmt(MIN_CYCLE_READS)})`);
  return writer;
}

t.test('e. unset and re-insert under readers: our process cycles set, set, unset on a 64 KiB value', async (t) => {
  const { name } = tortureStore(t, 'torture-e1', CYCLE_GEOMETRY, CYCLE_KEY);
  const [writer, ...readers] = await pool.take(3);
  const w = await readCycledKey(t, 'ours cycles → ours', name, readers, async (seconds) => {
    const r = await writer!.request<CyclerReport>({ op: 'cycle', target: name, key: CYCLE_KEY, seconds, pauseUs: CYCLE_PAUSE_US }, ANSWER_TIMEOUT_MS);
    return { cycles: r.cycles, unsets: r.unsets, errors: r.errorSamples };
  });
  t.same(w.writerErrors, [], 'ours cycler: no error other than EAGAIN');
  t.comment(`ours cycler: ${fmt(w.cycles / (w.rounds * SECONDS))} cycles/s`);
  notes['ours cycler cycles/s (e)'] = Math.round(w.cycles / (w.rounds * SECONDS));
  await pool.release(name);
});

t.test('e. unset and re-insert under readers: the C peer cycles set, set, unset (its unset resets the epoch to 2)', async (t) => {
  const { name } = tortureStore(t, 'torture-e2', CYCLE_GEOMETRY, CYCLE_KEY);
  const fleet = fleetFor(t);
  const peer = fleet.openPeer(name);
  const readers = await pool.take(2);
  await fleet.ready();
  const w = await readCycledKey(t, 'C cycles → ours', name, readers, async (seconds) => {
    const a = await Fleet.ask(peer, { op: 'torture_cycle', key: CYCLE_KEY, seconds, first_seq: CYCLE_FIRST_SEQ, pause_us: CYCLE_PAUSE_US }, ANSWER_TIMEOUT_MS, 'C cycler');
    return { cycles: Number(a['cycles']), unsets: Number(a['unsets']), errors: a.rc === 0 ? [] : [JSON.stringify(a)] };
  });
  t.same(w.writerErrors, [], 'C cycler ran');
  t.comment(`C cycler: ${fmt(w.cycles / (w.rounds * SECONDS))} cycles/s`);
  notes['C cycler cycles/s (e)'] = Math.round(w.cycles / (w.rounds * SECONDS));
  await endCase(fleet, name);
});

t.test('torture figures', async (t) => {
  t.comment(`Torture figures (${SECONDS} s per case, ${new Date().toISOString()}):`);
  for (const f of figures) {
    t.comment(
      `  ${f.direction.padEnd(16)} ${f.reader.padEnd(26)} ${fmt(f.readsPerSecond).padStart(11)} reads/s  ` +
        `EAGAIN ${pct(f.eagainRate).padStart(8)}  torn ${f.torn}  regressions ${f.regressions}`,
    );
  }
  t.comment('  (ours: EAGAIN = a read that stayed contested for its whole 5 ms retry budget; C: one failed seqlock attempt)');
  for (const [name, value] of Object.entries(notes)) t.comment(`  ${name}: ${JSON.stringify(value)}`);
  const report = process.env['SPLINTER_TORTURE_REPORT'];
  if (report !== undefined && report !== '') {
    fs.writeFileSync(report, `${JSON.stringify({ seconds: SECONDS, date: new Date().toISOString(), figures, notes }, null, 2)}\n`);
  }
  t.ok(figures.length > 0, `${figures.length} reader figures`);
});
