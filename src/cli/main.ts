/**
 * The `splinter` command: one-shot commands (`splinter get foo`), or the interactive mode
 * (`splinter` alone on a terminal, or `splinter shell`). bin/splinter.cjs calls `runCli()`.
 * A one-shot command loads only its own module (commands/index.ts) and what it uses.
 */
import { pathToFileURL } from 'node:url';
import { Session, type Io } from './context.js';
import { readStreamAtMost } from './input.js';
import { parseArgs, type Env } from './parse.js';
import { jsonRequested, reportError, runInvocation } from './run.js';
import { writeStdout } from './stdout.js';
import { UsageError } from './usage-error.js';

/** The process's own streams as an Io. */
export function processIo(): Io {
  return {
    out: writeStdout,
    bytes: writeStdout,
    err: (line) => void process.stderr.write(`${line}\n`),
    // Asked by the few commands that care: making process.stdin or stdout loads net and the streams.
    get stdinIsTTY() {
      return process.stdin.isTTY === true;
    },
    get stdoutIsTTY() {
      return process.stdout.isTTY === true;
    },
    readStdin: (limit) => readStreamAtMost(process.stdin, limit),
    ask: async (question) => {
      const readline = await import('node:readline'); // only a command that asks loads it
      return new Promise((resolve) => {
        // The question goes to stderr, so that stdout keeps only the command's result.
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
        let answered = false;
        rl.on('close', () => {
          if (!answered) resolve(undefined);
        });
        rl.question(question, (answer) => {
          answered = true;
          rl.close();
          resolve(answer);
        });
      });
    },
  };
}

/** Runs the CLI on `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], env: Env = process.env, io: Io = processIo()): Promise<number> {
  let inv;
  try {
    inv = parseArgs(argv, env);
  } catch (error) {
    return reportError(error, io, env, jsonRequested(argv));
  }
  const interactiveWanted = (inv.command === 'shell' || inv.command === undefined) && !inv.globals.help && !inv.globals.version;
  if (interactiveWanted) {
    if (inv.command === undefined && !(io.stdinIsTTY && io.stdoutIsTTY)) {
      const error = new UsageError('no command given (run splinter help; splinter shell reads commands from stdin)');
      return reportError(error, io, env, inv.globals.json);
    }
    const { repl } = await import('./repl.js'); // readline, completion and history: the interactive mode's alone
    return repl(inv, io, env);
  }
  const session = new Session(env, false);
  session.trustShared = inv.globals.trustShared;
  const controller = new AbortController();
  // Ctrl-C is how a watch, a bridge, a server, a keeper or a followed stream ends (exit 0); anything else it interrupts, as usual (exit 130).
  const following = inv.command === 'stream' && inv.args[0] === 'read' && inv.options['follow'] === true;
  const graceful = inv.command === 'watch' || inv.command === 'bridge' || inv.command === 'serve' || inv.command === 'keep' || following;
  let interrupts = 0;
  const onSignal = (): void => {
    if (!graceful || ++interrupts > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runInvocation(inv, io, session, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.closeAll();
  }
}

/** Runs `main` on the process's arguments and exits with its code. */
export async function runCli(): Promise<void> {
  const code = await main(process.argv.slice(2));
  // Leave at once even if a subscription left a handle behind: the output is written (writeStdout
  // returns when it is; the interactive mode's prompts go to a terminal, written synchronously on Linux).
  process.exit(code);
}

// Run as a script itself (node dist/cli/main.js). Not a top-level await: the bundle is CommonJS (scripts/bundle-cli.mjs).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runCli();
}
