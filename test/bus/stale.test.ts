/**
 * A store unlinked, or replaced under its name, ends the waits of handles still on the old one
 * with ESTALE (nothing would ever write the old memory again), and `store.stale` says so.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';

const children = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');
const geometry = { slots: 32, maxValueSize: 64 };
/** Generous on a loaded machine: the name is looked at every 250 ms. */
const DEADLINE_MS = 5000;

/** How a wait ended, and after how long: an error's code, 'value' when it resolved, 'none' past the deadline. */
async function outcome(wait: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('none'), DEADLINE_MS)));
  const code = await Promise.race([
    wait.then(
      () => 'value',
      (error: unknown) => String((error as { code?: unknown }).code ?? error),
    ),
    late,
  ]);
  clearTimeout(timer);
  return { code, ms: Math.round(performance.now() - started) };
}

/** Unlinks the store's name and creates another store there, as a restarted producer would. */
function recreate(name: string): Store {
  Store.unlink(name);
  return Store.create(name, geometry);
}

t.test('shm store unlinked and created again: watch, signals and poll end with ESTALE', async (t) => {
  const name = shmName(t);
  const old = Store.create(name, geometry);
  t.teardown(() => old.close());
  const changes = old.watch('k');
  const counts = old.signals(5);
  const polled = old.poll('k');
  const nextChange = changes.next();
  const nextCount = counts.next();
  t.equal(old.stale, false, 'not stale while the name leads to it');
  const fresh = recreate(name);
  t.teardown(() => fresh.close());
  const [watched, signalled, poll] = await Promise.all([outcome(nextChange), outcome(nextCount), outcome(polled)]);
  t.comment(`ESTALE after ${watched.ms} ms (watch), ${signalled.ms} ms (signals), ${poll.ms} ms (poll)`);
  t.equal(watched.code, 'ESTALE', 'watch: next() rejects with ESTALE');
  t.equal(signalled.code, 'ESTALE', 'signals: next() rejects with ESTALE');
  t.equal(poll.code, 'ESTALE', 'poll rejects with ESTALE');
  const after = changes.next().then((result) => (result.done === true ? 'done' : 'a value'));
  t.equal(await Promise.race([after, new Promise((resolve) => setTimeout(resolve, DEADLINE_MS, 'still waiting').unref())]), 'done', 'the watch is over after its error');
  t.equal(old.stale, true, 'the old handle says it is stale');
  t.equal(fresh.stale, false, 'the new one is not');
  t.equal((await outcome(old.poll('k'))).code, 'ESTALE', 'a new wait on the stale handle fails at once');
  old.set('k', 'still');
  t.equal(old.getString('k'), 'still', 'its other calls keep working on the old memory');
  t.equal(fresh.has('k'), false, 'which the new store does not see');
});

t.test('shm store unlinked without a new one: waits end with ESTALE', async (t) => {
  const name = shmName(t);
  const store = Store.create(name, geometry);
  t.teardown(() => store.close());
  const changes = store.watch(['a', 'b']);
  const next = changes.next();
  const polled = store.poll('a', { timeout: 60_000 });
  Store.unlink(name);
  const [watched, poll] = await Promise.all([outcome(next), outcome(polled)]);
  t.comment(`ESTALE after ${watched.ms} ms (watch), ${poll.ms} ms (poll)`);
  t.equal(watched.code, 'ESTALE');
  t.equal(poll.code, 'ESTALE');
  t.equal(store.stale, true);
});

t.test('a change queued before the store was replaced is still delivered, then ESTALE', async (t) => {
  const name = shmName(t);
  const old = Store.create(name, geometry);
  t.teardown(() => old.close());
  const changes = old.watch('k');
  old.set('k', 'v');
  const fresh = recreate(name);
  t.teardown(() => fresh.close());
  t.same((await changes.next()).value, { key: 'k', epoch: old.getEpoch('k') }, 'the change made before');
  t.equal((await outcome(changes.next())).code, 'ESTALE', 'then the error');
});

t.test('file store renamed over: the waits end with ESTALE, stale turns true', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'store.spl');
  const old = Store.create(file, geometry);
  t.teardown(() => old.close());
  const changes = old.watch('k');
  const next = changes.next();
  const polled = old.poll('k');
  const other = path.join(dir, 'other.spl');
  Store.create(other, geometry).close();
  fs.renameSync(other, file);
  const [watched, poll] = await Promise.all([outcome(next), outcome(polled)]);
  t.comment(`ESTALE after ${watched.ms} ms (watch), ${poll.ms} ms (poll)`);
  t.equal(watched.code, 'ESTALE');
  t.equal(poll.code, 'ESTALE');
  t.equal(old.stale, true);
});

t.test('a store that is not replaced never gets ESTALE', async (t) => {
  const dir = tempDir(t);
  const name = shmName(t);
  const stores = [Store.create(name, geometry), Store.create(path.join(dir, 'kept.spl'), geometry)];
  t.teardown(() => stores.forEach((store) => store.close()));
  for (const store of stores) {
    const changes = store.watch('k');
    const next = changes.next();
    const polled = store.poll('k', { timeout: 3000 });
    t.equal(await polled, false, 'a poll runs to its timeout');
    const pending = await Promise.race([next.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(resolve, 200, 'pending'))]);
    t.equal(pending, 'pending', 'the watch still waits');
    store.set('k', 'v');
    t.same((await next).value, { key: 'k', epoch: store.getEpoch('k') }, 'and gets the change');
    await changes.return?.();
    t.equal(store.stale, false);
  }
  const shared = Store.createShared(geometry);
  t.equal(shared.stale, false, 'a SharedArrayBuffer store has no name to lose');
  shared.close();
});

/** Starts a child waiting on the store; resolves with its report once the store is replaced. */
function childOutcome(t: { teardown(fn: () => void): void }, name: string, how: string, replace: () => void): Promise<{ report: Record<string, unknown>; ms: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(children, 'stale-waiter.ts'), name, how], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  t.teardown(() => {
    clearTimeout(killer);
    child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let replacedAt = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (replacedAt === 0 && out.startsWith('ready\n')) {
        replacedAt = performance.now();
        // A moment for the child to arm its wait after saying so.
        setTimeout(replace, 100);
      }
    });
    child.on('exit', () => {
      const line = out.split('\n')[1];
      if (line === undefined || line === '') reject(new Error(`the child ended without a report: ${JSON.stringify(out)}`));
      else resolve({ report: JSON.parse(line) as Record<string, unknown>, ms: Math.round(performance.now() - replacedAt - 100) });
    });
  });
}

for (const how of ['watch', 'signals', 'poll', 'pollSync']) {
  t.test(`${how} in a child process ends with ESTALE when the store is unlinked and created again`, async (t) => {
    const name = shmName(t);
    Store.create(name, geometry).close();
    let fresh: Store | undefined;
    t.teardown(() => fresh?.close());
    const { report, ms } = await childOutcome(t, name, how, () => (fresh = recreate(name)));
    t.comment(`the child reported ESTALE ${ms} ms after the store was replaced`);
    t.same(report, { code: 'ESTALE', stale: true }, 'the wait ended with ESTALE and the handle says it is stale');
    t.ok(ms < DEADLINE_MS + 2000, `within a few seconds (${ms} ms, node start-up excluded)`);
  });
}

t.test('a store still reached by another name of a handle here keeps its waits', async (t) => {
  const dir = tempDir(t);
  const first = path.join(dir, 'first.spl');
  const second = path.join(dir, 'second.spl');
  const byFirst = Store.create(first, geometry);
  t.teardown(() => byFirst.close());
  fs.linkSync(first, second);
  const bySecond = Store.open(second);
  t.teardown(() => bySecond.close());
  const polled = byFirst.poll('k', { timeout: 1500 });
  fs.unlinkSync(first);
  t.equal((await outcome(polled)).code, 'value', 'the poll runs to its timeout: writers may still open the other name');
  t.equal(byFirst.stale, true, 'the handle whose name is gone is stale');
  t.equal(bySecond.stale, false, 'the other is not');
  bySecond.close();
  t.equal((await outcome(byFirst.poll('k'))).code, 'ESTALE', 'with only the gone name left, its waits end');
});
