/**
 * The child side of the torture protocol: the child prints `{"ready":true}` once it is
 * loaded, runs each stdin line it is sent, prints one JSON answer line per command (or
 * `{"error":…}`), and exits when stdin closes. A watchdog ends the process if the parent
 * goes quiet for too long, so an orphan never lingers.
 */
import readline from 'node:readline';

export function reply(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * Serves stdin lines with `handle` (synchronous work is fine: one line at a time) until
 * stdin closes. `idleLimitMs` is the watchdog: no line for that long ends the process.
 */
export function serve(handle: (line: string) => unknown, idleLimitMs = 60_000): void {
  let watchdog = setTimeout(() => process.exit(3), idleLimitMs);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    clearTimeout(watchdog);
    if (line.trim() !== '') {
      try {
        reply(handle(line));
      } catch (error) {
        reply({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    }
    watchdog = setTimeout(() => process.exit(3), idleLimitMs);
  });
  lines.on('close', () => {
    clearTimeout(watchdog);
    process.exit(0);
  });
  reply({ ready: true, pid: process.pid });
}

/** CLOCK_MONOTONIC in ns: the same clock in every process of the machine (and the C peer's). */
export function monoNs(): bigint {
  return process.hrtime.bigint();
}

/** Records the first few distinct failures of a kind, for the report. */
export class Samples {
  readonly items: string[] = [];
  constructor(private readonly limit = 5) {}
  add(text: string): void {
    if (this.items.length < this.limit) this.items.push(text);
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
