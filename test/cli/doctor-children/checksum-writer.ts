/**
 * Child process: sets checksummed full-size values on KEYS… in a loop until killed, printing
 * "writing" once its first set is done. Values are made before the loop, so nearly all of the
 * time goes into set (inside the slot's seqlock), where a SIGKILL leaves a slot locked.
 */
import { isSplinterError, Store } from '../../../src/index.js';
import { checksummedValue } from './checksum-value.js';

const [target, writerId, ...keys] = process.argv.slice(2);
const locked = new Set<string>();
const store = Store.open(target!);
const values = Array.from({ length: 8 }, (_, k) => checksummedValue(Number(writerId) * 1000 + k, store.maxValueSize));
let announced = false;
for (let n = 0; ; n++) {
  const key = keys[n % keys.length]!;
  if (locked.has(key) && locked.size < keys.length) continue;
  try {
    store.set(key, values[n % values.length]!);
  } catch (error) {
    if (!isSplinterError(error, 'EAGAIN')) throw error;
    locked.add(key); // an earlier writer died holding it: each retry would cost the whole budget
  }
  if (!announced) {
    announced = true;
    process.stdout.write('writing\n');
  }
}
