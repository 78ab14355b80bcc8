/**
 * Child process: opens a store, waits on it in the way argv[3] names (watch, signals, poll or
 * pollSync), says "ready", and prints how the wait ended as one JSON line: { code } or { ended }.
 */
import { Store } from '../../../src/index.js';

const store = Store.open(process.argv[2]!);
const how = process.argv[3];
const report = (result: object): void => {
  process.stdout.write(`${JSON.stringify({ ...result, stale: store.stale })}\n`);
  store.close();
};
try {
  if (how === 'pollSync') {
    process.stdout.write('ready\n');
    store.pollSync('never', { timeout: 60_000 });
  } else if (how === 'poll') {
    const waiting = store.poll('never', { timeout: 60_000 });
    process.stdout.write('ready\n');
    await waiting;
  } else {
    const changes = how === 'signals' ? store.signals(3) : store.watch('never');
    const next = changes.next();
    process.stdout.write('ready\n');
    await next;
  }
  report({ ended: true });
} catch (error) {
  report({ code: (error as { code?: unknown }).code });
}
