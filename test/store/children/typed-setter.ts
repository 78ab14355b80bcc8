/**
 * Child process: writes COUNT new keys `PREFIX0`, `PREFIX1`, … once each with a typed write
 * (MODE: `json` = setJSON, `biguint` = setBigUint, `typed` = set with { type: JSON }), pausing
 * a millisecond between keys so a watcher reads each while the next is not written yet.
 */
import { SlotType, Store } from '../../../src/index.js';

const [target, mode, prefix, count] = process.argv.slice(2);
const store = Store.open(target!);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
for (let i = 0; i < Number(count); i++) {
  const key = `${prefix}${i}`;
  if (mode === 'json') store.setJSON(key, { n: i });
  else if (mode === 'biguint') store.setBigUint(key, BigInt(i) + 1n);
  else store.set(key, JSON.stringify({ n: i }), { type: SlotType.JSON });
  await sleep(1);
}
store.close();
