/**
 * Worker thread: attaches to the SharedArrayBuffer store of workerData.buffer, subscribes to
 * stream workerData.name from seq 1, posts "ready", then posts the values of the first
 * workerData.count messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../../../src/index.js';

const { buffer, name, count } = workerData as { buffer: SharedArrayBuffer; name: string; count: number };
const store = Store.attach(buffer);
const events = store.stream(name).subscribe({ from: 1 });
parentPort!.postMessage('ready');
const values: unknown[] = [];
while (values.length < count) {
  const next = await events.next();
  if (next.done === true) break;
  const event = next.value;
  values.push(event.kind === 'message' ? [String(event.seq), event.value] : event.kind);
}
parentPort!.postMessage(values);
await events.return!();
store.close();
