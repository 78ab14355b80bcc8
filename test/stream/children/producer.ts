/**
 * Child process: producer argv[4] of stream argv[3] (store argv[2]): says "ready", waits for the
 * key "go", appends argv[5] payloads (payload.ts) as fast as it can, then prints { appended }.
 */
import { Store } from '../../../src/index.js';
import { payload } from './payload.js';

const [target, name, id, count] = process.argv.slice(2) as [string, string, string, string];
const store = Store.open(target);
// A long claim timeout: a producer descheduled on a loaded machine must not have its seqs declared abandoned.
const stream = store.stream(name, { claimTimeout: 120_000 });
const producer = Number(id);
const messages = Array.from({ length: Number(count) }, (_, i) => payload(producer, i, store.maxValueSize));
process.stdout.write('ready\n');
while (!store.has('go')) await new Promise((resolve) => setTimeout(resolve, 1));
for (const message of messages) stream.append(message);
process.stdout.write(`${JSON.stringify({ appended: messages.length })}\n`);
store.close();
