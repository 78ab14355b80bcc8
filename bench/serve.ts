/**
 * `splinter serve` (docs/serve.md), ratios in one run:
 * 1. a C process's write appears in the web inspector (headless Chromium, the value viewer
 *    open on the key), on a 16,384-slot store of 10,000 keys: p50/p95 of (the page's time when
 *    it shows the value) − (the time the bench stamped into the value just before the C peer
 *    wrote it), both wall clock of this machine (performance.timeOrigin + now() in the page);
 * 2. GET of a 64-byte value against a bare node:http server answering a constant, the same
 *    load client (bench/children/http-load.ts, its own process), alternated, requests/s;
 * 3. SSE to 10 clients (their own process) while this process changes 1,000 keys a second:
 *    each client must end with every key's last epoch;
 * 4. idle CPU: the server with no client, then with one open page on the idle store (the
 *    server's process alone; the browser's processes counted separately).
 * `BENCH_SERVE_EVENTS` (200), `BENCH_SERVE_SECONDS` (5 s per load run), `BENCH_SERVE_PAIRS` (5), `BENCH_SERVE_IDLE_SECONDS` (10).
 * Needs /usr/bin/chromium and the C peer (npm run peer). Run it alone: npx tsx bench/serve.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { serve, SlotType, Store, type Server } from '../src/index.js';
import { Peer } from '../test/helpers/peer.js';

// The page's globals, inside the functions run in the browser (this file's types have no DOM).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const here = path.dirname(fileURLToPath(import.meta.url));
const EVENTS = Number(process.env['BENCH_SERVE_EVENTS'] ?? 200);
const LOAD_SECONDS = Number(process.env['BENCH_SERVE_SECONDS'] ?? 5);
const IDLE_SECONDS = Number(process.env['BENCH_SERVE_IDLE_SECONDS'] ?? 10);
/** Alternated pairs of load runs (bare, serve). */
const PAIRS = Number(process.env['BENCH_SERVE_PAIRS'] ?? 5);
const CHROMIUM = process.env['SPLINTER_CHROMIUM'] ?? '/usr/bin/chromium';
const name = `splinter-bench-serve-${process.pid}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const summary: Record<string, unknown> = { loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))) };

function child(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(here, 'children', script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}
async function firstLine(c: ChildProcess): Promise<string> {
  for await (const line of readline.createInterface({ input: c.stdout! })) return line;
  throw new Error('the child ended without a line');
}
function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
/** User + system CPU of this process in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
/** User + system CPU in ms of the processes whose pids are given (from /proc; clock ticks of 10 ms). */
function procCpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone: its time is no longer counted anywhere
    }
  }
  return ticks * 10;
}
/** The browser's process and every process under it. */
function treeOf(root: number): number[] {
  const all = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map<number, number>();
  for (const pid of all) {
    try {
      parent.set(pid, Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // gone
    }
  }
  const tree = [root];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) if (tree.includes(ppid) && !tree.includes(pid)) (tree.push(pid), (grew = true));
  }
  return tree;
}

async function latency(browser: Browser, store: Store, server: Server): Promise<Record<string, number>> {
  const peer = Peer.open(name);
  await peer.ready;
  try {
    store.set('probe', String(Date.now()), { type: SlotType.VARTEXT });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url);
    await page.waitForFunction(() => /10001 shown/.test(document.querySelector('.count')?.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.fill('input.prefix', 'probe');
    await page.click('.scroller .row[data-key="probe"]');
    await page.waitForSelector('[data-kind="text"]');
    await page.evaluate(() => (window.__inspectorShown = []));
    const stamps: number[] = [];
    for (let i = 0; i < EVENTS + 20; i++) {
      const stamp = Date.now();
      stamps.push(stamp);
      await peer.send({ op: 'set', key: 'probe', value_hex: Buffer.from(String(stamp)).toString('hex') });
      await sleep(60 + Math.random() * 60); // apart: each write is one change the page shows
    }
    await sleep(1000);
    const shown = (await page.evaluate(() => window.__inspectorShown)) as { value: string; at: number }[];
    await page.close();
    // A write is in the page once the page shows its value or a later one (changes that land within one look are one event).
    const samples = stamps.slice(20).map((stamp) => { // the first 20 warm the page up
      let first = Infinity;
      for (const s of shown) if (Number(s.value) >= stamp && s.at < first) first = s.at;
      return first - stamp;
    });
    const ms = (q: number): number => Number(quantile(samples, q).toFixed(1));
    return { writes: samples.length, shown: samples.filter(Number.isFinite).length, p50Ms: ms(0.5), p95Ms: ms(0.95), maxMs: ms(1) };
  } finally {
    await peer.close();
  }
}

/** A bare node:http server answering a 64-byte constant, with the headers ours sends for a value. */
function bareServer(): Promise<http.Server> {
  const body = Buffer.alloc(64, 0x61).toString('latin1');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '64']);
    res.end(body, 'latin1');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function loadRun(port: number, target: string): Promise<{ rps: number; cpuMsPerRequest: number; status: string }> {
  const cpuBefore = cpuMs();
  const client = child('http-load.ts', ['127.0.0.1', String(port), target, '16', String(LOAD_SECONDS)]);
  const result = JSON.parse(await firstLine(client)) as { requests: number; seconds: number; status: string };
  const cpu = cpuMs() - cpuBefore;
  return { rps: Math.round(result.requests / result.seconds), cpuMsPerRequest: Number((cpu / result.requests).toFixed(4)), status: result.status };
}

async function getVersusBare(store: Store, server: Server): Promise<Record<string, unknown>> {
  store.set('v64', new Uint8Array(64).fill(0x61), { type: SlotType.VARTEXT });
  const bare = await bareServer();
  const barePort = (bare.address() as { port: number }).port;
  const runs: { bare: number; serve: number; ratio: number; bareCpuUs: number; serveCpuUs: number }[] = [];
  try {
    await loadRun(barePort, '/'); // warm-up of both
    await loadRun(server.port, '/v1/keys/v64');
    for (let i = 0; i < PAIRS; i++) {
      const b = await loadRun(barePort, '/');
      const s = await loadRun(server.port, '/v1/keys/v64');
      if (!s.status.includes('200')) throw new Error(`GET /v1/keys/v64 answered ${s.status}`);
      runs.push({ bare: b.rps, serve: s.rps, ratio: Number((s.rps / b.rps).toFixed(3)), bareCpuUs: Math.round(b.cpuMsPerRequest * 1000), serveCpuUs: Math.round(s.cpuMsPerRequest * 1000) });
    }
  } finally {
    bare.close();
  }
  const ratios = runs.map((r) => r.ratio);
  // The server's CPU per request is steadier than requests/s on a shared machine: bare/serve of the medians.
  const cpuRatio = quantile(runs.map((r) => r.bareCpuUs), 0.5) / quantile(runs.map((r) => r.serveCpuUs), 0.5);
  return { runs, medianRatio: quantile(ratios, 0.5), cpuRatio: Number(cpuRatio.toFixed(3)) };
}

async function sseFanOut(store: Store, server: Server): Promise<Record<string, unknown>> {
  const keys = Array.from({ length: 1000 }, (_, i) => `sse:${i}`);
  for (const k of keys) store.set(k, '0');
  const clients = child('sse-clients.ts', [server.url, '10']);
  const lines = readline.createInterface({ input: clients.stdout! })[Symbol.asyncIterator]();
  if ((await lines.next()).value !== 'ready') throw new Error('the SSE clients did not start');
  const seconds = LOAD_SECONDS;
  let written = 0;
  const started = Date.now();
  // 1,000 keys a second: 10 every 10 ms, round-robin over the 1,000 keys.
  while (Date.now() - started < seconds * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * 1000);
    while (written < due) store.set(keys[written++ % keys.length]!, String(written));
    await sleep(10);
  }
  await sleep(1500); // the last look (40 ms) and the sockets drain
  clients.stdin!.write('report\n');
  const report = JSON.parse((await lines.next()).value as string) as { last: Record<string, string>; events: number }[];
  let missing = 0;
  for (const client of report) for (const k of keys) if (client.last[k] !== String(store.getEpoch(k))) missing++;
  return { clients: report.length, writes: written, writesPerSecond: Math.round(written / seconds), eventsPerClient: report.map((c) => c.events), keysNotAtLastEpoch: missing };
}

async function idle(browser: Browser, server: Server): Promise<Record<string, unknown>> {
  await sleep(1000);
  let before = cpuMs();
  await sleep(IDLE_SECONDS * 1000);
  const noClient = ((cpuMs() - before) / (IDLE_SECONDS * 1000)) * 100;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(server.url);
  await page.waitForSelector('.scroller .row');
  await sleep(2000);
  // The browser is the only child left by now (the load clients and the peer have exited): every process under this one but itself.
  const tree = treeOf(process.pid).filter((pid) => pid !== process.pid);
  const browserBefore = procCpuMs(tree);
  before = cpuMs();
  await sleep(IDLE_SECONDS * 1000);
  const withPage = ((cpuMs() - before) / (IDLE_SECONDS * 1000)) * 100;
  const browserPercent = ((procCpuMs(tree) - browserBefore) / (IDLE_SECONDS * 1000)) * 100;
  await page.close();
  return { serverNoClientPercent: Number(noClient.toFixed(2)), serverOnePagePercent: Number(withPage.toFixed(2)), browserOnePagePercent: Number(browserPercent.toFixed(2)) };
}

const store = Store.create(name, { slots: 16_384, maxValueSize: 256 });
let server: Server | undefined;
let browser: Browser | undefined;
try {
  console.log(`Node ${process.version}, ${os.cpus().length} CPUs, load average ${load()}\n`);
  for (let i = 0; i < 10_000; i++) store.set(`key:${i}`, `value ${i}`, { type: SlotType.VARTEXT });
  server = await serve({ store, port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });

  const seen = await latency(browser, store, server);
  summary['cWriteToPage'] = seen;
  console.log(`C write → shown in the page (16,384 slots, 10,000 keys): p50 ${seen['p50Ms']} ms, p95 ${seen['p95Ms']} ms, max ${seen['maxMs']} ms (${seen['shown']} of ${seen['writes']} writes shown; target p95 ≤ 250 ms)`);

  const get = await getVersusBare(store, server);
  summary['get64'] = get;
  for (const r of get['runs'] as { bare: number; serve: number; ratio: number; bareCpuUs: number; serveCpuUs: number }[]) {
    console.log(`GET 64 B: bare node:http ${r.bare} req/s (${r.bareCpuUs} µs CPU each), serve ${r.serve} req/s (${r.serveCpuUs} µs): ${(r.ratio * 100).toFixed(1)} %`);
  }
  console.log(`GET 64 B: median ${((get['medianRatio'] as number) * 100).toFixed(1)} % of bare's requests/s (target ≥ 70 %); by the server's CPU per request ${((get['cpuRatio'] as number) * 100).toFixed(1)} %`);

  const sse = await sseFanOut(store, server);
  summary['sse'] = sse;
  console.log(`SSE, 10 clients, ${sse['writesPerSecond']} key changes/s for ${LOAD_SECONDS} s: ${sse['keysNotAtLastEpoch']} (client, key) pairs not at the key's last epoch (target 0); events per client ${(sse['eventsPerClient'] as number[]).join(', ')}`);

  const cpu = await idle(browser, server);
  summary['idle'] = cpu;
  console.log(
    `idle: server with no client ${cpu['serverNoClientPercent']} % of a core (target < 1 %); with one open page ${cpu['serverOnePagePercent']} % (target < 2 %, the server's process alone); the browser's processes ${cpu['browserOnePagePercent']} % beside it`,
  );
  summary['loadAverageAtEnd'] = os.loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`\nload average at the end ${load()}`);
  console.log(JSON.stringify(summary));
} finally {
  await browser?.close();
  await server?.close();
  store.close();
  Store.unlink(name);
}
