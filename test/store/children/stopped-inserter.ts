/**
 * Child process for test/store/insert-race.test.ts: inserts and unsets new keys `race/0`,
 * `race/1`, … in the store RACE, each with a value as long as the store allows (its copy is most
 * of the work, so a SIGSTOP lands inside an insert, between the slot's compare-and-swap and its
 * hash, most of the time). Through the control store CONTROL: `current` is the key's number
 * before its insert, and "u" and the number before its unset; after an insert, while `hold` is
 * "1", it sets `parked` to the number and waits. Ends when `hold` is "stop".
 */
import { Store } from '../../../src/index.js';

const [raceTarget, controlTarget] = process.argv.slice(2);
const race = Store.open(raceTarget!);
const control = Store.open(controlTarget!);
const value = new Uint8Array(race.maxValueSize).fill(0x58);
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; ; i++) {
  control.set('current', String(i));
  race.set(`race/${i}`, value);
  let hold = control.getString('hold');
  if (hold === '1') control.set('parked', String(i));
  while (hold === '1') {
    Atomics.wait(sleepCell, 0, 0, 0.2);
    hold = control.getString('hold');
  }
  if (hold === 'stop') break;
  control.set('current', `u${i}`);
  race.unset(`race/${i}`);
}
race.close();
control.close();
