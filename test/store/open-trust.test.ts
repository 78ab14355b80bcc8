/**
 * Opening a store by name against another local user: a symbolic link planted at a shm name is
 * refused (ELOOP, as C's shm_open), a store another user owns or that others may write is refused
 * (EPERM) unless the caller says it trusts shared stores, and a denied open is EACCES.
 * The other user is uid 65534 (setpriv), so these run as root.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { cli } from '../cli/helpers.js';
import { throwsCode } from '../helpers/assert.js';
import { shmName } from '../helpers/fixtures.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');
const NOBODY = 65534;
const rootSkip = process.geteuid?.() !== 0 ? 'needs root to act as another user (setpriv)' : false;
const geometry = { slots: 16, maxValueSize: 64 };

/** Runs a command as uid/gid 65534 with a bare environment (tap's loaders would write where that user cannot). */
function asNobody(command: string[], input?: Buffer): string {
  return execFileSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'env', '-i', `PATH=${process.env['PATH']}`, ...command], {
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
}

let nobodyNode: string | undefined;
/**
 * A copy of the running node in a folder uid 65534 can enter: the binary itself may sit where that
 * user cannot reach (CI caches Node 22 and 24 under /root).
 */
function nodeForNobody(): string {
  if (nobodyNode === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-nobody-'));
    fs.chmodSync(dir, 0o755);
    nobodyNode = path.join(dir, 'node');
    fs.copyFileSync(process.execPath, nobodyNode);
    fs.chmodSync(nobodyNode, 0o755);
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return nobodyNode;
}

/** Why uid 65534 cannot run our opener from this checkout (a checkout it cannot read), or false. */
function checkoutSkip(): string | false {
  if (rootSkip !== false) return rootSkip;
  try {
    asNobody(['test', '-r', path.join(children, 'open-as.ts')]);
    return false;
  } catch {
    return 'uid 65534 cannot read this checkout, so it cannot run our opener';
  }
}

/** What our opener reports when uid 65534 runs it: { ok } or { code, message }. */
function openAsNobody(how: string, target: string, trust = false): { ok?: boolean; code?: string; message?: string } {
  const out = asNobody([nodeForNobody(), '--import', 'tsx', path.join(children, 'open-as.ts'), how, target, trust ? 'trust' : 'no']);
  return JSON.parse(out) as { ok?: boolean; code?: string; message?: string };
}

/** A store image of our geometry, as bytes another user can write under a name of theirs. */
function storeImage(t: Parameters<typeof shmName>[0]): Buffer {
  const name = shmName(t, 'image');
  Store.create(name, geometry).close();
  return fs.readFileSync(`/dev/shm/${name}`);
}

t.test('a symlink another user planted at a shm name: ELOOP, never followed', { skip: rootSkip }, async (t) => {
  const victim = shmName(t, 'victim');
  Store.create(victim, geometry).close();
  const before = fs.readFileSync(`/dev/shm/${victim}`);
  const name = shmName(t, 'planted-link');
  asNobody(['ln', '-s', `/dev/shm/${victim}`, `/dev/shm/${name}`]);
  t.teardown(() => fs.rmSync(`/dev/shm/${name}`, { force: true })); // the link itself (shmName removes only files)
  t.ok(fs.lstatSync(`/dev/shm/${name}`).isSymbolicLink(), 'the link is in place, owned by uid 65534');
  const error = throwsCode(t, () => Store.open(name), 'ELOOP', 'open refuses the link');
  t.match(error?.message ?? '', /symbolic link/);
  throwsCode(t, () => Store.openOrCreate(name, geometry), 'ELOOP', 'openOrCreate refuses it too (and creates nothing through it)');
  throwsCode(t, () => Store.createOrOpen(name, geometry), 'ELOOP', 'createOrOpen: the name is taken (EEXIST), and the link is not opened');
  t.ok(fs.readFileSync(`/dev/shm/${victim}`).equals(before), 'the store the link points at was never written');
});

t.test('a 0666 store another user created first: EPERM, unless trustShared', { skip: rootSkip }, async (t) => {
  const name = shmName(t, 'theirs');
  // uid 65534 creates the name first, world-writable, holding a sound store.
  asNobody(['sh', '-c', `umask 0; cat > /dev/shm/${name}`], storeImage(t));
  const stat = fs.statSync(`/dev/shm/${name}`);
  t.same([stat.uid, stat.mode & 0o777], [NOBODY, 0o666], 'made by uid 65534 with mode 0666');
  for (const [call, open] of [
    ['open', () => Store.open(name)],
    ['openOrCreate', () => Store.openOrCreate(name, geometry)],
    ['createOrOpen', () => Store.createOrOpen(name, geometry)],
  ] as const) {
    const error = throwsCode(t, open, 'EPERM', `${call} refuses it`);
    t.match(error?.message ?? '', /belongs to uid 65534.*trustShared/, `${call} says whose it is and how to accept it`);
  }
  const trusted = Store.open(name, { trustShared: true });
  trusted.set('k', 'v');
  t.equal(trusted.getString('k'), 'v', 'with trustShared: true it opens');
  trusted.close();
  throwsCode(t, () => Store.open(name, { trustShared: 'yes' as unknown as boolean }), 'EINVAL', 'trustShared is checked like every option');
});

t.test("a store of ours that others may write, or another user's that only they may: EPERM", { skip: rootSkip }, async (t) => {
  const groupWritable = shmName(t, 'group-writable');
  Store.create(groupWritable, geometry).close();
  fs.chmodSync(`/dev/shm/${groupWritable}`, 0o664);
  t.match(throwsCode(t, () => Store.open(groupWritable), 'EPERM', 'a 0664 store of ours')?.message ?? '', /mode 0664 lets its group write it/);
  Store.open(groupWritable, { trustShared: true }).close();

  const theirs = shmName(t, 'theirs-private');
  Store.create(theirs, geometry).close();
  fs.chownSync(`/dev/shm/${theirs}`, NOBODY, NOBODY);
  throwsCode(t, () => Store.open(theirs), 'EPERM', 'root does not adopt a 0644 store of uid 65534');

  const ours = shmName(t, 'ours');
  Store.create(ours, geometry).close();
  Store.open(ours).close();
  t.pass('a store of ours with the default mode opens as before');
});

t.test('our opener running as another user, against a root-made 0666 store', { skip: checkoutSkip() }, async (t) => {
  const name = shmName(t, 'root-0666');
  Store.create(name, geometry).close();
  fs.chmodSync(`/dev/shm/${name}`, 0o666);
  for (const how of ['open', 'openOrCreate', 'createOrOpen']) {
    const refused = openAsNobody(how, name);
    t.equal(refused.code, 'EPERM', `${how} as uid 65534: ${refused.message}`);
    t.match(refused.message ?? '', /mode 0666 lets its group and everyone else write it/);
  }
  t.same(openAsNobody('open', name, true), { ok: true }, 'with trustShared it opens and writes');
  const store = Store.open(name, { trustShared: true });
  t.equal(store.getString('written-by'), String(NOBODY));
  store.close();

  const denied = shmName(t, 'root-0644');
  Store.create(denied, geometry).close();
  const error = openAsNobody('open', denied);
  t.equal(error.code, 'EACCES', 'a store the system does not let us open read-write is EACCES, not EINVAL');
  t.match(error.message ?? '', /permission denied/);
});

t.test('splinter refuses a store others may write unless --trust-shared', async (t) => {
  const name = shmName(t, 'cli-0666');
  Store.create(name, geometry).close();
  fs.chmodSync(`/dev/shm/${name}`, 0o666);
  const refused = cli(['--json', '--use', name, 'set', 'k', 'v']);
  t.equal(refused.code, 1);
  const error = (JSON.parse(refused.stderr) as { error: { code: string; message: string } }).error;
  t.equal(error.code, 'EPERM');
  t.match(error.message, /mode 0666.*--trust-shared/);
  const trusted = cli(['--trust-shared', '--use', name, 'set', 'k', 'v']);
  t.equal(trusted.code, 0, trusted.stderr);
  const read = cli(['--use', name, 'get', 'k', '--trust-shared']);
  t.equal(read.stdout, 'v\n', 'the flag may come anywhere, as the other global options');
});
