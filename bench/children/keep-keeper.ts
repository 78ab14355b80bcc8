/** bench/keep.ts's keeper in a process of its own: keep STORE [FILE INTERVAL]; prints "ready". */
import { keep } from '../../src/keep/index.js';

const [store, file, interval] = process.argv.slice(2) as [string, string | undefined, string | undefined];
const keeper = keep({ store, persist: file, interval: interval === undefined ? undefined : Number(interval) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void keeper.close().then(() => process.exit(0)));
