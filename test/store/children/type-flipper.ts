/**
 * Child process: for SECONDS, overwrites KEY in turn with text that is not JSON named VARTEXT
 * (`set(key, 'x…', { type: VARTEXT })`) and with JSON (`setJSON`), then prints how many writes it made.
 */
import { SlotType, Store } from '../../../src/index.js';

const [target, key, seconds] = process.argv.slice(2);
const store = Store.open(target!);
const end = Date.now() + Number(seconds) * 1000;
let writes = 0;
while (Date.now() < end) {
  store.set(key!, `x${writes}`, { type: SlotType.VARTEXT });
  store.setJSON(key!, { n: writes });
  writes += 2;
}
store.close();
process.stdout.write(`${writes}\n`);
