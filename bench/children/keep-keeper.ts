/** bench/keep.ts's keeper in a process of its own: keep STORE [FILE INTERVAL [SYNC]]; prints "ready". */
import { keep } from '../../src/keep/index.js';

const [store, file, interval, sync] = process.argv.slice(2) as [string, string | undefined, string | undefined, string | undefined];
const keeper = keep({ store, persist: file, interval: interval === undefined ? undefined : Number(interval), sync: sync === undefined ? undefined : Number(sync) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void keeper.close().then(() => process.exit(0)));
