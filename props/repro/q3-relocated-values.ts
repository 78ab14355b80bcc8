/**
 * Reproduction (run: npx tsx props/repro/q3-relocated-values.ts): on the golden fixture
 * quirk-biguint-relocation-8x16, C relocated the values of n, h and r (docs/spec/FORMAT.md §9 Q3) to
 * arena offsets 0, 8 and 16 — inside the home regions of slots 0 and 1. Our writes that
 * "bring a relocated value home" or zero a region then destroy other keys' values:
 * docs/format.md promises "no write of ours lands in another slot's bytes", and purge must
 * leave every value unchanged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../src/index.js';
import { fixtureDir } from '../../test/helpers/fixtures.js';

function copy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-repro-'));
  const file = path.join(dir, 'q3.spl');
  fs.copyFileSync(path.join(fixtureDir, 'quirk-biguint-relocation-8x16.spl'), file);
  fs.chmodSync(file, 0o644);
  return file;
}

const values = (s: Store): Record<string, string> =>
  Object.fromEntries(['n', 'h', 'r', 'a'].map((k) => [k, Buffer.from(s.get(k) ?? []).toString('hex')]));

let failed = false;
function scenario(label: string, act: (s: Store) => void, keep: string[]): void {
  const s = Store.open(copy());
  const before = values(s);
  act(s);
  const after = values(s);
  s.close();
  const lost = keep.filter((k) => before[k] !== after[k]);
  console.log(`${label}: ${lost.length === 0 ? 'ok' : `VALUES CHANGED ${lost.map((k) => `${k}: ${before[k]} → ${after[k]}`).join(', ')}`}`);
  failed ||= lost.length > 0;
}

scenario('purge()', (s) => s.purge(), ['n', 'h', 'r', 'a']);
scenario('append("n", 1 byte)', (s) => s.append('n', new Uint8Array([0xff])), ['h', 'r', 'a']);
process.exitCode = failed ? 1 : 0;
