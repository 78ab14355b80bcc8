/**
 * Headless Debian Chromium for the inspector's tests, driven by playwright-core (its own browser
 * downloads cannot work here). A missing /usr/bin/chromium is a failure, never a skip.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../helpers/fixtures.js';

export const CHROMIUM = process.env['SPLINTER_CHROMIUM'] ?? '/usr/bin/chromium';
/** Screenshots of each run: test artefacts, git-ignored (.tap/). */
export const SCREENSHOTS = path.join(repoRoot, '.tap', 'screenshots');
/** Generous: the suite runs on a loaded 2-core machine. */
export const WAIT_MS = 20_000;

interface Test {
  teardown(fn: () => unknown): void;
  fail(message: string): void;
}

/** One browser for a test file, closed (killed if it will not close) at its end; undefined after a failure naming why. */
export async function launch(t: Test): Promise<Browser | undefined> {
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does)`);
    return undefined;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 60_000 });
  t.teardown(async () => {
    const closed = browser.close().then(() => true);
    const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref());
    if (!(await Promise.race([closed, late]))) for (const pid of chromiumChildren()) process.kill(pid, 'SIGKILL');
  });
  return browser;
}

/** Chromium processes this process started (a browser that would not close is killed by these ids, no other). */
function chromiumChildren(): number[] {
  const ours: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]);
      if (ppid === process.pid && /\(chrom/.test(stat)) ours.push(Number(entry));
    } catch {
      // gone since the listing
    }
  }
  return ours;
}

/** What went wrong inside a page: uncaught errors, console errors (a CSP refusal is one). */
export interface PageProblems {
  errors: string[];
}

export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; problems: PageProblems }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const problems: PageProblems = { errors: [] };
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A row of the key table by its key text (CSS.escape: keys are any bytes). */
export function rowSelector(key: string): string {
  return `.scroller .row[data-key="${key.replace(/["\\]/g, (c) => `\\${c}`)}"]`;
}
