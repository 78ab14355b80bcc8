/**
 * Timeouts and intervals past 2^31 − 1 ms: Node fires a single timer that long after 1 ms, so
 * poll's timeout chains timers (it truly waits, and an abort still ends it) and pollIntervalMs
 * above that is EINVAL rather than a 1 ms poll.
 */
import t from 'tap';
import { abortableDelay, TIMER_MAX_MS } from '../../src/abort.js';
import { isSplinterError, Store } from '../../src/index.js';
import { throwsCode } from '../helpers/assert.js';

/** What a promise has done after `ms`: 'pending', or how it settled. */
async function stateAfter(promise: Promise<unknown>, ms: number): Promise<string> {
  let state = 'pending';
  promise.then(
    (value) => (state = `resolved ${String(value)}`),
    (error: unknown) => (state = `rejected ${(error as Error).name}`),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return state;
}

for (const timeout of [2 ** 31, 3_000_000_000, 2 ** 40, Number.MAX_SAFE_INTEGER, Infinity]) {
  t.test(`poll({ timeout: ${timeout} }) waits, and an abort ends it`, async (t) => {
    const store = Store.createShared({ slots: 8, maxValueSize: 16 });
    t.teardown(() => store.close());
    const controller = new AbortController();
    const waiting = store.poll('k', { timeout, signal: controller.signal });
    t.equal(await stateAfter(waiting, 250), 'pending', 'not resolved after 250 ms');
    controller.abort(new Error('done'));
    t.equal(await stateAfter(waiting, 0), 'rejected AbortError');
  });
}

t.test('poll with a timeout past 2^31 − 1 ms still sees a change', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 16 });
  t.teardown(() => store.close());
  const waiting = store.poll('k', { timeout: 2 ** 31 });
  setTimeout(() => store.set('k', 'v'), 50);
  t.equal(await waiting, true);
});

t.test('abortableDelay (shards.madvise, doctor) past 2^31 − 1 ms waits', async (t) => {
  const controller = new AbortController();
  const delay = abortableDelay(TIMER_MAX_MS + 1, controller.signal);
  t.equal(await stateAfter(delay, 250), 'pending');
  controller.abort();
  t.equal(await stateAfter(delay, 0), 'rejected AbortError');
});

t.test('pollIntervalMs is 1..2^31 − 1: above is EINVAL, the bounds are accepted', async (t) => {
  for (const interval of [2 ** 31, 2 ** 32, 1e300, Infinity, 0.5, 0]) {
    const e = throwsCode(t, () => Store.createShared({ slots: 8, maxValueSize: 16 }, { pollIntervalMs: interval }), 'EINVAL', `pollIntervalMs ${interval}`);
    t.match(e?.message, /pollIntervalMs must be a number of ms from 1 to 2147483647, received/);
  }
  for (const interval of [1, 2 ** 31 - 1]) {
    const store = Store.createShared({ slots: 8, maxValueSize: 16 }, { pollIntervalMs: interval });
    store.close();
    t.pass(`pollIntervalMs ${interval} accepted`);
  }
});

t.test('a poll timeout below 0 or NaN is EINVAL', async (t) => {
  const store = Store.createShared({ slots: 8, maxValueSize: 16 });
  t.teardown(() => store.close());
  for (const timeout of [-1, NaN, -Infinity]) {
    const error = await store.poll('k', { timeout }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(isSplinterError(error, 'EINVAL'), `timeout ${timeout}`);
  }
});
