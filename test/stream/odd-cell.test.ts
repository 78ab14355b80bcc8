/**
 * A producer whose cell a writer left held odd (it died inside the seqlock) takes the cell over
 * after the claim timeout, on the first lap too: there the previous lap is 0 and the stuck epoch
 * of the producer's own cell is released (it used to work on cell 0, and spin for good).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Store } from '../../src/index.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children', 'odd-cell-child.ts');

for (const lap of ['first', 'second'] as const) {
  t.test(`a ${lap}-lap cell held odd by a dead writer: the append takes it over after the claim timeout`, async (t) => {
    const target = shmName(t, 'stream');
    const store = Store.create(target, { slots: 64, maxValueSize: 64 });
    t.teardown(() => store.close());
    const log = store.stream('log', { capacity: 4 });
    if (lap === 'second') for (let i = 1; i <= 4; i++) log.append(`lap one ${i}`);
    const peer = Peer.open(target);
    t.teardown(() => peer.close());
    t.match(await peer.send({ op: 'hold_odd', key: 'log#1' }), { rc: 0 }, 'cell 1 held odd');
    const seq = lap === 'first' ? 1 : 5;
    const run = spawnSync(process.execPath, ['--import', 'tsx', child, target, '1', String(seq)], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    t.not(run.signal, 'SIGKILL', 'the append ended (within 20 s)');
    const report = JSON.parse(run.stdout.trim() || '{"outcome":"no report"}') as { outcome: string };
    t.equal(report.outcome, `seq ${seq}`, `seq ${seq} written once the stuck writer was given up`);
  });
}
