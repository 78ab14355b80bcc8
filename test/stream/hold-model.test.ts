/**
 * The backpressure gate against a model: random appends by a producer held by one or two durable
 * consumers, appends by one that is not held, and acknowledgements. A held append succeeds exactly
 * when its seq is within the least acknowledged seq + capacity (else EAGAIN, nothing claimed),
 * room() is that distance, and every consumer reads after its acknowledged seq every message,
 * with an overwritten gap only for seqs the producer that is not held pushed out.
 */
import t from 'tap';
import fc from 'fast-check';
import { isSplinterError, Store } from '../../src/index.js';

type Op = { kind: 'held' } | { kind: 'free' } | { kind: 'ack'; gate: number; step: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'held' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'free' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ack' as const), gate: fc.nat(1), step: fc.nat(4) }) },
);

t.test('held appends, free appends and acks agree with the model', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 2 }), fc.array(op, { maxLength: 60 }), (capacity, gateCount, ops) => {
      const store = Store.createShared({ slots: 16, maxValueSize: 64 });
      try {
        const gates = ['a', 'b'].slice(0, gateCount);
        const held = store.stream('s', { capacity, hold: gates });
        const free = store.stream('s');
        const consumers = gates.map((id) => free.consumer(id));
        const acks = gates.map(() => 0);
        let head = 0;
        let freeAppended = false;
        for (const o of ops) {
          const limit = Math.min(...acks) + capacity;
          if (o.kind === 'held') {
            let code = 'ok';
            try {
              held.append(`m${head + 1}`);
            } catch (error) {
              if (!isSplinterError(error)) throw error;
              code = error.code;
            }
            const expected = head + 1 <= limit ? 'ok' : 'EAGAIN';
            if (code !== expected) throw new Error(`held append at head ${head}, limit ${limit}: ${code}, expected ${expected}`);
            if (code === 'ok') head++;
          } else if (o.kind === 'free') {
            free.append(`m${head + 1}`);
            head++;
            freeAppended = true;
          } else if (o.gate < gates.length) {
            const to = Math.min(head, acks[o.gate]! + o.step);
            if (to > 0) consumers[o.gate]!.ack(to);
            acks[o.gate] = Math.max(acks[o.gate]!, to);
          }
          const room = Math.max(0, Math.min(...acks) + capacity - head);
          if (held.room() !== room) throw new Error(`room ${held.room()}, expected ${room}`);
          if (free.head() !== BigInt(head)) throw new Error(`head ${free.head()}, expected ${head}`);
        }
        for (const [g, ack] of acks.entries()) {
          for (let seq = ack + 1; seq <= head; seq++) {
            const event = free.read(seq);
            const lost = seq <= head - capacity;
            if (lost && !freeAppended) throw new Error(`consumer ${gates[g]}: seq ${seq} after its ack ${ack} was overwritten by held appends only`);
            const kind = lost ? 'gap' : 'message';
            if (event?.kind !== kind) throw new Error(`consumer ${gates[g]}: seq ${seq} is ${event?.kind}, expected ${kind}`);
            if (event.kind === 'message' && event.value !== `m${seq}`) throw new Error(`seq ${seq} holds ${String(event.value)}`);
          }
        }
      } finally {
        store.close();
      }
    }),
    { numRuns: 300 },
  );
  t.pass('300 random runs agree with the model');
});
