/** A keeper in a process of its own (the crash test kills it): keep STORE --persist FILE --interval MS; prints "ready", then "pass STARTED" after each copy. */
import { keep } from '../../../src/keep/index.js';

const [store, file, interval] = process.argv.slice(2) as [string, string, string];
keep({
  store,
  persist: file,
  interval: Number(interval),
  onEvent: (event) => {
    if (event.type === 'persisted') process.stdout.write(`pass ${event.startedAt}\n`);
  },
});
process.stdout.write('ready\n');
