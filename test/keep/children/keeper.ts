/** A keeper in a process of its own (the crash test kills it): keep STORE --persist FILE --interval MS; prints "ready". */
import { keep } from '../../../src/keep/index.js';

const [store, file, interval] = process.argv.slice(2) as [string, string, string];
keep({ store, persist: file, interval: Number(interval) });
process.stdout.write('ready\n');
