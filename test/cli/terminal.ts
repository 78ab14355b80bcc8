/**
 * A pseudo-terminal to type into and read from, for the interactive mode's tests. Two ways to
 * get one, whichever the machine has: tmux (send-keys, capture-pane: the real screen), or
 * util-linux `script` (in every Debian base system; the screen is its output with the escape
 * sequences removed).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type Key = 'Tab' | 'Enter' | 'Up' | 'C-c' | 'C-u' | 'C-d';
export type Backend = 'tmux' | 'script';

export interface Terminal {
  readonly backend: Backend;
  /** Types text literally. */
  type(text: string): Promise<void>;
  key(key: Key): Promise<void>;
  /** Everything on the screen so far (tmux: with scrollback). */
  screen(): string;
  /** Resolves with the screen once `test` holds, or rejects after `ms` with the screen in the message. */
  waitFor(test: RegExp | ((screen: string) => boolean), what: string, ms?: number): Promise<string>;
  /** True once the program in the terminal has exited. */
  exited(): boolean;
  close(): void;
}

const quote = (s: string): string => `'${s.replaceAll("'", `'"'"'`)}'`;

/** The backends this machine offers. */
export function availableBackends(): Backend[] {
  const found: Backend[] = [];
  if (spawnSync('tmux', ['-V']).status === 0) found.push('tmux');
  if (spawnSync('script', ['--version']).status === 0) found.push('script');
  return found;
}

/** The command line that runs `argv` with `env` in a 120×40 terminal. */
function commandLine(argv: string[], env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
  return `env ${assignments.join(' ')} ${argv.map(quote).join(' ')}`;
}

export function openTerminal(backend: Backend, argv: string[], env: Record<string, string>): Terminal {
  return backend === 'tmux' ? tmuxTerminal(argv, env) : scriptTerminal(argv, env);
}

async function waitUntil(t: Terminal, test: RegExp | ((screen: string) => boolean), what: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const screen = t.screen();
    if (typeof test === 'function' ? test(screen) : test.test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`${t.backend}: timed out waiting for ${what}; the screen:\n${screen}`);
    await sleep(50);
  }
}

let sessions = 0;

function tmuxTerminal(argv: string[], env: Record<string, string>): Terminal {
  const socket = `splinter-cli-test-${process.pid}-${sessions++}`;
  const tmux = (...args: string[]): { status: number | null; stdout: string } => {
    const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout };
  };
  const started = tmux('new-session', '-d', '-s', 'main', '-x', '120', '-y', '40', commandLine(argv, env));
  if (started.status !== 0) throw new Error('tmux could not start a session');
  const keys: Record<Key, string> = { Tab: 'Tab', Enter: 'Enter', Up: 'Up', 'C-c': 'C-c', 'C-u': 'C-u', 'C-d': 'C-d' };
  let last = '';
  const terminal: Terminal = {
    backend: 'tmux',
    async type(text) {
      tmux('send-keys', '-t', 'main', '-l', text);
      await sleep(30);
    },
    async key(key) {
      tmux('send-keys', '-t', 'main', keys[key]);
      await sleep(30);
    },
    screen() {
      const r = tmux('capture-pane', '-t', 'main', '-p', '-S', '-');
      if (r.status === 0) last = r.stdout.replace(/\n+$/, '\n');
      return last;
    },
    waitFor: (test, what, ms = 15_000) => waitUntil(terminal, test, what, ms),
    exited: () => tmux('has-session', '-t', 'main').status !== 0,
    close() {
      tmux('kill-server');
      // tmux leaves its socket file behind.
      const dir = path.join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
      fs.rmSync(path.join(dir, socket), { force: true });
    },
  };
  return terminal;
}

function scriptTerminal(argv: string[], env: Record<string, string>): Terminal {
  const child: ChildProcessWithoutNullStreams = spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${commandLine(argv, env)}`, '/dev/null'], {
    stdio: 'pipe',
  });
  let raw = '';
  let done = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
  child.on('exit', () => (done = true));
  const keys: Record<Key, string> = { Tab: '\t', Enter: '\r', Up: '\x1b[A', 'C-c': '\x03', 'C-u': '\x15', 'C-d': '\x04' };
  const terminal: Terminal = {
    backend: 'script',
    async type(text) {
      child.stdin.write(text);
      await sleep(30);
    },
    async key(key) {
      child.stdin.write(keys[key]);
      await sleep(30);
    },
    screen() {
      // A carriage return (readline redrawing its line) starts the line again.
      // Escape sequences out, except "cursor to column N", which readline uses as a carriage return.
      const text = raw
        .replace(/\x1b\[1?G/g, '\r')
        .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
        .replace(/\x1b[()][A-Z0-9]/g, '');
      return text
        .split('\n')
        .map((line) => {
          const body = line.replace(/\r+$/, '');
          return body.slice(body.lastIndexOf('\r') + 1);
        })
        .join('\n');
    },
    waitFor: (test, what, ms = 15_000) => waitUntil(terminal, test, what, ms),
    exited: () => done,
    close() {
      if (!done) child.kill('SIGKILL');
    },
  };
  return terminal;
}
