/**
 * One abort behaviour for every waiting call (docs/api.md, "Aborting a wait"), Node's own: an
 * AbortError (name 'AbortError', code 'ABORT_ERR') whose cause is the signal's reason; promises
 * reject with it, iterators throw it from next() and are then done.
 */
import t from 'tap';
import { Intent, Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import type { Test } from '../helpers/assert.js';

/** Asserts Node's abort shape, with `reason` as the cause. */
function isAbortError(t: Test, error: unknown, reason: unknown, what: string): void {
  t.ok(error instanceof Error, `${what}: an Error`);
  const e = error as Error & { code?: unknown };
  t.equal(e.name, 'AbortError', `${what}: name AbortError`);
  t.equal(e.code, 'ABORT_ERR', `${what}: code ABORT_ERR`);
  t.equal(e.cause, reason, `${what}: cause is the signal's reason`);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return 'no rejection';
}

function abortSoon(reason: unknown): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), 15);
  return controller.signal;
}

t.test('Node itself: timers/promises rejects so (the shape we match)', async (t) => {
  const { setTimeout: sleep } = await import('node:timers/promises');
  const reason = new Error('stop');
  isAbortError(t, await rejection(sleep(1000, undefined, { signal: abortSoon(reason) })), reason, 'timers/promises');
});

t.test('poll rejects with an AbortError, while waiting and when already aborted', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 16 });
  t.teardown(() => store.close());
  const reason = new Error('enough');
  isAbortError(t, await rejection(store.poll('k', { signal: abortSoon(reason) })), reason, 'poll, aborted while waiting');
  isAbortError(t, await rejection(store.poll('k', { timeout: 1000, signal: AbortSignal.abort(reason) })), reason, 'poll, already aborted');
  const plain = new AbortController();
  setTimeout(() => plain.abort(), 10);
  const error = await rejection(store.poll('k', { signal: plain.signal }));
  isAbortError(t, error, plain.signal.reason, 'poll, abort() without a reason (the cause is the DOMException Node makes)');
});

t.test('pollSync takes poll options; an aborted signal throws the AbortError before blocking', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 16 });
  t.teardown(() => store.close());
  const reason = new Error('stop');
  let thrown: unknown;
  const started = performance.now();
  try {
    store.pollSync('k', { timeout: 2000, signal: AbortSignal.abort(reason) });
  } catch (error) {
    thrown = error;
  }
  isAbortError(t, thrown, reason, 'pollSync, already aborted');
  t.ok(performance.now() - started < 1000, 'without waiting for the timeout');
  t.equal(store.pollSync('k', { timeout: 5 }), false, '{ timeout } ends at the timeout');
  t.equal(store.pollSync('k', 5), false, 'a number is still the timeout');
  store.set('k', 'v');
  t.equal(store.pollSync('k', { timeout: 0 }), false, 'the baseline is taken at the call');
  t.equal(store.pollSync('k', { timeout: 5, lowLatency: true }), false, 'lowLatency is accepted');
  t.throws(() => store.pollSync('k', { timeout: 5, tiemout: 1 } as never), { code: 'EINVAL' }, 'an unknown option is EINVAL, as for poll');
});

for (const [call, start] of [
  ['watch', (store: Store, signal: AbortSignal) => store.watch('k', { signal })],
  ['signals', (store: Store, signal: AbortSignal) => store.signals(3, { signal })],
] as const) {
  t.test(`${call}: next() rejects with the AbortError, then the iterator is done`, async (t) => {
    const store = Store.createShared({ slots: 16, maxValueSize: 16 });
    t.teardown(() => store.close());
    const reason = new Error('stop watching');
    const iterator = start(store, abortSoon(reason));
    isAbortError(t, await rejection(iterator.next()), reason, `${call}, a pending next()`);
    t.same(await iterator.next(), { value: undefined, done: true }, 'then done');

    const controller = new AbortController();
    const idle = start(store, controller.signal);
    controller.abort(reason);
    isAbortError(t, await rejection(idle.next()), reason, `${call}, the next() after an abort with none pending`);
    t.same(await idle.next(), { value: undefined, done: true }, 'then done');

    let thrown: unknown;
    try {
      start(store, AbortSignal.abort(reason));
    } catch (error) {
      thrown = error;
    }
    isAbortError(t, thrown, reason, `${call}, already aborted (throws at once, as events.on)`);

    let seen = 0;
    const loop = await rejection(
      (async () => {
        for await (const _ of start(store, abortSoon(reason))) seen++;
      })(),
    );
    isAbortError(t, loop, reason, `${call}: for await ends with the AbortError`);
    t.equal(seen, 0);
  });
}

t.test('watch: changes seen before an abort are still delivered, then the AbortError', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 16 });
  t.teardown(() => store.close());
  const controller = new AbortController();
  const iterator = store.watch(['a', 'b'], { signal: controller.signal });
  store.set('a', '1');
  await new Promise((resolve) => setTimeout(resolve, 20)); // the waiter collects the change
  controller.abort('why');
  t.match(await iterator.next(), { value: { key: 'a' }, done: false }, 'the change made before the abort');
  isAbortError(t, await rejection(iterator.next()), 'why', 'then the abort');
});

t.test('shards.madvise rejects with the AbortError, while waiting and when already aborted', async (t) => {
  const store = Store.create(shmName(t), { slots: 16, maxValueSize: 4096 });
  t.teardown(() => {
    store.close();
    Store.unlink(store.target!);
  });
  const shards = store.shards;
  shards.claim({ id: 1, intent: Intent.WILLNEED, priority: 200, duration: 1n << 60n });
  shards.claim({ id: 2, intent: Intent.WILLNEED, priority: 10, duration: 1n << 60n }); // never the sovereign while 1 holds
  const reason = new Error('no more waiting');
  isAbortError(t, await rejection(shards.madvise(2, { advice: 'normal', timeout: Infinity, signal: abortSoon(reason) })), reason, 'madvise, while waiting');
  isAbortError(t, await rejection(shards.madvise(2, { advice: 'normal', timeout: 1000, signal: AbortSignal.abort(reason) })), reason, 'madvise, already aborted');
});
