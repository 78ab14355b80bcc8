/** `splinter serve`: starts and prints its URL, answers, stops on SIGTERM and SIGINT; refuses unsafe starts with one clear line. */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { Store } from '../../src/index.js';
import { cli, cliAsync, oneLineError } from '../cli/helpers.js';
import { tempDir } from '../helpers/fixtures.js';
import { ask } from './helpers.js';

t.setTimeout(300_000); // child processes: minutes on a loaded machine

async function urlOf(running: ReturnType<typeof cliAsync>): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const url = /at (http:\/\/\S+\/)/.exec(running.stdoutSoFar())?.[1];
    if (url !== undefined) return url;
    if (Date.now() > deadline) throw new Error(`no URL printed: ${running.stdoutSoFar()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function storeFor(t: Test): string {
  const name = `serve-cli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  Store.create(name, { slots: 64, maxValueSize: 256 }).close();
  t.teardown(() => Store.unlink(name));
  return name;
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`serve starts, prints its URL, answers, and stops on ${signal} with exit 0`, async (t) => {
    const name = storeFor(t);
    const running = cliAsync(['serve', '--use', name, '--port', '0']);
    const url = await urlOf(running);
    t.match(running.stdoutSoFar(), new RegExp(`^serving ${name} at http://127\\.0\\.0\\.1:\\d+/; Ctrl-C stops\\n$`));
    t.equal((await ask(url, '/v1/keys/k', { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'from http' })).status, 201);
    const store = Store.open(name);
    t.equal(store.getString('k'), 'from http');
    store.close();
    running.kill(signal);
    const done = await running;
    t.equal(done.code, 0);
    t.equal(done.stderr, '');
    await t.rejects(ask(url, '/v1/store'), 'no longer listening');
  });
}

t.test('--read-only and --token-file', async (t) => {
  const name = storeFor(t);
  const dir = tempDir(t);
  const token = path.join(dir, 'token');
  fs.writeFileSync(token, 'tok-42\n', { mode: 0o600 });
  const running = cliAsync(['serve', '--use', name, '--port', '0', '--read-only', '--token-file', token]);
  const url = await urlOf(running);
  t.match(running.stdoutSoFar(), /\(token required\) read-only; Ctrl-C stops/);
  t.equal((await ask(url, '/v1/store')).status, 401);
  const auth = { Authorization: 'Bearer tok-42' };
  t.equal((await ask(url, '/v1/store', { headers: auth })).status, 200);
  t.equal((await ask(url, '/v1/keys/k', { method: 'PUT', headers: auth, body: 'x' })).status, 403);
  running.kill('SIGTERM');
  t.equal((await running).code, 0);
});

t.test('unsafe or impossible starts: one line on stderr, a failing exit', async (t) => {
  const name = storeFor(t);
  const dir = tempDir(t);
  const open = path.join(dir, 'token');
  fs.writeFileSync(open, 'tok\n', { mode: 0o644 });
  fs.chmodSync(open, 0o644);
  const cases: Array<[string[], RegExp]> = [
    [['--host', '0.0.0.0'], /EPERM: serve: binding 0\.0\.0\.0, which is not a loopback address, needs a token/],
    [['--token-file', open], /EPERM: the token file .* may be read or written by its group or others \(mode 0644\)/],
    [['--token-file', path.join(dir, 'none')], /ENOENT: the token file .* does not exist/],
    [['--prefix', 'job:'], /--prefix/],
  ];
  for (const [args, message] of cases) {
    const result = cli(['serve', '--use', name, '--port', '0', ...args], { timeout: 30_000 });
    t.not(result.code, 0, args.join(' '));
    t.match(result.stderr, message);
    t.ok(oneLineError(result.stderr), `one line: ${result.stderr}`);
  }
  const taken = cliAsync(['serve', '--use', name, '--port', '0']);
  const url = await urlOf(taken);
  const port = new URL(url).port;
  const busy = cli(['serve', '--use', name, '--port', port], { timeout: 30_000 });
  t.not(busy.code, 0);
  t.match(busy.stderr, new RegExp(`EBUSY: serve: cannot listen on 127\\.0\\.0\\.1 port ${port}: EADDRINUSE`));
  taken.kill('SIGTERM');
  await taken;
});
