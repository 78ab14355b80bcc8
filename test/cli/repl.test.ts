/** The interactive mode on a real pseudo-terminal: type, press Tab, read the screen. */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { SlotType, Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { shell } from './helpers.js';
import { testedLauncher } from './compiled.js';
import { availableBackends, openTerminal } from './terminal.js';

t.setTimeout(300_000);

const backends = availableBackends();
if (backends.length === 0) {
  t.test('the interactive mode', { skip: 'neither tmux nor script (util-linux) is installed: no pseudo-terminal to test in' }, async () => {});
}

for (const backend of backends) {
  t.test(`the interactive mode, typed into a pseudo-terminal (${backend})`, async (t) => {
    const name = shmName(t, `repl-${backend}`);
    const store = Store.create(name, { slots: 64, maxValueSize: 128 });
    t.teardown(() => {
      store.close();
      Store.unlink(name);
    });
    store.set('alpha', 'first value');
    store.set('beta', 'second');
    store.set('n', '5');
    store.setNamedType('n', SlotType.BIGUINT);
    const historyFile = path.join(tempDir(t), 'history');
    const launcher = testedLauncher();
    const term = openTerminal(backend, [process.execPath, launcher.bin, '--use', name], {
      SPLINTER_HISTORY: historyFile,
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: tempDir(t),
      TERM: 'xterm',
    });
    t.teardown(() => term.close());
    // tmux drops trailing spaces from the screen, so the prompt is matched without its space.
    const prompt = `splinter(${name})>`;
    const prompts = (screen: string): number => screen.split(prompt).length - 1;
    /** Types a line, presses Enter, and waits for the next prompt. */
    const run = async (line: string): Promise<string> => {
      const before = prompts(term.screen());
      await term.type(line);
      await term.key('Enter');
      return term.waitFor((s) => prompts(s) > before, `the prompt after ${line}`);
    };

    const banner = await term.waitFor((s) => s.includes(prompt), 'the banner and the first prompt');
    t.match(banner, new RegExp(`splinter-ts \\S+: store ${name}\\. help lists the commands, Tab completes, Ctrl-D leaves\\.`));

    // Tab completes a key (the only one starting "al")…
    await term.type('get al');
    await term.key('Tab');
    await term.waitFor((s) => s.trimEnd().endsWith(`${prompt} get alpha`), 'the completed key');
    const before = prompts(term.screen());
    await term.key('Enter');
    let screen = await term.waitFor((s) => prompts(s) > before, 'the prompt after get alpha');
    t.match(screen, /> get alpha\s*\nfirst value\n/, 'Tab completed the key and get printed its value');

    // …and a command name.
    await term.type('hea');
    await term.key('Tab');
    await term.waitFor((s) => s.trimEnd().endsWith(`${prompt} head`), 'the completed command');
    await term.type('beta');
    screen = await run('');
    t.match(screen, /^key +beta$/m, 'head beta');

    screen = await run('set gamma "two words"');
    t.equal(store.getString('gamma'), 'two words', 'quoting works as in a shell');
    screen = await run('math n inc');
    t.match(screen, /math n inc\s*\n6\n/);

    screen = await run('get nope');
    t.match(screen, /splinter: ENOENT: get "nope": no such key\n/, 'an error is one line, and the prompt comes back');

    // Up recalls the last line.
    await term.key('Up');
    await term.waitFor((s) => s.trimEnd().endsWith(`${prompt} get nope`), 'the recalled line');
    await term.key('C-u');

    const waiting = prompts(term.screen());
    await term.type('watch alpha');
    await term.key('Enter');
    for (let i = 0; i < 100 && !/alpha {2}epoch \d+ {2}"changed \d+"/.test(term.screen()); i++) {
      store.set('alpha', `changed ${i}`);
      await sleep(100);
    }
    await term.waitFor(/alpha {2}epoch \d+ {2}"changed \d+"/, 'a change printed by watch');
    await term.key('C-c');
    const afterStop = await term.waitFor((s) => prompts(s) > waiting, 'the prompt after Ctrl-C stopped watch');
    t.ok(prompts(afterStop) > waiting, 'watch printed a change and Ctrl-C brought the prompt back');

    screen = await run('hist gamma');
    t.match(screen, /\n\d+: set gamma "two words"\n/, 'hist filters the history');

    screen = await run('use');
    t.match(screen, /splinter: use needs NAME\|PATH; see splinter help use/);

    await term.type('exit');
    await term.key('Enter');
    const deadline = Date.now() + 10_000;
    while (!term.exited() && Date.now() < deadline) await sleep(50);
    t.ok(term.exited(), 'exit leaves');
    const history = fs.readFileSync(historyFile, 'utf8').split('\n');
    t.ok(history.includes('set gamma "two words"'), 'the history is saved');
    t.equal(history.at(-2), 'exit');
  });
}

t.test('splinter shell reads commands from stdin when it is not a terminal', async (t) => {
  const file = path.join(tempDir(t), 'batch.spl');
  const result = shell([`init ${file} --slots 8 --max-value 32`, `use ${file}`, '# a comment', '', 'set k "v 1"', 'get k', 'get missing', 'list --json'], {});
  t.equal(result.code, 1, 'the last failure is the exit code');
  t.equal(result.stderr, 'splinter: ENOENT: get "missing": no such key\n');
  t.match(result.stdout, /^created .*batch\.spl: 8 slots, values up to 32 bytes .*\nusing .*batch\.spl: 8 slots, values up to 32 bytes\nv 1\n\[\n {2}\{\n {4}"key": "k"/);
  const ok = shell(['get k'], { env: { SPLINTER_STORE: file } });
  t.equal(ok.code, 0);
  t.equal(ok.stdout, 'v 1\n');
});
