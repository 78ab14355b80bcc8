/**
 * A store is given its space when it is created: on a file system with no room, create fails with
 * ENOSPC and leaves no file, and a store that was created never dies of SIGBUS on a later write.
 * Each case runs in a private mount namespace (`unshare -m`) over a 1 MiB tmpfs: at /dev/shm for
 * shm stores (the real one is not touched), and over a folder of the test's for file stores.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cliEnv } from '../cli/helpers.js';
import { testedLauncher } from '../cli/compiled.js';
import { tempDir } from '../helpers/fixtures.js';
import { ROUTES, routeSkip } from '../helpers/routes.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'tiny-fs.ts');

/** Why a private mount namespace cannot be had here, or false. */
function namespaceSkip(): string | false {
  if (process.geteuid?.() !== 0) return 'needs root for unshare -m and mount';
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /dev/shm'], { encoding: 'utf8' });
  return probe.status === 0 ? false : `no private mount namespace here (${(probe.error?.message ?? probe.stderr).trim()})`;
}

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `command…` in a new mount namespace where `dir` is a fresh 1 MiB tmpfs. */
function onTinyTmpfs(dir: string, command: string[]): Outcome {
  const script = 'mount -t tmpfs -o size=1m tmpfs "$0" || exit 99; exec "$@"';
  const result = spawnSync('unshare', ['-m', 'sh', '-c', script, dir, ...command], {
    encoding: 'utf8',
    env: cliEnv(),
    timeout: 120_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

interface Report {
  code?: string;
  message?: string;
  sets?: number;
  left: boolean;
}

function scenario(dir: string, target: string, name: string, route: string): Report & { signal: NodeJS.Signals | null; stderr: string } {
  const outcome = onTinyTmpfs(dir, [process.execPath, '--import', 'tsx', child, name, route, dir, target]);
  if (outcome.status !== 0) return { left: true, signal: outcome.signal, stderr: outcome.stderr, code: `exit ${outcome.status}` };
  return { ...(JSON.parse(outcome.stdout) as Report), signal: null, stderr: outcome.stderr };
}

const skip = namespaceSkip();
// Every case starts a child in a mount namespace of its own: slower than tap's default allows on a busy machine.
t.setTimeout(300_000);

for (const route of ROUTES) {
  for (const kind of ['shm', 'file'] as const) {
    t.test(`${kind} stores on a full file system, ${route} route`, { skip: skip || routeSkip(route) }, async (t) => {
      const dir = kind === 'shm' ? '/dev/shm' : tempDir(t);
      const target = kind === 'shm' ? `full-disk-${process.pid}` : path.join(dir, 'store.spl');

      const tooBig = scenario(dir, target, 'too-big', route);
      t.equal(tooBig.signal, null, 'no signal killed the process');
      t.equal(tooBig.code, 'ENOSPC', `a 4.3 MB store on a 1 MiB file system is ENOSPC at create (${tooBig.stderr})`);
      t.match(tooBig.message ?? '', /4330816 bytes/, 'naming the size');
      t.match(tooBig.message ?? '', target, 'and the target');
      t.equal(tooBig.left, false, 'and no file is left');

      const fits = scenario(dir, target, 'fill-then-write', route);
      t.equal(fits.signal, null, 'writes into a store created before the file system filled up never SIGBUS');
      t.same({ code: fits.code, sets: fits.sets }, { code: undefined, sets: 48 }, `all 48 values of 4 KiB were written (${fits.stderr})`);

      const noTable = scenario(dir, target, 'no-room-for-table', route);
      t.equal(noTable.signal, null, 'a slot table that does not fit is no SIGBUS');
      t.equal(noTable.code, 'ENOSPC', `but ENOSPC at create (${noTable.stderr})`);
      t.equal(noTable.left, false, 'leaving no file with magic 0 behind');
    });
  }
}

t.test('splinter init of a store larger than the file system: ENOSPC, nothing created', { skip }, async (t) => {
  const name = `full-disk-init-${process.pid}`;
  const outcome = onTinyTmpfs('/dev/shm', [
    'sh',
    '-c',
    '"$@"; echo "exit $?"; ls -A /dev/shm',
    'sh',
    process.execPath,
    testedLauncher().bin,
    '--json',
    'init',
    name,
    '--slots',
    '1024',
    '--max-value',
    '4096',
  ]);
  t.equal(outcome.signal, null);
  t.equal(outcome.stdout, 'exit 1\n', 'init exits 1 and /dev/shm is left empty');
  const error = (JSON.parse(outcome.stderr) as { error: { code: string; message: string } }).error;
  t.equal(error.code, 'ENOSPC');
  t.match(error.message, /no room for its 4330816 bytes/);
});
