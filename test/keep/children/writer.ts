/**
 * A writer for the crash test: overwrites a few hot keys all the time and now and then writes a new
 * cold key that it then leaves alone, printing "cold KEY TIME" once that set returned. Every value
 * is one of values.ts, so a reader can tell a value really written from a torn or made-up one.
 */
import { Store } from '../../../src/index.js';
import { valueOf } from './values.js';

const [name] = process.argv.slice(2) as [string];
const store = Store.open(name);
let seq = 0;
let cold = 0;
const HOT = 32;
const tick = (): void => {
  const until = Date.now() + 5;
  while (Date.now() < until) {
    const key = `hot:${seq % HOT}`;
    store.set(key, valueOf(key, seq++));
  }
  if (seq % 7 === 0 || Math.random() < 0.2) {
    const key = `cold:${cold++}`;
    store.set(key, valueOf(key, seq++));
    process.stdout.write(`cold ${key} ${Date.now()}\n`);
  }
  setImmediate(tick);
};
process.stdout.write('ready\n');
tick();
