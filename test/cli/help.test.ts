/** Every command's `--help` prints its usage and exits 0, the interactive ones too (`shell --help` used to open the shell). */
import t from 'tap';
import type { Io } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/spec.js';

function capture(): { io: Io; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (text) => void out.push(text),
    bytes: (data) => void out.push(Buffer.from(data).toString()),
    err: (line) => void err.push(line),
    stdinIsTTY: true,
    stdoutIsTTY: true,
    readStdin: () => Promise.reject(new Error('--help must not read stdin')),
    ask: () => Promise.reject(new Error('--help must not ask anything')),
  };
  return { io, out, err };
}

t.test('COMMAND --help and COMMAND -h print the usage of every command', async (t) => {
  t.ok(COMMANDS.length > 30, `${COMMANDS.length} commands`);
  for (const spec of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      const { io, out, err } = capture();
      const code = await main([spec.name, flag], {}, io);
      t.equal(code, 0, `${spec.name} ${flag} exits 0`);
      t.same(err, [], `${spec.name} ${flag} says nothing on stderr`);
      t.match(out.join(''), new RegExp(`^usage: splinter ${spec.name === 'help' ? '' : spec.name}`), `${spec.name} ${flag} prints its usage`);
    }
  }
});
