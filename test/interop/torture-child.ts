/**
 * One torture process of ours. It serves JSON-line commands on stdin (see child-io.ts) and
 * plays whichever role each asks for, on whichever store it names, so the same few processes
 * serve every case of torture.test.ts (a Node process with tsx takes a while to start):
 *
 *   {"op":"read",   "target","key","mode":"get"|"getInto","seconds","exact"?} → ReaderReport
 *   {"op":"write",  "target","key","writerId","seconds"}                   → WriterReport
 *   {"op":"cycle",  "target","key","seconds","pauseUs"?}                  → CyclerReport
 *   {"op":"insert", "target","writerId","gen","start","period","count"}    → InserterReport
 *   {"op":"churn",  "target","fillers","seconds"}                          → ChurnerReport
 *   {"op":"close",  "target"}                                              → {"closed":true}
 *
 * argv[2] (optional JSON): { "idleLimitMs": n }, the watchdog (no command for that long: exit).
 */
import { Store } from '../../src/index.js';
import { serve } from './child-io.js';
import { churn, insertGeneration } from './torture-insert.js';
import { runReader, type ReadMode } from './torture-reader.js';
import { runCycler, runWriter } from './torture-writer.js';

interface Command {
  op: 'read' | 'write' | 'cycle' | 'insert' | 'churn' | 'close';
  target: string;
  key?: string;
  mode?: ReadMode;
  seconds?: number;
  writerId?: number;
  gen?: number;
  start?: string;
  period?: string;
  count?: number;
  fillers?: number;
  exact?: boolean;
  pauseUs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as { idleLimitMs?: number };
const stores = new Map<string, Store>();

function storeFor(target: string): Store {
  let store = stores.get(target);
  if (store === undefined) {
    store = Store.open(target);
    stores.set(target, store);
  }
  return store;
}

function need<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`missing field ${field}`);
  return value;
}

serve((line) => {
  const c = JSON.parse(line) as Command;
  switch (c.op) {
    case 'read':
      return runReader(storeFor(c.target), need(c.key, 'key'), need(c.mode, 'mode'), need(c.seconds, 'seconds'), c.exact === true);
    case 'write':
      return runWriter(storeFor(c.target), need(c.key, 'key'), need(c.writerId, 'writerId'), need(c.seconds, 'seconds'));
    case 'cycle':
      return runCycler(storeFor(c.target), need(c.key, 'key'), need(c.seconds, 'seconds'), c.pauseUs ?? 0);
    case 'insert':
      return insertGeneration(
        storeFor(c.target),
        need(c.writerId, 'writerId'),
        need(c.gen, 'gen'),
        BigInt(need(c.start, 'start')),
        BigInt(need(c.period, 'period')),
        need(c.count, 'count'),
      );
    case 'churn':
      return churn(storeFor(c.target), need(c.fillers, 'fillers'), need(c.seconds, 'seconds'));
    case 'close':
      stores.get(c.target)?.close();
      stores.delete(c.target);
      return { closed: true };
    default:
      throw new Error(`unknown op ${String((c as { op: unknown }).op)}`);
  }
}, options.idleLimitMs);
