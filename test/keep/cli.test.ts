/** `splinter keep`: starts and says so, logs the keys it removes, refuses a second keeper, stops on SIGTERM and SIGINT with exit 0. */
import t, { type Test } from 'tap';
import { Store } from '../../src/index.js';
import { cli, cliAsync } from '../cli/helpers.js';

t.setTimeout(300_000); // child processes: minutes on a loaded machine

function storeFor(t: Test): string {
  const name = `keep-cli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  Store.create(name, { slots: 64, maxValueSize: 256 }).close();
  t.teardown(() => Store.unlink(name));
  return name;
}

async function output(running: ReturnType<typeof cliAsync>, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = running.stdoutSoFar();
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`never printed ${pattern}: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`keep removes expired keys, logs them, refuses a second keeper, and stops on ${signal} with exit 0`, async (t) => {
    const name = storeFor(t);
    const running = cliAsync(['keep', '--use', name]);
    await output(running, /^keeping /);
    const pid = /\(pid (\d+),/.exec(running.stdoutSoFar())?.[1];
    t.ok(pid !== undefined, 'the first line names the pid');
    const second = cli(['keep', '--use', name]);
    t.not(second.code, 0, 'a second keeper exits non-zero');
    t.match(second.stderr, new RegExp(`another keeper \\(pid ${pid}\\) keeps ${name}`), 'naming the holder');
    const store = Store.open(name);
    store.set('session', 'x', { ttl: 20 });
    store.close();
    await output(running, /expired 1 key: session\n/);
    running.kill(signal);
    const done = await running;
    t.equal(done.code, 0);
    t.equal(done.stderr, '');
    t.match(done.stdout, new RegExp(`stopped keeping ${name}\\n$`));
  });
}
