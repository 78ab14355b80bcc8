/**
 * Child process: the first open of TARGET in this process happens with every file descriptor
 * taken (EMFILE), then again after some are given back. Prints { first, second } (an error code,
 * or "ok"): the shortage of the moment must not be remembered as "no mapping route installed".
 */
import fs from 'node:fs';
import { isSplinterError, Store } from '../../../src/index.js';

const target = process.argv[2]!;

function openOnce(): string {
  try {
    Store.open(target).close();
    return 'ok';
  } catch (error) {
    if (!isSplinterError(error)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

const held: number[] = [];
try {
  for (;;) held.push(fs.openSync('/dev/null', 'r'));
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'EMFILE') throw error;
}
const first = openOnce();
for (const fd of held) fs.closeSync(fd);
const second = openOnce();
process.stdout.write(JSON.stringify({ first, second }));
