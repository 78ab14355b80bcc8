/** `splinter drop`: a store and every side file of ours go; it asks first; it removes nothing else. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { tempDir } from '../helpers/fixtures.js';
import { testedLauncher } from './compiled.js';
import { cli, cliEnv, oneLineError } from './helpers.js';
import { availableBackends, openTerminal } from './terminal.js';

t.setTimeout(300_000);

let stores = 0;

/** A fresh shm store, removed at the end of the test if drop left it. */
function shmStore(t: Test): string {
  const name = `drop-test-${process.pid}-${stores++}`;
  Store.create(name, { slots: 16, maxValueSize: 64 }).close();
  t.teardown(() => {
    try {
      Store.unlink(name);
    } catch {
      // dropped
    }
  });
  return name;
}

/** The prefix of the side files of the store at `file` (its device and inode). */
function sidePrefix(file: string): string {
  const { dev, ino } = fs.statSync(file);
  return `/dev/shm/.splinter-bus-${dev}-${ino}`;
}

/** Side files as the bus makes them: the doorbell table (by a real wait) and a FIFO left by a waiter that died. */
function plantSideFiles(t: Test, name: string, file: string): string[] {
  const prefix = sidePrefix(file);
  cli(['--use', name, 'watch', '--group', '0', '--timeout', '1']);
  const fifo = `${prefix}.999999.12345`;
  execFileSync('mkfifo', [fifo]);
  t.ok(fs.existsSync(prefix), 'a wait made the doorbell table');
  return [prefix, fifo];
}

t.test('drop --yes removes an shm store, its doorbell table and FIFOs, and nothing of another store', async (t) => {
  const name = shmStore(t);
  const other = shmStore(t);
  const sideFiles = plantSideFiles(t, name, `/dev/shm/${name}`);
  const otherSide = plantSideFiles(t, other, `/dev/shm/${other}`);
  const result = cli(['drop', name, '--yes']);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, `dropped ${name}: removed /dev/shm/${name} and 2 side files\n`);
  t.notOk(fs.existsSync(`/dev/shm/${name}`), 'the store is gone');
  for (const f of sideFiles) t.notOk(fs.existsSync(f), `${path.basename(f)} is gone`);
  for (const f of otherSide) t.ok(fs.existsSync(f), `the other store's ${path.basename(f)} stays`);
  t.ok(fs.existsSync(`/dev/shm/${other}`), 'the other store stays');
});

t.test('drop PATH removes a file store and its side files; --json says what went', async (t) => {
  const file = path.join(tempDir(t), 'bus.spl');
  Store.create(file, { slots: 16, maxValueSize: 64 }).close();
  const sideFiles = plantSideFiles(t, file, file);
  const result = cli(['--json', 'drop', file, '--yes']);
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.stdout), { dropped: file, path: file, sideFiles: [...sideFiles].sort() });
  t.notOk(fs.existsSync(file));
  for (const f of sideFiles) t.notOk(fs.existsSync(f));
});

t.test('without --yes and without a terminal, drop refuses (exit 2) and removes nothing', async (t) => {
  const name = shmStore(t);
  const text = cli(['drop', name]);
  t.equal(text.code, 2);
  t.ok(oneLineError(text.stderr), text.stderr);
  t.match(text.stderr, /pass --yes/);
  const json = cli(['--json', 'drop', name]);
  t.equal(json.code, 2);
  t.equal(json.stdout, '');
  t.equal(JSON.parse(json.stderr).error.code, 'EUSAGE');
  const batch = cli(['shell'], { input: `drop ${name}\n` });
  t.equal(batch.code, 2, 'splinter shell fed from a file cannot answer either');
  t.ok(fs.existsSync(`/dev/shm/${name}`), 'the store is still there');
});

t.test('on a terminal, drop asks: n keeps the store (exit 1), y removes it', { skip: availableBackends().length === 0 ? 'no tmux or script for a terminal' : false }, async (t) => {
  const backend = availableBackends()[0]!;
  const name = shmStore(t);
  const env = cliEnv() as Record<string, string>;
  for (const [answer, gone] of [['n', false], ['y', true]] as const) {
    const dir = tempDir(t);
    const status = path.join(dir, 'status');
    const term = openTerminal(backend, ['sh', '-c', `'${process.execPath}' '${testedLauncher().bin}' drop ${name}; echo $? > ${status}`], env);
    t.teardown(() => term.close());
    await term.waitFor(/\[y\/N\]/, 'the question');
    t.match(term.screen(), new RegExp(`drop shared-memory store "${name}" \\(/dev/shm/${name}, [\\d,]+ bytes\\)\\? \\[y/N\\]`));
    await term.type(answer);
    await term.key('Enter');
    await term.waitFor(() => fs.existsSync(status) && fs.readFileSync(status, 'utf8').endsWith('\n'), 'drop to exit');
    t.equal(fs.readFileSync(status, 'utf8'), gone ? '0\n' : '1\n', `answer ${answer}: exit status`);
    t.equal(fs.existsSync(`/dev/shm/${name}`), !gone, `answer ${answer}: the store ${gone ? 'is gone' : 'stays'}`);
    term.close();
  }
});

t.test('in the interactive mode, drop asks at the prompt, and the prompt forgets the dropped store', { skip: availableBackends().length === 0 ? 'no tmux or script for a terminal' : false }, async (t) => {
  const name = shmStore(t);
  const term = openTerminal(availableBackends()[0]!, [process.execPath, testedLauncher().bin, '--use', name], cliEnv() as Record<string, string>);
  t.teardown(() => term.close());
  await term.waitFor(new RegExp(`splinter\\(${name}\\)>`), 'the prompt');
  await term.type(`drop ${name}`);
  await term.key('Enter');
  await term.waitFor(/\[y\/N\]/, 'the question');
  await term.type('y');
  await term.key('Enter');
  await term.waitFor(new RegExp(`dropped ${name}: removed /dev/shm/${name}\\n+splinter>`), 'the answer taken, and a prompt without the store');
  t.notOk(fs.existsSync(`/dev/shm/${name}`), 'the store is gone');
  await term.key('C-d');
});

t.test('drop removes only stores: not another file, not through a link, not a missing one', async (t) => {
  const dir = tempDir(t);
  const plain = path.join(dir, 'notes.txt');
  fs.writeFileSync(plain, 'not a store, but a file someone wants to keep\n');
  const refused = cli(['--json', 'drop', plain, '--yes']);
  t.equal(refused.code, 1);
  t.same(JSON.parse(refused.stderr).error.code, 'EINVAL');
  t.match(JSON.parse(refused.stderr).error.message, /not a Splinter store/);
  t.ok(fs.existsSync(plain), 'the file stays');

  const store = path.join(dir, 'real.spl');
  Store.create(store, { slots: 16, maxValueSize: 64 }).close();
  const link = path.join(dir, 'link.spl');
  fs.symlinkSync(store, link);
  const viaLink = cli(['drop', link, '--yes']);
  t.equal(viaLink.code, 1);
  t.match(viaLink.stderr, /symbolic link/);
  t.ok(fs.existsSync(store) && fs.lstatSync(link).isSymbolicLink(), 'the link and the store stay');

  const missing = cli(['--json', 'drop', `drop-test-missing-${process.pid}`, '--yes']);
  t.equal(missing.code, 1);
  t.equal(JSON.parse(missing.stderr).error.code, 'ENOENT');

  const unnamed = cli(['drop', '--yes'], { env: { SPLINTER_STORE: `drop-test-env-${process.pid}` } });
  t.equal(unnamed.code, 2, 'the store to drop is never taken from SPLINTER_STORE');
});

t.test("drop leaves another user's side file and says so (exit 1)", { skip: process.getuid?.() !== 0 ? 'needs root to make a file of another user' : false }, async (t) => {
  const name = shmStore(t);
  const foreign = `${sidePrefix(`/dev/shm/${name}`)}.424242.1`;
  execFileSync('mkfifo', [foreign]);
  fs.chownSync(foreign, 65534, 65534);
  t.teardown(() => fs.rmSync(foreign, { force: true }));
  const result = cli(['--json', 'drop', name, '--yes']);
  t.equal(result.code, 1);
  const error = JSON.parse(result.stderr).error as { code: string; message: string };
  t.equal(error.code, 'EACCES');
  t.match(error.message, foreign);
  t.notOk(fs.existsSync(`/dev/shm/${name}`), 'the store itself is gone');
  t.ok(fs.existsSync(foreign), "the other user's FIFO stays");
});

t.test('rm is still unset: it deletes a key, never a store', async (t) => {
  const name = shmStore(t);
  t.equal(cli(['--use', name, 'set', 'k', 'v']).code, 0);
  const result = cli(['--use', name, 'rm', 'k']);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, 'deleted k (1 byte)\n');
  t.ok(fs.existsSync(`/dev/shm/${name}`));
  const help = cli(['help', 'drop']);
  t.match(help.stdout, /rm and del delete a key/);
});

/** A shm store whose magic was never written (a creation that died, or one still running), changed `ageMs` ago. */
function unfinishedStore(t: Test, ageMs: number): string {
  const name = shmStore(t);
  const file = `/dev/shm/${name}`;
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(4), 0, 4, 0);
  fs.closeSync(fd);
  const then = new Date(Date.now() - ageMs);
  fs.utimesSync(file, then, then);
  t.teardown(() => fs.rmSync(file, { force: true })); // Store.unlink leaves a fresh one (EBUSY)
  return name;
}

t.test('a creation that died left a file without magic: init says so, drop removes it, init works again', async (t) => {
  const name = unfinishedStore(t, 10 * 60_000);
  const init = cli(['--json', 'init', name, '--slots', '16', '--max-value', '64']);
  t.equal(init.code, 1);
  t.match(JSON.parse(init.stderr).error.message, /a creation that died left it.*splinter drop/);
  const dropped = cli(['drop', name, '--yes']);
  t.equal(dropped.code, 0, dropped.stderr);
  t.equal(dropped.stdout, `dropped ${name}: removed /dev/shm/${name}\n`);
  t.notOk(fs.existsSync(`/dev/shm/${name}`), 'the file is gone');
  t.equal(cli(['init', name, '--slots', '16', '--max-value', '64']).code, 0, 'init creates the store');
});

t.test('a file without magic that changed just now may be a creation in progress: drop leaves it (EBUSY)', async (t) => {
  const name = unfinishedStore(t, 0);
  const result = cli(['--json', 'drop', name, '--yes']);
  t.equal(result.code, 1);
  const error = JSON.parse(result.stderr).error as { code: string; message: string };
  t.equal(error.code, 'EBUSY');
  t.match(error.message, /may be creating it right now; nothing removed/);
  t.ok(fs.existsSync(`/dev/shm/${name}`), 'the file stays');
});

t.test('a file starting with zeros that is not an unfinished store is still refused', async (t) => {
  const file = path.join(tempDir(t), 'zeros.bin');
  const bytes = Buffer.alloc(64);
  bytes.writeUInt32LE(0xdeadbeef, 4); // no store version after the zero magic
  fs.writeFileSync(file, bytes);
  fs.utimesSync(file, new Date(0), new Date(0));
  const result = cli(['--json', 'drop', file, '--yes']);
  t.equal(result.code, 1);
  t.match(JSON.parse(result.stderr).error.message, /not a Splinter store/);
  t.ok(fs.existsSync(file));
});
