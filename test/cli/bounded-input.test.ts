/**
 * set and append read a file or stdin only up to one byte past maxValueSize: `--file /dev/zero`
 * and an endless pipe end quickly with EMSGSIZE, in little memory, and the key is untouched.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { testedLauncher } from './compiled.js';
import { cli, cliEnv, oneLineError } from './helpers.js';

t.setTimeout(300_000);

const MAX_VALUE = 4096;
/** Far above what reading 4 KiB needs, far below what reading an endless input reaches in the time allowed. */
const RSS_BOUND_KB = 400 * 1024;

interface Measured {
  code: number | null;
  stderr: string;
  maxRssKb: number;
}

/** Runs `[source |] splinter ARGS…` under /usr/bin/time; a child still reading after 60 s is killed. */
function measured(args: string[], env: Record<string, string>, source?: string): Measured {
  const quoted = [process.execPath, testedLauncher().bin, ...args].map((a) => `'${a}'`).join(' ');
  const command = `${source === undefined ? '' : `${source} | `}/usr/bin/time -f 'maxrss %M' ${quoted}${source === undefined ? ' < /dev/null' : ''}`;
  const result = spawnSync('/bin/sh', ['-c', command], { env: cliEnv(env), timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 });
  const stderr = result.stderr.toString('utf8');
  const rss = /maxrss (\d+)\s*$/.exec(stderr);
  return { code: result.status, stderr: stderr.replace(/(Command exited with non-zero status \d+\n)?maxrss \d+\s*$/, ''), maxRssKb: rss === null ? Infinity : Number(rss[1]) };
}

function storeFor(t: Test): { name: string; env: Record<string, string> } {
  const name = shmName(t, 'bounded');
  Store.create(name, { slots: 16, maxValueSize: MAX_VALUE }).close();
  const store = Store.open(name);
  store.set('k', 'before');
  store.close();
  return { name, env: { SPLINTER_STORE: name } };
}

function untouched(t: Test, name: string): void {
  const store = Store.open(name);
  t.equal(store.getString('k'), 'before', 'the key keeps its value');
  store.close();
}

for (const command of ['set', 'append']) {
  t.test(`${command} --file /dev/zero stops at maxValueSize + 1 bytes`, async (t) => {
    const { name, env } = storeFor(t);
    const run = measured([command, 'k', '--file', '/dev/zero'], env);
    t.equal(run.code, 1, run.stderr);
    t.ok(oneLineError(run.stderr), run.stderr);
    t.match(run.stderr, /^splinter: EMSGSIZE: a value is 1\.\.4096 bytes in this store; \/dev\/zero holds more than 4096 bytes/);
    t.ok(run.maxRssKb < RSS_BOUND_KB, `max RSS ${run.maxRssKb} KiB`);
    untouched(t, name);
  });

  t.test(`${command} from an endless stdin stops at maxValueSize + 1 bytes`, async (t) => {
    const { name, env } = storeFor(t);
    const run = measured([command, 'k'], env, 'yes');
    t.equal(run.code, 1, run.stderr);
    t.ok(oneLineError(run.stderr), run.stderr);
    t.match(run.stderr, /^splinter: EMSGSIZE: a value is 1\.\.4096 bytes in this store; stdin holds more than 4096 bytes/);
    t.ok(run.maxRssKb < RSS_BOUND_KB, `max RSS ${run.maxRssKb} KiB`);
    untouched(t, name);
  });
}

t.test('splinter shell stops at a command line longer than 16 MiB: an endless line does not fill memory', async (t) => {
  const { env } = storeFor(t);
  const run = measured(['shell'], env, 'cat /dev/zero');
  t.equal(run.code, 1, run.stderr);
  t.ok(oneLineError(run.stderr), run.stderr);
  t.match(run.stderr, /^splinter: EMSGSIZE: a command line is at most 16777216 bytes; stdin holds a longer one/);
  t.ok(run.maxRssKb < RSS_BOUND_KB, `max RSS ${run.maxRssKb} KiB`);
  const lines = cli(['shell'], { env, input: 'set a 1\r\nset b 2\rget a\nget b' });
  t.equal(lines.code, 0, lines.stderr);
  t.equal(lines.stdout, '1\n2\n', 'lines end at LF, CR or CRLF, and the last needs none');
});

t.test('a file or stdin of exactly maxValueSize bytes is a value; one byte more is EMSGSIZE', async (t) => {
  const { name, env } = storeFor(t);
  const dir = tempDir(t);
  const exact = path.join(dir, 'exact');
  const over = path.join(dir, 'over');
  fs.writeFileSync(exact, Buffer.alloc(MAX_VALUE, 'x'));
  fs.writeFileSync(over, Buffer.alloc(MAX_VALUE + 1, 'y'));
  t.equal(cli(['set', 'k', '--file', exact], { env }).code, 0);
  const tooLong = cli(['set', 'k', '--file', over], { env });
  t.equal(tooLong.code, 1);
  t.match(tooLong.stderr, /EMSGSIZE: .*holds more than 4096 bytes/);
  t.equal(cli(['set', 'k2'], { env, input: Buffer.alloc(MAX_VALUE, 'z') }).code, 0);
  const stdinTooLong = cli(['set', 'k2'], { env, input: Buffer.alloc(MAX_VALUE + 1, 'w') });
  t.equal(stdinTooLong.code, 1);
  t.match(stdinTooLong.stderr, /EMSGSIZE: .*stdin holds more than 4096 bytes/);
  const store = Store.open(name);
  t.teardown(() => store.close());
  t.equal(store.get('k')?.length, MAX_VALUE);
  t.equal(store.get('k2')?.length, MAX_VALUE);
  t.equal(Buffer.from(store.get('k2')!).toString(), 'z'.repeat(MAX_VALUE));
});
