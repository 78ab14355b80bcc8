/** Test rig for the bridge: a redis-server of the test's own on a free loopback port, bridge processes, stores as hosts. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { isSplinterError, Store } from '../../src/index.js';
import type { Key } from '../../src/store/keys/key-text.js';
import { decodeRecord, type Change } from '../../src/bridge/codec.js';
import { namespaceKeys } from '../../src/bridge/namespace.js';
import { repoRoot } from '../helpers/fixtures.js';

export const cliMain = path.join(repoRoot, 'src', 'cli', 'main.ts');

/** `condition`, with a slot a bridge is writing right now (EAGAIN: its writer was descheduled inside, on a loaded machine) taken as "not yet". */
async function holds(condition: () => boolean | Promise<boolean>): Promise<boolean> {
  try {
    return await condition();
  } catch (error) {
    if (isSplinterError(error, 'EAGAIN')) return false;
    throw error;
  }
}

/** `store.set`, again after a moment while a bridge holds the slot (EAGAIN: its writer was descheduled inside). */
export async function setWhenFree(store: Store, key: Key, value: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      store.set(key, value);
      return;
    } catch (error) {
      if (!isSplinterError(error, 'EAGAIN') || attempt >= 1_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

/** Resolves when `condition` holds, checking every 5 ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await holds(condition)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server on 127.0.0.1, without persistence: a restart loses everything, as a crash of a cache does. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(t: Test): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    t.teardown(() => server.kill());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, on the same port) and waits until it answers. */
  async restart(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(`redis-server on port ${this.port}`, async () => {
      const client = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    });
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** A client for looking at what the bridges left in Redis. */
  client(t: Test): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    t.teardown(() => client.disconnect());
    return client;
  }
}

/** The namespace's current records as Redis holds them. */
export async function redisRecords(client: Redis, prefix: string): Promise<Map<string, Change>> {
  const all = await client.hgetallBuffer(namespaceKeys(prefix).values);
  const records = new Map<string, Change>();
  for (const [key, record] of Object.entries(all)) {
    const change = decodeRecord(key, record);
    if (typeof change !== 'string') records.set(key, change);
  }
  return records;
}

let hosts = 0;

/** A store standing for one host: a shm object of its own, closed and unlinked in teardown. */
export function hostStore(t: Test, geometry = { slots: 256, maxValueSize: 1024 }): Store {
  const name = `splinter-bridge-test-${process.pid}-${++hosts}`;
  const store = Store.create(name, geometry);
  t.teardown(() => {
    store.close();
    Store.unlink(name);
  });
  return store;
}

export interface BridgeProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal) and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** `splinter bridge` as a process of its own (node --import tsx directly, so a kill reaches it), once it says it is bridging; `preload`: modules imported first. */
export async function startBridge(t: Test, store: Store, url: string, prefix: string, extra: string[] = [], preload: string[] = []): Promise<BridgeProcess> {
  const child = spawn(process.execPath, [...preload.flatMap((file) => ['--import', file]), '--import', 'tsx', cliMain, 'bridge', '--use', store.target!, '--redis', url, '--prefix', prefix, ...extra], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // Awaited before the store's own teardown (registered earlier, run later) unlinks it: a bridge still
  // running then could arm its doorbell again, and its FIFO would outlive the store's side-file sweep.
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  });
  const started = waitFor('the bridge to start', () => out.includes('bridging') || child.exitCode !== null, 20_000);
  await started;
  if (!out.includes('bridging')) throw new Error(`the bridge exited: ${out}`);
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      const from = performance.now();
      child.kill(signal);
      const result = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the bridge did not exit within 10 s of ${signal}`)), 10_000).unref())]);
      return { ...result, ms: performance.now() - from };
    },
  };
}
