/**
 * Child process (run as another user by test/store/open-trust.test.ts): opens TARGET with HOW
 * (open, openOrCreate, createOrOpen), trustShared when TRUST is "trust", writes a key, and prints
 * { ok: true } or { code, message }.
 */
import { isSplinterError, Store } from '../../../src/index.js';

const [how, target, trust] = process.argv.slice(2) as [string, string, string];
const options = { trustShared: trust === 'trust' };
const geometry = { slots: 16, maxValueSize: 64 };
try {
  const store =
    how === 'open' ? Store.open(target, options) : how === 'openOrCreate' ? Store.openOrCreate(target, geometry, options) : Store.createOrOpen(target, geometry, options);
  store.set('written-by', String(process.geteuid?.()));
  store.close();
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (error) {
  if (!isSplinterError(error)) throw error;
  process.stdout.write(JSON.stringify({ code: error.code, message: error.message }));
}
