/**
 * A stream producer for the torture test: appends torture values (test/peer/README.md "Torture")
 * whose payload number is producer id × 2^32 + counter, paced to a rate, until SIGTERM (then it
 * logs how far it got and exits) or SIGKILL. Every seq it lost to the claim timeout (ETIMEDOUT) is
 * logged at once, one flushed line, so the parent can tell those abandoned seqs from a dead
 * producer's.
 *
 *   node --import tsx torture-producer.ts STORE STREAM CAPACITY CLAIM_TIMEOUT_MS PRODUCER_ID LOG RATE_PER_S
 */
import fs from 'node:fs';
import { isSplinterError, Store } from '../../../src/index.js';
import { encodeTorture } from '../../helpers/torture-value.js';

const [storeName, streamName, capacity, claimTimeout, idText, logPath, rateText] = process.argv.slice(2);
const id = Number(idText);
const rate = Number(rateText);
const BURST = 64;

const store = Store.open(storeName!);
const stream = store.stream(streamName!, { capacity: Number(capacity), claimTimeout: Number(claimTimeout) });
const maxValueSize = store.maxValueSize;
const log = fs.openSync(logPath!, 'a');
const line = (fields: Record<string, unknown>): void => void fs.writeSync(log, `${JSON.stringify(fields)}\n`);

let counter = 0;
let stopping = false;
process.on('SIGTERM', () => (stopping = true));
const buf = new Uint8Array(maxValueSize);
const started = performance.now();
line({ start: id, pid: process.pid });
process.stdout.write('ready\n'); // the parent kills only processes that are up

while (!stopping) {
  for (let k = 0; k < BURST; k++) {
    const length = encodeTorture(id * 2 ** 32 + counter, maxValueSize, buf);
    try {
      stream.append(buf.subarray(0, length));
      counter++;
    } catch (error) {
      if (!isSplinterError(error) || error.code !== 'ETIMEDOUT') throw error;
      // The same counter goes again under a new claim: the seq the message names is the lost one.
      const seq = Number(/seq (\d+)/.exec(error.message)?.[1] ?? -1);
      line({ timeout: seq, counter });
    }
  }
  // Paced: ahead of the rate, wait (a timer, so SIGTERM is seen); never a busy loop.
  const ahead = counter / rate - (performance.now() - started) / 1000;
  await new Promise((resolve) => (ahead > 0 ? setTimeout(resolve, ahead * 1000) : setImmediate(resolve)));
}
line({ done: counter });
store.close();
