/**
 * Two inserters of ours on one new key, the race forced rather than hoped for. A writer of ours
 * is stopped (SIGSTOP) inside its insert, after taking an empty slot and before writing the
 * key's hash; a hole is opened on the key's path before that slot; this process inserts the same
 * key into the hole, and, the global epoch having moved by its own move only, skips the search
 * for raced copies (kv.ts insertFresh). The stopped writer then goes on, sees a move not its
 * own, searches, and keeps one copy: the first on the path, as readers see it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import { SLOT } from '../../src/layout/constants.js';
import { fnv1a64 } from '../../src/layout/fnv1a.js';
import { readStoredKey } from '../../src/store/keys/list.js';
import { repoRoot, shmName } from '../helpers/fixtures.js';
import { homeOf } from '../helpers/home.js';
import { retryingEagain } from '../helpers/retry.js';

const SLOTS = 64;
const FILLERS = 48;
/** Long values: the copy is most of an insert, so a stop usually lands between the slot's CAS and its hash. */
const MAX_VALUE = 256 * 1024;
const SCENARIOS = 3;
const MAX_ATTEMPTS = 600;

/** The key stored at a slot. */
const keyAt = (store: Store, index: number): string => String(readStoredKey(store.kv, index));

/** Slots held by a writer (odd epoch) that hold no hash yet: an insert between its CAS and its hash. */
function busyEmptySlots(store: Store): number[] {
  const m = store.memory;
  const found: number[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const at = m.slotByte(i);
    if ((Atomics.load(m.u32, (at + SLOT.epoch) >>> 2) & 1) === 1 && Atomics.load(m.u64, at >>> 3) === 0n) found.push(i);
  }
  return found;
}

function hashed(store: Store, key: string): number {
  const h = fnv1a64(new TextEncoder().encode(key));
  let copies = 0;
  for (let i = 0; i < SLOTS; i++) if (Atomics.load(store.memory.u64, store.memory.slotByte(i) >>> 3) === h && keyAt(store, i) === key) copies++;
  return copies;
}

/** Waits until the process is in the stopped state (SIGSTOP is delivered asynchronously). */
async function stopped(pid: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T') return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`process ${pid} did not stop`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a writer stopped inside its insert, the same key inserted into a hole before its slot: one copy stays', async (t) => {
  const raceName = shmName(t, 'race');
  const controlName = shmName(t, 'control');
  const race = Store.create(raceName, { slots: SLOTS, maxValueSize: MAX_VALUE });
  const control = Store.create(controlName, { slots: 8, maxValueSize: 16 });
  t.teardown(() => {
    race.close();
    control.close();
  });
  control.set('hold', '0');
  control.set('current', '-');
  control.set('parked', '-');
  for (let i = 0; i < FILLERS; i++) race.set(`fill/${i}`, 'f');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'store', 'children', 'stopped-inserter.ts'), raceName, controlName], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const pid = child.pid!;
  // Until the child is inserting.
  while (retryingEagain(() => control.getString('current')) === '-' && child.exitCode === null) await sleep(5);

  let scenarios = 0;
  let attempts = 0;
  while (scenarios < SCENARIOS && attempts < MAX_ATTEMPTS && child.exitCode === null) {
    attempts++;
    await sleep(Math.random() * 2);
    process.kill(pid, 'SIGSTOP');
    await stopped(pid);
    const busy = busyEmptySlots(race);
    // Inside a write to the race store, the child is not inside one to the control store: `current` is readable.
    const current = busy.length === 1 ? control.getString('current')! : '-';
    const key = `race/${current}`;
    let filler: string | undefined;
    if (/^\d+$/.test(current)) {
      // A filler between the key's home and the held slot: its removal opens a hole the key's path meets first.
      for (let i = homeOf(key, SLOTS); i !== busy[0]; i = (i + 1) % SLOTS) {
        const name = keyAt(race, i);
        if (name.startsWith('fill/') && Atomics.load(race.memory.u64, race.memory.slotByte(i) >>> 3) !== 0n) {
          filler = name;
          break;
        }
      }
    }
    if (filler === undefined) {
      process.kill(pid, 'SIGCONT');
      continue;
    }
    race.unset(filler);
    race.set(key, 'ours');
    t.equal(hashed(race, key), 1, `${key}: our copy in the hole, the stopped writer's not yet published`);
    control.set('hold', '1');
    process.kill(pid, 'SIGCONT');
    const deadline = Date.now() + 20_000;
    while (retryingEagain(() => control.getString('parked')) !== current && Date.now() < deadline && child.exitCode === null) await sleep(1);
    t.equal(retryingEagain(() => control.getString('parked')), current, `${key}: the writer finished its insert`);
    t.equal(hashed(race, key), 1, `${key}: one copy after both inserts (slot ${busy[0]} was the writer's)`);
    t.equal(race.keys().filter((k) => k === key).length, 1, `${key}: listed once`);
    const value = race.get(key);
    t.ok(value !== undefined && (Buffer.from(value).toString() === 'ours' || (value.length === MAX_VALUE && value.every((b) => b === 0x58))), `${key}: an intact value of one writer`);
    race.set(filler, 'f');
    control.set('hold', '0');
    scenarios++;
  }
  t.equal(scenarios, SCENARIOS, `the writer was caught inside its insert ${scenarios} times in ${attempts} attempts`);
  control.set('hold', 'stop');
  if (child.exitCode === null) process.kill(pid, 'SIGCONT');
  t.equal(await exited, 0, 'the writer exited cleanly', { stderr });
});
