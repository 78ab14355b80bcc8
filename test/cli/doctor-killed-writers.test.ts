/**
 * Writers of checksummed 64 KiB values SIGKILLed mid-write leave slots locked (odd) with
 * partial values; `splinter doctor --repair` must clear those keys and report them, never
 * release a partial value for readers to take.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { HEADER, SLOT, SLOT_SIZE } from '../../src/layout/constants.js';
import { Store } from '../../src/index.js';
import { repoRoot, shmName } from '../helpers/fixtures.js';
import { checksumHolds, checksummedValue } from './doctor-children/checksum-value.js';
import { cli } from './helpers.js';

t.setTimeout(240_000);

const here = path.dirname(fileURLToPath(import.meta.url));
const WRITER = path.join(here, 'doctor-children', 'checksum-writer.ts');
const SLOTS = 64;
const VALUE = 64 * 1024;
const KEYS = Array.from({ length: 12 }, (_, k) => `doc:${k}`);
const WRITERS = 3;
const MAX_ROUNDS = 40;
const MAX_MS = 90_000;

/** The slots left locked (odd epoch), read straight from the store file. */
function oddSlots(file: string): Array<{ slot: number; epoch: bigint; hashed: boolean }> {
  const bytes = fs.readFileSync(file);
  const odd: Array<{ slot: number; epoch: bigint; hashed: boolean }> = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    const at = HEADER.size + slot * SLOT_SIZE;
    const epoch = bytes.readBigUInt64LE(at + SLOT.epoch);
    if ((epoch & 1n) === 1n) odd.push({ slot, epoch, hashed: bytes.readBigUInt64LE(at) !== 0n });
  }
  return odd;
}

/** Starts a writer (node --import tsx directly: killing a tsx wrapper would leave its child running). */
function startWriter(name: string, id: number): { child: ChildProcess; writing: Promise<void> } {
  const env = { ...process.env };
  delete env['NODE_OPTIONS']; // no coverage hook in the children
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, name, String(id), ...KEYS], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const writing = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code, signal) => reject(new Error(`writer ${id} exited before writing (${code ?? signal})`)));
  });
  return { child, writing };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('SIGKILLed writers, then doctor --repair: stuck keys are dropped and reported, no partial value is served', async (t) => {
  const name = shmName(t, 'killed-writers');
  const file = `/dev/shm/${name}`;
  const store = Store.create(name, { slots: SLOTS, maxValueSize: VALUE });
  for (const [k, key] of KEYS.entries()) store.set(key, checksummedValue(1_000_000 + k, VALUE));
  store.close();

  const started = Date.now();
  let rounds = 0;
  const running = new Set<ChildProcess>();
  t.teardown(() => {
    for (const child of running) child.kill('SIGKILL');
  });
  while (oddSlots(file).length < 2 && rounds < MAX_ROUNDS && Date.now() - started < MAX_MS) {
    rounds++;
    const writers = Array.from({ length: WRITERS }, (_, id) => startWriter(name, rounds * 10 + id));
    for (const w of writers) running.add(w.child);
    await Promise.all(writers.map((w) => w.writing));
    await sleep(20 + Math.random() * 30);
    await Promise.all(
      writers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.child.once('exit', () => resolve());
            w.child.kill('SIGKILL');
          }),
      ),
    );
    for (const w of writers) running.delete(w.child);
  }
  const stuck = oddSlots(file);
  const stuckEpochs = new Map(stuck.map((s) => [s.slot, s.epoch]));
  t.comment(`${rounds} rounds of ${WRITERS} killed writers in ${Date.now() - started} ms: ${stuck.length} slots stuck odd`);
  t.ok(stuck.length >= 1, `at least one slot stuck odd (got ${stuck.length})`);
  const stuckKeyed = stuck.filter((s) => s.hashed);

  // The partial values are what readers would get if the slots were simply released.
  const r = cli(['doctor', name, '--repair', '--json', '--wait', '200']);
  t.equal(r.code, 0, r.stderr || r.stdout);
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    repairs: Array<{ kind: string; slot: number; done: boolean }>;
    dropped?: Array<{ slot: number; key: string }>;
  };
  const dropped = report.dropped ?? [];
  t.equal(report.ok, true);
  t.same(
    report.repairs.filter((x) => x.kind === 'odd-epoch').map((x) => [x.slot, x.done]),
    stuck.map((s) => [s.slot, true]),
    'every stuck slot was cleared',
  );
  t.same(
    dropped.map((d) => d.slot),
    stuckKeyed.map((s) => s.slot),
    'each stuck key is reported dropped',
  );
  for (const d of dropped) t.ok(KEYS.includes(d.key), `dropped ${d.key}`);

  const human = cli(['doctor', name, '--wait', '50']);
  t.equal(human.code, 0, human.stdout);
  t.same(oddSlots(file), [], 'no slot is left odd');
  const bytes = fs.readFileSync(file);
  for (const [slot, epoch] of stuckEpochs) {
    const now = bytes.readBigUInt64LE(HEADER.size + slot * SLOT_SIZE + SLOT.epoch);
    t.ok(now > epoch, `slot ${slot}: released forward (epoch ${epoch} → ${now})`);
  }

  const after = Store.open(name);
  t.teardown(() => after.close());
  let readable = 0;
  let failures = 0;
  for (const key of KEYS) {
    const value = after.get(key);
    if (value === undefined) continue;
    readable++;
    if (!checksumHolds(value, VALUE)) failures++;
  }
  t.comment(`${stuckKeyed.length} keys dropped, ${readable} readable, ${failures} checksum failures`);
  t.equal(failures, 0, 'every readable value passes its checksum');
  t.equal(readable, KEYS.length - dropped.length, 'the keys not dropped are all still there');
  t.ok(readable > 0, 'and some are');
  for (const d of dropped) t.equal(after.has(d.key), false, `${d.key} is gone`);
});
