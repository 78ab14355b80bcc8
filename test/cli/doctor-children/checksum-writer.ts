/**
 * Child process: sets checksummed full-size values on KEYS… in a loop until killed, printing
 * "writing" once its first set is done. Values are made before the loop, so nearly all of the
 * time goes into set (inside the slot's seqlock), where a SIGKILL leaves a slot locked.
 */
import { isSplinterError, Store } from '../../../src/index.js';
import { checksummedValue } from './checksum-value.js';

const [target, writerId, ...keys] = process.argv.slice(2);
const store = Store.open(target!);
const values = Array.from({ length: 8 }, (_, k) => checksummedValue(Number(writerId) * 1000 + k, store.maxValueSize));
let announced = false;
for (let n = 0; ; n++) {
  try {
    store.set(keys[n % keys.length]!, values[n % values.length]!);
  } catch (error) {
    if (!isSplinterError(error, 'EAGAIN')) throw error; // a slot an earlier writer left locked
  }
  if (!announced) {
    announced = true;
    process.stdout.write('writing\n');
  }
}
