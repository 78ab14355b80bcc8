/**
 * Every example in docs/cli.md that shows its output runs as written and prints exactly that.
 *
 * An example is a fenced block without an info string holding `$ splinter …` lines (or the
 * interactive prompt `splinter(STORE)> …`); the lines after a command, up to the next one, are
 * what it prints: stdout and stderr as a terminal shows them. Each block runs on its own, in a
 * fresh directory, against a fresh shared-memory store of the default geometry (1,024 slots ×
 * 4,096 bytes) that SPLINTER_STORE names, or with no store when the block starts with `init`.
 * Commands run through bash, with `splinter` on PATH as the launcher under test.
 *
 * Names the docs use stand for this run's own: the store `agents` for a unique /dev/shm name and
 * `/var/lib/bus.spl` for a file in the block's directory; they are put back in the output.
 * What the docs cannot show as it will be, and only that, is normalised on both sides:
 *   - `caps`: the Node version and platform in `build=`, and `mmap=` (whether the mmap-io addon loads here);
 *   - `watch`: the clock time and the ISO time, and the epoch or count (the test writes until the
 *     watcher has shown the change, so how many writes that took varies);
 *   - `doctor`: how long a slot was seen locked ("for at least N ms").
 * A few blocks need state that commands cannot make (a dead writer's slot, a bid, a concurrent
 * writer or producer, a file to read): GIVEN and DURING below make it, keyed by the block's first
 * command (DURING: by the command that runs until Ctrl-C).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { HEADER, Intent, SLOT, SLOT_SIZE } from '../../src/layout/constants.js';
import { Store } from '../../src/index.js';
import { repoRoot, tempDir } from '../helpers/fixtures.js';
import { testedLauncher } from './compiled.js';
import { cliEnv } from './helpers.js';

// Some hundreds of CLI processes, each a Node start-up: about 3 minutes on 2 idle cores, over 5 when both are busy.
t.setTimeout(900_000);

interface Step {
  command: string;
  /** A line typed at the interactive prompt rather than a shell command. */
  prompt: boolean;
  expected: string;
}

interface Example {
  heading: string;
  steps: Step[];
}

const COMMAND = /^\$ (.*)$/;
const PROMPT = /^splinter\((\w+)\)> (.*)$/;

/** The blocks of docs/cli.md that show a command's output, in order, under their heading. */
export function examples(markdown: string): Example[] {
  const found: Example[] = [];
  let heading = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    if (!line.startsWith('```')) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    if (line !== '```') continue; // a block with an info string (sh, json, …) shows no output
    const steps: Step[] = [];
    for (const text of body) {
      const command = COMMAND.exec(text);
      const prompt = PROMPT.exec(text);
      if (command !== null) steps.push({ command: command[1]!, prompt: false, expected: '' });
      else if (prompt !== null) steps.push({ command: prompt[2]!, prompt: true, expected: '' });
      else if (steps.length > 0) steps[steps.length - 1]!.expected += `${text}\n`;
    }
    if (steps.some((s) => s.prompt || s.command.startsWith('splinter '))) found.push({ heading, steps });
  }
  return found;
}

/** What must vary from run to run, made the same on both sides (see the top of this file). */
function normalise(text: string): string {
  return text
    .replace(/^build=splinter-ts \(node v[\d.]+, \w+ \w+\)$/m, 'build=splinter-ts (node VERSION, PLATFORM)')
    .replace(/^mmap=(yes|no)$/m, 'mmap=YES|NO')
    .replace(/^\d\d:\d\d:\d\d\.\d{3}( {2}.* {2}(epoch|count) )\d+/gm, 'HH:MM:SS.mmm$1N')
    .replace(/"time":"[^"]+"/g, '"time":"TIME"')
    .replace(/"count":"\d+"/g, '"count":"N"')
    .replace(/for at least \d+ ms/g, 'for at least N ms');
}

interface Run {
  /** This block's names for the docs' names. */
  names: Array<[string, string]>;
  dir: string;
  env: NodeJS.ProcessEnv;
  store: string;
}

/** State the block needs beyond a fresh store, made before its first command. */
const GIVEN: Record<string, (run: Run) => void | Promise<void>> = {
  // The doorbell table exists once anything has waited on the store.
  'splinter drop agents --yes': (run) => {
    spawnSync('splinter', ['--use', run.store, 'watch', '--group', '0', '--timeout', '1'], { env: run.env, cwd: run.dir });
  },
  'splinter set greeting "hello world"': (run) => {
    fs.writeFileSync(path.join(run.dir, 'config.json'), '{"model":"llama-3-8b","ctx":8192}\n');
  },
  // A bid as a process of ours places it: never expiring, claimed at tick 0, by a pid shown as 4242.
  'splinter shard': (run) => {
    const store = Store.open(run.store);
    store.shards.claim({ id: 0x5f1a, intent: Intent.WILLNEED, priority: 200, duration: 2n ** 64n - 1n, pid: 4242, claimedAt: 0n });
    store.close();
  },
  // A writer died inside the seqlock of "job:7": its slot's epoch stays odd.
  'splinter doctor': (run) => {
    const store = Store.open(run.store);
    for (let n = 0; n < 3; n++) store.set(`job:${n}`, `done ${n}`);
    store.set('job:7', 'running');
    const slot = store.slotSnapshot('job:7')!.index;
    store.close();
    const fd = fs.openSync(`/dev/shm/${run.store}`, 'r+');
    const epoch = Buffer.alloc(8);
    epoch.writeBigUInt64LE(13n);
    fs.writeSync(fd, epoch, 0, 8, HEADER.size + slot * SLOT_SIZE + SLOT.epoch);
    fs.closeSync(fd);
  },
};

/** For commands that run until Ctrl-C or a first change: what to write once the watcher waits, and what it then shows. */
const DURING: Record<string, { prepare?: (store: Store) => void; writes: (store: Store) => void; shown: RegExp }> = {
  'splinter watch status job:7': {
    writes: (store) => {
      store.set('status', 'busy');
      store.set('job:7', 'done');
    },
    shown: /job:7/,
  },
  'splinter watch --group 5 --oneshot --json': {
    prepare: (store) => {
      store.set('job:7', 'queued');
      store.setLabel('job:7', 1n);
      store.watchLabelRegister(1n, 5);
    },
    writes: (store) => store.set('job:7', 'running'),
    shown: /count/,
  },
  // The block's first command made the stream; a producer appends while the reader follows it.
  'splinter stream read tokens --follow': {
    writes: (store) => void store.stream('tokens').append(' memory'),
    shown: /memory/,
  },
};

/** How many waiters of ours are armed on the store: the first word of its doorbell table (docs/bus.md). */
function armedWaiters(store: string): number {
  const { dev, ino } = fs.statSync(`/dev/shm/${store}`);
  try {
    return fs.readFileSync(`/dev/shm/.splinter-bus-${dev}-${ino}`).readInt32LE(0);
  } catch {
    return 0;
  }
}

function substitute(text: string, names: Array<[string, string]>, back = false): string {
  let out = text;
  for (const [docs, real] of names) {
    const [from, to] = back ? [real, docs] : [docs, real];
    out = out.split(from).join(to);
  }
  return out;
}

async function runStep(run: Run, step: Step): Promise<string> {
  const command = substitute(step.command, run.names);
  if (step.prompt) {
    const result = spawnSync('splinter', ['--use', run.store, 'shell'], { env: run.env, cwd: run.dir, input: `${command}\n`, encoding: 'utf8' });
    return substitute(result.stdout + result.stderr, run.names, true);
  }
  const during = DURING[step.command];
  if (during === undefined) {
    const result = spawnSync('bash', ['-c', `${command} 2>&1`], { env: run.env, cwd: run.dir, encoding: 'utf8', timeout: 60_000 });
    return substitute(result.stdout, run.names, true);
  }
  const child = spawn('bash', ['-c', `exec ${command} 2>&1`], { env: run.env, cwd: run.dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const store = Store.open(run.store);
  try {
    during.prepare?.(store);
    // Write once the watcher waits; again only if it missed that (then the epoch shown differs, which is normalised).
    for (let n = 0; n < 600 && armedWaiters(run.store) === 0; n++) await sleep(50); // up to 30 s for the child to start
    for (let n = 0; n < 20 && !during.shown.test(output); n++) {
      during.writes(store);
      for (let wait = 0; wait < 20 && !during.shown.test(output); wait++) await sleep(50);
    }
    await sleep(100);
  } finally {
    store.close();
    child.kill('SIGINT'); // how a watch ends: Ctrl-C, exit 0
  }
  await closed;
  return substitute(output, run.names, true);
}

const markdown = fs.readFileSync(path.join(repoRoot, 'docs', 'cli.md'), 'utf8');
const found = examples(markdown);

t.test('docs/cli.md has examples to run', async (t) => {
  t.ok(found.length >= 20, `${found.length} examples with output`);
  // Examples run here reach nothing outside this machine: a URL in one (a Redis server) belongs in a block with an info string.
  const urls = found.flatMap((example) => example.steps.filter((step) => /\w+:\/\//.test(step.command)).map((step) => step.command));
  t.same(urls, [], 'no example that runs names a URL');
});

for (const [n, example] of found.entries()) {
  const first = example.steps[0]!.command;
  t.test(`${example.heading}: ${first}`, async (t) => {
    const dir = tempDir(t);
    const store = `docs-cli-${process.pid}-${n}`;
    const bin = path.join(dir, '.bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'splinter'), `#!/bin/sh\nexec '${process.execPath}' '${testedLauncher().bin}' "$@"\n`, { mode: 0o755 });
    const env = cliEnv({ SPLINTER_STORE: store, PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    const run: Run = { names: [['/var/lib/bus.spl', path.join(dir, 'bus.spl')], ['agents', store]], dir, env, store };
    t.teardown(() => {
      for (const target of [store, path.join(dir, 'bus.spl')]) {
        try {
          Store.unlink(target);
        } catch {
          // the block dropped it, or never had it
        }
      }
    });
    if (!first.startsWith('splinter init')) {
      Store.create(store, { slots: 1024, maxValueSize: 4096 }).close();
      if (example.steps.some((s) => s.command.includes('/var/lib/bus.spl'))) Store.create(path.join(dir, 'bus.spl'), { slots: 1024, maxValueSize: 4096 }).close();
    }
    await GIVEN[first]?.(run);
    for (const step of example.steps) {
      const actual = await runStep(run, step);
      t.equal(normalise(actual), normalise(step.expected), `$ ${step.command}`);
    }
  });
}
