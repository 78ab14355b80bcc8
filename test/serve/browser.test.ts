/**
 * The web inspector in headless Chromium: the page loads under its CSP, a key the C peer sets
 * appears live, the filters narrow the table, each value kind is shown decoded, the chart moves,
 * a shard claim and a doctor finding show, a hostile key name stays text, the keyboard works,
 * a token server asks for its token, and 100,000 keys load into a windowed list.
 */
import t from 'tap';
import { Intent, SlotType, Store, serve } from '../../src/index.js';
import { Peer } from '../helpers/peer.js';
import { launch, openPage, rowSelector, screenshot, WAIT_MS } from './browser-helpers.js';
import { served } from './helpers.js';

t.setTimeout(300_000);

// The page's globals, inside the functions run in the browser (this file's types have no DOM).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const sessionStorage: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare function getComputedStyle(element: unknown): any; // eslint-disable-line @typescript-eslint/no-explicit-any

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

const browser = await launch(t);

t.test('the live key table: a C write appears, filters narrow it, values show by kind', { skip: browser === undefined ? 'no browser (failed above)' : false }, async (t) => {
  const { store, server, name } = await served(t, {}, { slots: 256, maxValueSize: 4096 });
  store.set('greeting', 'hello, inspector', { type: SlotType.VARTEXT });
  store.setJSON('config', { model: 'llama-3-8b', ctx: 8192 });
  store.setBigUint('counter', 1234567890123n);
  store.set('blob', new Uint8Array([0, 1, 2, 0x41, 0xff]), { type: SlotType.BINARY });
  store.set(HOSTILE, 'inert', { type: SlotType.VARTEXT });
  store.set('../etc/passwd', 'a key, not a path', { type: SlotType.VARTEXT });
  store.set('ключ-🔑', 'unicode', { type: SlotType.VARTEXT });
  store.set(new Uint8Array([0xff, 0x01, 0x41]), 'not utf-8');
  store.setLabel('config', 0x4n);

  const { page, problems } = await openPage(browser!, server.url);
  await page.waitForSelector(rowSelector('greeting'));

  // A key the C peer sets appears without a reload.
  const peer = Peer.open(name);
  t.teardown(() => peer.close());
  await peer.ready;
  t.equal((await peer.send({ op: 'set', key: 'from-c', value_hex: Buffer.from('written by C').toString('hex') })).rc, 0);
  await page.waitForSelector(rowSelector('from-c'));
  t.equal(await page.locator('.scroller .row').first().getAttribute('data-key'), 'from-c', 'the key changed last comes first');

  // The hostile names are text: an <img> never made, no script ran, the names shown as they are.
  t.equal(await page.locator('.scroller img').count(), 0, 'no element from a key name');
  t.equal(await page.locator(rowSelector(HOSTILE)).locator('.k').textContent(), HOSTILE, 'the name shown as text');
  t.equal(await page.locator(rowSelector('../etc/passwd')).count(), 1);
  t.equal(await page.locator(rowSelector('ключ-🔑')).count(), 1);
  t.equal(await page.locator('.scroller .row .k', { hasText: '\\xff\\x01A' }).count(), 1, 'a key that is not UTF-8 in its escaped form');

  // Filters: by prefix, then by labels.
  await page.fill('input.prefix', 'gre');
  await page.waitForFunction(() => document.querySelectorAll('.scroller .row').length === 1);
  t.equal(await page.locator('.scroller .row').getAttribute('data-key'), 'greeting', 'prefix "gre" leaves greeting');
  await page.fill('input.prefix', '');
  await page.fill('input.labels', '0x4');
  await page.waitForFunction(() => document.querySelectorAll('.scroller .row').length === 1);
  t.equal(await page.locator('.scroller .row').getAttribute('data-key'), 'config', 'labels 0x4 leaves config');
  await page.fill('input.labels', '');

  // Each value kind, decoded.
  const open = async (key: string, kind: string): Promise<string> => {
    await page.click(rowSelector(key));
    await page.waitForFunction(([k, d]) => document.querySelector('.viewer-key')?.textContent === k && document.querySelector(`[data-kind="${d}"]`) !== null, [key, kind] as const);
    return (await page.locator(`[data-kind="${kind}"]`).textContent()) ?? '';
  };
  t.equal(await open('greeting', 'text'), 'hello, inspector', 'text');
  t.equal(await open('config', 'json'), JSON.stringify({ model: 'llama-3-8b', ctx: 8192 }, null, 2), 'JSON, pretty');
  t.equal(await open('counter', 'biguint'), '1234567890123', 'a BIGUINT as its number');
  t.match(await open('blob', 'hex'), /^00000000  00 01 02 41 ff\s+\.\.\.A\.$/, 'binary as a hex dump');
  t.equal(await open(HOSTILE, 'text'), 'inert');
  t.equal(await open('from-c', 'text'), 'written by C');

  // The open value follows its key.
  t.equal((await peer.send({ op: 'set', key: 'from-c', value_hex: Buffer.from('changed by C').toString('hex') })).rc, 0);
  await page.waitForFunction(() => document.querySelector('[data-kind="text"]')?.textContent === 'changed by C');

  await screenshot(page, 'inspector-keys');
  t.equal(await page.evaluate(() => window.__pwned), undefined, 'no script of a key name ran');
  t.same(problems.errors, [], 'no error in the page (a CSP refusal would be one)');
});

t.test('an embedding: its norm and a sparkline', { skip: browser === undefined ? 'no browser (failed above)' : false }, async (t) => {
  const name = `serve-browser-emb-${process.pid}`;
  const store = Store.create(name, { slots: 64, maxValueSize: 256, embeddings: true });
  const server = await serve({ store, port: 0 });
  t.teardown(async () => {
    await server.close();
    store.close();
    Store.unlink(name);
  });
  store.set('doc:1', 'a document', { type: SlotType.VARTEXT });
  const vector = new Float32Array(768).map((_, i) => Math.sin(i / 20));
  store.setEmbedding('doc:1', vector);
  const norm = Math.sqrt(vector.reduce((s, x) => s + x * x, 0));
  const { page, problems } = await openPage(browser!, server.url);
  await page.click(rowSelector('doc:1'));
  await page.waitForSelector('[data-kind="embedding"] .norm');
  t.equal(await page.locator('[data-kind="embedding"] .norm').textContent(), norm.toFixed(4), 'the norm of the 768 numbers');
  const points = await page.locator('[data-kind="embedding"] polyline').getAttribute('points');
  t.equal(points?.split(' ').length, 768, 'a sparkline point for each number');
  t.same(problems.errors, []);
});

t.test('the header and panels: the chart moves, a shard claim and a doctor finding show', { skip: browser === undefined ? 'no browser (failed above)' : false }, async (t) => {
  const { store, server } = await served(t);
  store.set('a', '1');
  const { page, problems } = await openPage(browser!, server.url);
  await page.waitForSelector(rowSelector('a'));
  const epochBefore = BigInt((await page.locator('.global-epoch').textContent()) ?? '0');

  // Writes for a few polls: the writes/s figure and the chart's series move off zero.
  const writer = setInterval(() => {
    for (let i = 0; i < 20; i++) store.set(`w${i}`, String(Date.now()));
  }, 50);
  t.teardown(() => clearInterval(writer));
  await page.waitForFunction(() => Number(document.querySelector('.rate')?.textContent ?? '0') > 0, undefined, { timeout: WAIT_MS });
  clearInterval(writer);
  t.ok(BigInt((await page.locator('.global-epoch').textContent()) ?? '0') > epochBefore, 'the global epoch shown moved');
  t.ok(await page.locator('.chart canvas').count() > 0, 'the chart is drawn');

  // A shard claim appears, the sovereign marked.
  store.shards.claim({ id: 0x5f1a, intent: Intent.WILLNEED, priority: 200, duration: 2n ** 64n - 1n });
  await page.waitForSelector('tr.sovereign[data-shard="24346"] .crown');
  t.match(await page.locator('tr.sovereign').textContent(), /0x5f1a.*sovereign/);

  // A doctor finding: a key that is not UTF-8 is a note of the doctor's.
  store.set(new Uint8Array([0xfe, 0x02]), 'x');
  await page.click('.doctor button');
  await page.waitForSelector('.finding.note');
  t.match(await page.locator('.finding.note').textContent(), /key-not-utf8.*\\xfe\\x02/);
  t.equal(await page.locator('.groups li').count(), 64, 'the 64 signal groups');
  await screenshot(page, 'inspector-panels');
  t.same(problems.errors, []);
});

t.test('keyboard: / focuses the filter, arrows move through the rows, Enter opens one', { skip: browser === undefined ? 'no browser (failed above)' : false }, async (t) => {
  const { store, server } = await served(t);
  for (const k of ['k1', 'k2', 'k3']) store.set(k, `value of ${k}`, { type: SlotType.VARTEXT });
  const { page, problems } = await openPage(browser!, server.url);
  await page.waitForSelector(rowSelector('k3'));
  await page.keyboard.press('/');
  t.equal(await page.evaluate(() => document.activeElement?.className), 'prefix', '/ focuses the filter');
  await page.keyboard.type('k');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-index') === '0');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-index') === '1');
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-key'));
  await page.keyboard.press('Enter');
  await page.waitForFunction((k) => document.querySelector('.viewer-key')?.textContent === k, focused);
  t.equal(await page.locator('[data-kind="text"]').textContent(), `value of ${focused}`, 'Enter opened the focused row');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  t.not(outline, 'none', 'the focused row shows its focus');
  // Tab away to the doctor's button: the page's redraws (a poll each second, a change) leave the focus there.
  await page.focus('.doctor button');
  store.set('k1', 'changed');
  await page.waitForFunction(() => document.querySelector('.scroller .row[data-index="0"]')?.getAttribute('data-key') === 'k1');
  await new Promise((resolve) => setTimeout(resolve, 2500));
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Run again', 'the focus stays where the user put it');
  t.same(problems.errors, []);
});

t.test('a server with a token: the page asks for it, keeps it for the tab, and reads the events with it', { skip: browser === undefined ? 'no browser (failed above)' : false }, async (t) => {
  const { store, server } = await served(t, { token: 'tok-123' });
  store.set('secret', 'x');
  const { page, problems } = await openPage(browser!, server.url);
  await page.waitForSelector('form.token');
  t.equal(await page.locator(rowSelector('secret')).count(), 0, 'nothing of the store before the token');
  await page.fill('form.token input', 'tok-123');
  await page.click('form.token button');
  await page.waitForSelector(rowSelector('secret'));
  store.set('later', 'y');
  await page.waitForSelector(rowSelector('later'));
  t.equal(await page.evaluate(() => sessionStorage.getItem('splinter-serve-token')), 'tok-123', 'kept in session storage');
  // The 401s before the token was given are the only errors.
  t.same(problems.errors.filter((e) => !/401/.test(e)), []);
});

t.test('100,000 keys: loaded at once, only the visible rows drawn', { skip: browser === undefined ? 'no browser (failed above)' : false }, async (t) => {
  const { store, server } = await served(t, {}, { slots: 131_072, maxValueSize: 16 });
  for (let i = 0; i < 100_000; i++) store.set(`key:${String(i).padStart(6, '0')}`, 'v');
  const { page, problems } = await openPage(browser!, server.url);
  await page.waitForFunction(() => /100000 shown of 100000/.test(document.querySelector('.count')?.textContent ?? ''), undefined, { timeout: 60_000 });
  const drawn = await page.locator('.scroller .row').count();
  t.ok(drawn > 0 && drawn < 100, `a window of rows drawn (${drawn}), not 100,000`);
  // Each change here costs the server a pass over 131,072 slots and the page a pass over 100,000 keys: slow on a loaded machine, so a minute each.
  await page.focus('.scroller .row[data-index="0"]');
  await page.keyboard.press('End');
  await page.waitForSelector(rowSelector('key:099999'), { timeout: 60_000 });
  store.set('key:050000', 'changed');
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector('.scroller .row[data-index="0"]')?.getAttribute('data-key') === 'key:050000', undefined, { timeout: 60_000 });
  t.pass('a change moves its key to the top');
  t.same(problems.errors, []);
});
