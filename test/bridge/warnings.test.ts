/** The bridge's bounded warnings: a flood says a few lines and a summary, a record skipped is said once, a failure that comes again is said again. */
import t from 'tap';
import { Warnings } from '../../src/bridge/warnings.js';

t.test('a flood: ten lines a window, then one summary when the window ends', async (t) => {
  const said: string[] = [];
  let now = 0;
  const warnings = new Warnings((message) => said.push(message), 'more skipped', true, 200, () => now);
  for (let i = 0; i < 1_000; i++) warnings.warn(`record ${i}`);
  t.same(said, Array.from({ length: 10 }, (_, i) => `record ${i}`), 'the first ten are said');
  now = 200;
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.same(said.slice(10), ['990 more skipped in the last 0.2 s, not shown one by one'], 'the rest are summed up once the window ends');
  warnings.warn('record 5');
  t.equal(said.length, 11, 'a record said before is not said again');
  now = 1_000;
  warnings.warn('record after');
  t.equal(said.at(-1), 'record after', 'a new window says again');
  warnings.close();
});

t.test('failures that come again are said again, within the bound; close says what is held back', async (t) => {
  const said: string[] = [];
  const now = 0;
  const warnings = new Warnings((message) => said.push(message), 'more sends failed', false, 10_000, () => now);
  for (let i = 0; i < 12; i++) warnings.warn('sending "k" failed');
  t.equal(said.length, 10, 'the same failure, ten times: said ten times');
  warnings.close();
  t.equal(said.at(-1), '2 more sends failed in the last 10 s, not shown one by one', 'closing sums up what was held back');
});
