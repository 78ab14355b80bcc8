/**
 * The side files beside a store (doorbell table, FIFOs) against another local user: planted
 * tables and symlinks never make us write outside our own files, and side files get the
 * store's mode, never wider.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { Store } from '../../src/index.js';
import { ARMED_COUNT, createFifo, ENTRY, entryBase, openDoorbell } from '../../src/bus/sidecar.js';
import { removeStoreFile, shmName, tempDir } from '../helpers/fixtures.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');
const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;

interface Plan {
  tables?: { path: string; words: [number, number][] }[];
  symlinks?: [string, string][];
  files?: [string, string][];
  fifos?: string[];
}

let nobodyDir: string | undefined;
/**
 * A folder uid 65534 can enter, holding a copy of the running node and of the planting script:
 * either may sit where that user cannot reach (a Node binary cached under /root, a checkout in a home).
 */
function reachableByNobody(): { node: string; plant: string } {
  if (nobodyDir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-nobody-'));
    fs.chmodSync(dir, 0o755);
    fs.copyFileSync(process.execPath, path.join(dir, 'node'));
    fs.chmodSync(path.join(dir, 'node'), 0o755);
    fs.copyFileSync(path.join(children, 'plant.mjs'), path.join(dir, 'plant.mjs'));
    fs.chmodSync(path.join(dir, 'plant.mjs'), 0o644);
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    nobodyDir = dir;
  }
  return { node: path.join(nobodyDir, 'node'), plant: path.join(nobodyDir, 'plant.mjs') };
}

/** Runs the attacker's planting as uid/gid 65534. */
function plantAsNobody(plan: Plan): void {
  const { node, plant } = reachableByNobody();
  execFileSync(
    'setpriv',
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      // A bare environment: tap's loaders (NODE_OPTIONS) would try to write where this user cannot.
      'env',
      '-i',
      `PATH=${process.env['PATH']}`,
      node,
      plant,
      JSON.stringify(plan),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

interface UserReport {
  warnings: string[];
  sideModes: Record<string, number>;
}

/** An ordinary process of ours (root here) that polls, sets and watches the store. */
function runUser(target: string, options: { create?: boolean; trustShared?: boolean; env?: NodeJS.ProcessEnv; umask?: string } = {}): UserReport {
  const how = options.create ? 'create' : options.trustShared ? 'open-shared' : 'open';
  const args = ['--import', 'tsx', path.join(children, 'bus-user.ts'), target, how];
  const env = { ...process.env, ...options.env };
  const out =
    options.umask === undefined
      ? execFileSync(process.execPath, args, { encoding: 'utf8', env })
      : execFileSync('sh', ['-c', `umask ${options.umask}; exec "$@"`, 'sh', process.execPath, ...args], { encoding: 'utf8', env });
  return JSON.parse(out) as UserReport;
}

/** runUser, several at once. */
function runUsersAtOnce(target: string, count: number): Promise<UserReport[]> {
  const args = ['--import', 'tsx', path.join(children, 'bus-user.ts'), target, 'open'];
  return Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      return new Promise<UserReport>((resolve) => child.once('exit', () => resolve(JSON.parse(out) as UserReport)));
    }),
  );
}

/** A root-owned 0600 file with a known mtime, in a root-only folder. */
function makeVictim(t: Test): { path: string; unchanged(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-victim-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'victim');
  const content = 'precious root-only bytes\n';
  fs.writeFileSync(file, content, { mode: 0o600 });
  const past = new Date('2020-01-01T00:00:00Z');
  fs.utimesSync(file, past, past);
  return {
    path: file,
    unchanged() {
      t.equal(fs.readFileSync(file, 'utf8'), content, 'the victim file holds its bytes');
      t.equal(fs.statSync(file).mtimeMs, past.getTime(), 'the victim file was never written (mtime unchanged)');
    },
  };
}

function storeIdentity(name: string): string {
  const { dev, ino } = fs.statSync(`/dev/shm/${name}`);
  return `${dev}-${ino}`;
}

/** Removes what the attacker planted (links, files and FIFOs named after the store). */
function cleanPlanted(t: Test, identity: string): void {
  t.teardown(() => {
    const prefix = `.splinter-bus-${identity}`;
    for (const name of fs.readdirSync('/dev/shm')) {
      if (name === prefix || name.startsWith(`${prefix}.`)) fs.rmSync(`/dev/shm/${name}`, { force: true });
    }
  });
}

const word = (entry: number, field: keyof typeof ENTRY): number => entryBase(entry) + ENTRY[field];

t.test('another user plants a 0666 table and symlinks: a root process never writes outside its files', { skip: !isRoot && 'needs root (setpriv)' }, async (t) => {
  const name = shmName(t);
  Store.create(name, { slots: 32, maxValueSize: 64 }).close();
  const identity = storeIdentity(name);
  cleanPlanted(t, identity);
  const victim = makeVictim(t);
  const table = `/dev/shm/.splinter-bus-${identity}`;
  // A waiter that looks alive (pid 1), armed, whose FIFO name is a symlink to the victim.
  plantAsNobody({
    tables: [{ path: table, words: [[ARMED_COUNT, 1], [word(0, 'pid'), 1], [word(0, 'token'), 4242], [word(0, 'armed'), 1]] }],
    symlinks: [[`${table}.1.4242`, victim.path]],
  });
  const plantedTable = fs.readFileSync(table);
  const report = runUser(name);
  victim.unchanged();
  t.same(fs.readFileSync(table), plantedTable, 'the planted table was not written either');
  t.equal(fs.statSync(table).uid, NOBODY, 'and is still the planter’s');
  t.equal(report.warnings.length, 1, 'the fallback to polling is said once');
  t.match(report.warnings[0], /doorbell table|\.splinter-bus-/, 'naming the side file');
  t.equal(Object.keys(report.sideModes).filter((n) => n !== 'table' && !n.startsWith('.1.')).length, 0, 'no FIFO of ours was made beside a refused table');
});

t.test('another user plants a symlink at the table name: refused, said once, victim untouched', { skip: !isRoot && 'needs root (setpriv)' }, async (t) => {
  const name = shmName(t);
  Store.create(name, { slots: 32, maxValueSize: 64 }).close();
  const identity = storeIdentity(name);
  cleanPlanted(t, identity);
  const victim = makeVictim(t);
  plantAsNobody({ symlinks: [[`/dev/shm/.splinter-bus-${identity}`, victim.path]] });
  const report = runUser(name);
  victim.unchanged();
  t.ok(fs.lstatSync(`/dev/shm/.splinter-bus-${identity}`).isSymbolicLink(), 'the link is left where it was');
  t.equal(report.warnings.length, 1, 'the fallback to polling is said once');
});

t.test('a store owned by another user: its hostile table is read as untrusted input', { skip: !isRoot && 'needs root (setpriv)' }, async (t) => {
  const name = shmName(t);
  Store.create(name, { slots: 32, maxValueSize: 64 }).close();
  fs.chownSync(`/dev/shm/${name}`, NOBODY, NOBODY);
  fs.chmodSync(`/dev/shm/${name}`, 0o666);
  const identity = storeIdentity(name);
  cleanPlanted(t, identity);
  const victim = makeVictim(t);
  const table = `/dev/shm/.splinter-bus-${identity}`;
  const armed = (entry: number, pid: number, token: number): [number, number][] => [
    [word(entry, 'pid'), pid],
    [word(entry, 'token'), token],
    [word(entry, 'armed'), 1],
  ];
  plantAsNobody({
    tables: [
      {
        path: table,
        words: [
          [ARMED_COUNT, -7],
          ...armed(0, 1, 111), // FIFO name: a symlink to the victim
          ...armed(1, -5, 7), // negative pid (kill(-5) would signal a process group)
          ...armed(2, 0x7fffffff, 9), // beyond any pid_max
          ...armed(3, 1, -3), // negative token
          ...armed(4, 1, 222), // FIFO name: a regular file of the planter's
          ...armed(5, -1, -1),
          ...armed(6, 1, 333), // FIFO name: a FIFO of the planter's (the store's owner): ringing it is harmless
          [word(7, 'pid'), 1],
          [word(7, 'armed'), -1],
          [word(7, 'pending'), 0x40000000],
        ],
      },
    ],
    symlinks: [
      [`${table}.1.111`, victim.path],
      [`${table}.-5.7`, victim.path],
      [`${table}.2147483647.9`, victim.path],
      [`${table}.1.4294967293`, victim.path],
      [`${table}.1.-3`, victim.path],
      [`${table}.-1.4294967295`, victim.path],
    ],
    files: [[`${table}.1.222`, 'planted\n']],
    fifos: [`${table}.1.333`],
  });
  const report = runUser(name, { trustShared: true }); // a store of another user, opened on purpose
  victim.unchanged();
  t.equal(fs.readFileSync(`${table}.1.222`, 'utf8'), 'planted\n', 'the planted regular file at a FIFO name was not written');
  t.equal(report.warnings.length, 1, 'the refused FIFOs are said once');
  for (const link of [`${table}.1.111`, `${table}.-5.7`]) t.ok(fs.lstatSync(link).isSymbolicLink(), `${path.basename(link)} left alone`);
  t.ok(Object.keys(report.sideModes).some((n) => n.startsWith('.') && /^\.\d+\.\d+$/.test(n) && n !== '.1.333'), 'our waiter still registered a FIFO of its own in the table');
});

t.test('side files take the store’s mode, never wider, whatever the process umask', async (t) => {
  t.test('SPLINTER_DEFAULT_UMASK=077 under umask 000: store, table and FIFO are 0600', async (t) => {
    const name = shmName(t);
    const report = runUser(name, { create: true, umask: '000', env: { SPLINTER_DEFAULT_UMASK: '077' } });
    t.equal(fs.statSync(`/dev/shm/${name}`).mode & 0o777, 0o600, 'the store honours the mask');
    const modes = Object.values(report.sideModes);
    t.ok(modes.length >= 2, `a table and a FIFO were made (${Object.keys(report.sideModes).join(', ')})`);
    t.same(report.sideModes, Object.fromEntries(Object.keys(report.sideModes).map((n) => [n, 0o600])), 'every side file is 0600');
    t.same(report.warnings, [], 'nothing to warn about');
  });

  t.test('a store chmod-ed 0640, opened under umask 000: side files are 0640', async (t) => {
    const name = shmName(t);
    Store.create(name, { slots: 32, maxValueSize: 64 }).close();
    fs.chmodSync(`/dev/shm/${name}`, 0o640);
    const report = runUser(name, { umask: '000' });
    t.ok(Object.keys(report.sideModes).length >= 2, 'a table and a FIFO were made');
    t.same(report.sideModes, Object.fromEntries(Object.keys(report.sideModes).map((n) => [n, 0o640])), 'every side file is 0640');
    t.same(report.warnings, [], 'nothing to warn about');
  });
});

t.test('Store.unlink removes our side files, never links or files of another user', { skip: !isRoot && 'needs root (setpriv)' }, async (t) => {
  const name = shmName(t);
  const store = Store.create(name, { slots: 32, maxValueSize: 64 });
  const identity = storeIdentity(name);
  cleanPlanted(t, identity);
  const table = `/dev/shm/.splinter-bus-${identity}`;
  const pending = store.poll('k', { timeout: 2000 });
  const ours = fs.readdirSync('/dev/shm').filter((n) => n.startsWith(`.splinter-bus-${identity}`));
  t.ok(ours.length >= 2, 'a table and a FIFO of ours exist');
  const victim = makeVictim(t);
  plantAsNobody({ symlinks: [[`${table}.77.88`, victim.path]], files: [[`${table}.99.11`, 'theirs\n']] });
  Store.unlink(name);
  for (const n of ours) t.notOk(fs.existsSync(`/dev/shm/${n}`), `${n} removed`);
  t.ok(fs.lstatSync(`${table}.77.88`).isSymbolicLink(), 'the planted link is left alone');
  t.equal(fs.readFileSync(`${table}.99.11`, 'utf8'), 'theirs\n', 'the planted file is left alone');
  victim.unchanged();
  store.set('k', 'v');
  t.equal(await pending, true, 'the open handle keeps working');
  store.close();
  removeStoreFile(`/dev/shm/${name}`);
});

t.test('the doorbell still rings across processes of ours, and a dead waiter’s FIFO is cleared', async (t) => {
  const name = shmName(t);
  // A fallback poll of ten minutes: only the doorbell can wake this waiter in time.
  const store = Store.create(name, { slots: 32, maxValueSize: 64 }, { pollIntervalMs: 600_000 });
  t.teardown(() => store.close());
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }): void => {
    if (warning.code === 'SPLINTER_SIDEFILE') warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));

  const started = performance.now();
  const polled = store.poll('k', { timeout: 20_000 });
  const setter = spawn(process.execPath, ['--import', 'tsx', path.join(children, 'setter.ts'), name, '100', 'k=rung'], { stdio: 'inherit' });
  t.equal(await polled, true, 'a write in another process of ours wakes the poll');
  t.ok(performance.now() - started < 10_000, 'through the doorbell, long before the fallback poll');
  await new Promise((resolve) => setter.once('exit', resolve));

  const waiter = spawn(process.execPath, ['--import', 'tsx', path.join(children, 'wait-forever.ts'), name], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => waiter.stdout.once('data', () => resolve()));
  const prefix = `.splinter-bus-${storeIdentity(name)}.${waiter.pid}.`;
  const fifosOfWaiter = (): string[] => fs.readdirSync('/dev/shm').filter((n) => n.startsWith(prefix));
  t.equal(fifosOfWaiter().length, 1, 'the other waiter listens on a FIFO of its own');
  waiter.kill('SIGKILL');
  await new Promise((resolve) => waiter.once('exit', resolve));
  store.set('never', 'rings a dead waiter');
  t.same(fifosOfWaiter(), [], 'ringing a dead waiter removes its FIFO');
  t.same(warnings, [], 'no side file was refused');
});

t.test('processes of ours racing to make the table: one makes it, every one uses it', async (t) => {
  const name = shmName(t);
  Store.create(name, { slots: 32, maxValueSize: 64 }).close();
  const identity = storeIdentity(name);
  const reports = await runUsersAtOnce(name, 4);
  t.same(
    reports.map((r) => r.warnings),
    [[], [], [], []],
    'no process found the table unusable (none saw it unsized or half made)',
  );
  t.ok(reports.every((r) => r.sideModes['table'] !== undefined), 'each saw the table');
  const left = fs.readdirSync('/dev/shm').filter((n) => n.startsWith(`.splinter-bus-${identity}`));
  t.same(left, [`.splinter-bus-${identity}`], 'one table, no temporary name or FIFO left behind');
  t.equal(fs.statSync(`/dev/shm/${left[0]}`).size, 4096, 'of its full size');
});

t.test('a hard link at the table name (where protected_hardlinks is off) is refused', async (t) => {
  const name = shmName(t);
  Store.create(name, { slots: 32, maxValueSize: 64 }).close();
  const identity = storeIdentity(name);
  cleanPlanted(t, identity);
  // Another file of the same owner, of the table's size and a narrower mode: only its second name gives it away.
  const other = `/dev/shm/${shmName(t, 'other-file')}`;
  const content = Buffer.alloc(4096, 0);
  fs.writeFileSync(other, content, { mode: 0o600 });
  const past = new Date('2020-01-01T00:00:00Z');
  fs.utimesSync(other, past, past);
  fs.linkSync(other, `/dev/shm/.splinter-bus-${identity}`);
  const report = runUser(name);
  t.ok(fs.readFileSync(other).equals(content), 'the other file holds its bytes');
  t.equal(fs.statSync(other).mtimeMs, past.getTime(), 'and was never written');
  t.equal(report.warnings.length, 1, 'the fallback to polling is said once');
  t.match(report.warnings[0], /2 names/, 'naming the second name');
});

t.test('a FIFO name already taken by a link: neither made through it nor rung through it', async (t) => {
  const victim = makeVictim(t);
  const dir = fs.mkdtempSync('/dev/shm/splinter-test-fifo-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const link = path.join(dir, 'fifo');
  fs.symlinkSync(victim.path, link);
  const store = { uid: process.geteuid!(), gid: process.getegid!(), mode: 0o600 };
  t.type(createFifo(link, store), 'string', 'making a FIFO at a taken name is refused');
  t.match(openDoorbell(link, store), /symbolic link/, 'ringing through a link is refused');
  fs.rmSync(link);
  fs.writeFileSync(link, 'plain');
  t.match(openDoorbell(link, store), /not a FIFO/, 'ringing a regular file is refused (nothing written)');
  t.equal(fs.readFileSync(link, 'utf8'), 'plain');
  t.ok(fs.lstatSync(path.join(dir, 'fifo')).isFile(), 'the names are left as they were');
  victim.unchanged();
});

t.test('a plain writer makes no doorbell table, and still rings a waiter that comes later', async (t) => {
  // A file store that a waiter once used (its header says a table exists), copied: the copy is a
  // new inode whose table was never made, as after a restore, or a reboot cleared /dev/shm.
  const dir = tempDir(t);
  const original = path.join(dir, 'waited-on.spl');
  const waitedOn = Store.create(original, { slots: 32, maxValueSize: 64 });
  await waitedOn.poll('k', { timeout: 1 });
  waitedOn.close();
  const copy = path.join(dir, 'copy.spl');
  fs.copyFileSync(original, copy);
  Store.unlink(original);
  const { dev, ino } = fs.statSync(copy);
  const prefix = `.splinter-bus-${dev}-${ino}`;
  const sideFiles = (): string[] => fs.readdirSync('/dev/shm').filter((n) => n === prefix || n.startsWith(`${prefix}.`));
  t.teardown(() => {
    for (const n of sideFiles()) fs.rmSync(`/dev/shm/${n}`, { force: true });
  });

  const writer = spawn(process.execPath, ['--import', 'tsx', path.join(children, 'set-twice.ts'), copy, 'first', 'second'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // Every line is kept as it comes (a line that came before anyone asked for it is not lost), and handed out in order.
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  writer.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.trim().split('\n'));
    while (lines.length > 0 && waiting.length > 0) waiting.shift()!(lines.shift()!);
  });
  const nextLine = (): Promise<string> =>
    new Promise((resolve) => {
      if (lines.length > 0) resolve(lines.shift()!);
      else waiting.push(resolve);
    });
  t.equal(await nextLine(), 'ready');
  t.same(sideFiles(), [], 'a write with no waiter anywhere made no side file in /dev/shm');

  // Now a waiter comes (it makes the table); a fallback poll of ten minutes: only the doorbell wakes it in time.
  const store = Store.open(copy, { pollIntervalMs: 600_000 });
  const started = performance.now();
  const polled = store.poll('second', { timeout: 30_000 });
  writer.stdin.write('go\n');
  t.equal(await polled, true, 'the writer, which found no table before, rings the waiter that made one since');
  t.ok(performance.now() - started < 20_000, 'through the doorbell, not the fallback poll');
  t.equal(await nextLine(), 'done');
  store.close();
  Store.unlink(copy);
  t.same(sideFiles(), [], 'and Store.unlink removes the table the waiter made');
});
