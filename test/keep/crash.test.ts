/**
 * The keeper SIGKILLed at random moments while a writer runs, then the memory store removed (a
 * reboot) and restored from the file: every restored value is one the writer really wrote, whole,
 * and every key written and left alone for more than two intervals before the kill is there.
 * "Two intervals" on the keeper's own clock: a key written before the start of the last copy the
 * keeper finished before the kill (on a loaded machine a keeper may not run for a while, and
 * what it promises is that copy, not wall time). Both are checked when the keeper kept up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import t from 'tap';
import { Store } from '../../src/index.js';
import { restoreStore } from '../../src/keep/index.js';
import { lockPath } from '../../src/keep/lock.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { genuine } from './children/values.js';

t.setTimeout(300_000); // child processes: minutes on a loaded machine

const INTERVAL = 40;
const ROUNDS = 6;
const children = path.join(import.meta.dirname, 'children');

/** A child process run with node --import tsx (not the tsx wrapper, so the signal reaches it), with its stdout as lines. */
function child(file: string, args: string[]): { process: ChildProcess; lines: string[]; ready: Promise<void> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(children, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    proc.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
  });
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line === 'ready') onReady();
    else lines.push(line);
  });
  return { process: proc, lines, ready };
}

const exited = (proc: ChildProcess): Promise<void> =>
  proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((resolve) => proc.once('exit', () => resolve()));

for (let round = 0; round < ROUNDS; round++) {
  t.test(`round ${round}: keeper killed while a writer runs, store restored from the file`, async (t) => {
    const name = shmName(t, `crash${round}`);
    const file = path.join(tempDir(t), 'copy.spl');
    Store.create(name, { slots: 1024, maxValueSize: 64 }).close();
    t.teardown(() => {
      fs.rmSync(lockPath(name), { force: true }); // the killed keeper's lock
      try {
        Store.unlink(name);
      } catch {
        // removed by the test
      }
    });
    const keeper = child('keeper.ts', [name, file, String(INTERVAL)]);
    t.teardown(() => keeper.process.kill('SIGKILL'));
    await keeper.ready;
    const writer = child('writer.ts', [name]);
    t.teardown(() => writer.process.kill('SIGKILL'));
    await writer.ready;
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 900));
    const killedAt = Date.now();
    const passes = keeper.lines.filter((line) => line.startsWith('pass ')).map((line) => Number(line.slice(5)));
    keeper.process.kill('SIGKILL');
    await exited(keeper.process);
    writer.process.kill('SIGKILL');
    await exited(writer.process);
    // The cold keys and when their set returned; those left alone for two intervals before the kill must be in the file.
    // The last pass read before the kill finished before it: what was written before its start is in the file.
    const copiedBefore = Math.min(killedAt - 2 * INTERVAL, passes.at(-1) ?? -Infinity);
    const settled = writer.lines
      .map((line) => line.split(' '))
      .filter(([kind, , time]) => kind === 'cold' && Number(time) < copiedBefore)
      .map(([, key]) => key!);
    t.ok(settled.length > 0, `the writer wrote cold keys before the kill (${settled.length})`);
    Store.unlink(name); // the reboot
    const report = restoreStore(name, file);
    const restored = Store.open(name);
    t.teardown(() => restored.close());
    const bad: string[] = [];
    for (const [key, value] of restored.entries()) {
      const text = new TextDecoder().decode(value);
      if (typeof key !== 'string' || !genuine(key, text)) bad.push(`${String(key)} = ${text}`);
    }
    t.same(bad, [], `every restored value was really written, whole (${report.keys} keys, ${report.dropped} dropped)`);
    const missing = settled.filter((key) => !restored.has(key));
    t.same(missing, [], 'every key left alone for two intervals before the kill is there');
  });
}
