/** Running the real `splinter` binary (bin/splinter.cjs) as a child process. */
import { spawn, spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/fixtures.js';
import { testedLauncher } from './compiled.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string | Uint8Array;
  timeout?: number;
  cwd?: string;
}

/** The environment a test's CLI runs in: no store, prefix or history from outside. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SPLINTER_HISTORY: '' };
  delete env['SPLINTER_STORE'];
  delete env['SPLINTER_NS_PREFIX'];
  delete env['SPLINTER_DEBUG'];
  // tap's coverage hook costs each child half a second; the CLI's own tests do not need it.
  delete env['NODE_OPTIONS'];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `splinter ARGS…` to completion. */
export function cli(args: string[], options: CliOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [testedLauncher().bin, ...args], {
    env: cliEnv(options.env),
    input: options.input ?? '',
    timeout: options.timeout ?? 60_000,
    cwd: options.cwd ?? repoRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8'), stdoutBytes: result.stdout };
}

/** Runs `splinter ARGS…` without blocking the event loop (for tests that talk to the C peer meanwhile). */
export function cliAsync(args: string[], options: CliOptions = {}): Promise<CliResult> & { kill(signal?: NodeJS.Signals): void; stdoutSoFar(): string } {
  const child = spawn(process.execPath, [testedLauncher().bin, ...args], { env: cliEnv(options.env), cwd: options.cwd ?? repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
  return Object.assign(done, { kill: (signal: NodeJS.Signals = 'SIGINT') => void child.kill(signal), stdoutSoFar: () => Buffer.concat(out).toString('utf8') });
}

/** One line on stderr, starting "splinter: ", and no stack trace. */
export function oneLineError(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('npm warn'));
  return lines.length === 1 && lines[0]!.startsWith('splinter: ') && !/\n\s+at /.test(stderr);
}

/** Runs several commands in one `splinter shell` (stdin not a terminal): one process, in order. */
export function shell(lines: string[], options: CliOptions = {}): CliResult {
  return cli(['shell'], { ...options, input: `${lines.join('\n')}\n` });
}
