/**
 * A durable consumer killed inside its acknowledgement's write leaves the ack key's slot held odd.
 * The consumer id must stay usable: once the slot stood still for the claim timeout and no live
 * process is named in its atime, the next reader releases it and reads the last acknowledged seq;
 * a writer named there that is alive keeps it (EAGAIN), since it may only be slow.
 */
import t from 'tap';
import { SLOT } from '../../src/layout/constants.js';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

const CLAIM_TIMEOUT_MS = 200;

for (const holder of ['a writer that died', 'a live writer'] as const) {
  t.test(`an ack key held odd by ${holder}`, async (t) => {
    const target = shmName(t, 'stream');
    const store = Store.create(target, { slots: 64, maxValueSize: 64 });
    t.teardown(() => store.close());
    const log = store.stream('log', { capacity: 8, claimTimeout: CLAIM_TIMEOUT_MS });
    for (let i = 1; i <= 5; i++) log.append(`m${i}`);
    const consumer = log.consumer('worker');
    consumer.ack(3);
    const index = store.slotSnapshot('log#c.worker')!.index;
    const peer = Peer.open(target);
    t.teardown(() => peer.close());
    t.match(await peer.send({ op: 'hold_odd', key: 'log#c.worker' }), { rc: 0 }, 'the ack key held odd, as a writer killed inside leaves it');
    if (holder === 'a live writer') {
      // Our writers name themselves in atime while inside: this process is alive.
      store.kv.m.u32[(store.kv.m.slotByte(index) + SLOT.atime) >>> 2] = process.pid;
    }
    const again = store.stream('log', { claimTimeout: CLAIM_TIMEOUT_MS }).consumer('worker');
    if (holder === 'a writer that died') {
      t.equal(again.acknowledged(), 3n, 'released after the claim timeout: the acknowledged seq is read');
      again.ack(4);
      t.equal(log.consumer('worker').acknowledged(), 4n, 'and the id acknowledges on');
      const events = again.subscribe();
      const next = await events.next();
      t.match(next.value, { kind: 'message', seq: 5n }, 'it resumes after its last ack');
      await events.return!();
    } else {
      t.throws(() => again.acknowledged(), { code: 'EAGAIN' }, 'a live writer is waited for, never released under it');
      t.throws(() => again.ack(4), { code: 'EAGAIN' }, 'nor is it written over');
    }
  });
}
