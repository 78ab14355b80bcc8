/** Under --json every error is one line of JSON on stderr, {"error":{"code","message"}}, stdout stays empty, exit codes unchanged. */
import t from 'tap';
import { Store } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { cli, shell } from './helpers.js';

t.setTimeout(300_000);

const name = `json-errors-${process.pid}`;
Store.create(name, { slots: 16, maxValueSize: 8 }).close();
t.teardown(() => Store.unlink(name));

function jsonError(t: Test, args: string[], code: string, exit: number, message: RegExp): void {
  const result = cli(args);
  t.equal(result.code, exit, `${args.join(' ')}: exit ${exit}`);
  t.equal(result.stdout, '', 'nothing on stdout');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, 'one line on stderr');
  const parsed = JSON.parse(lines[0]!) as { error: { code: string; message: string } };
  t.same(Object.keys(parsed), ['error']);
  t.same(Object.keys(parsed.error), ['code', 'message']);
  t.equal(parsed.error.code, code);
  t.match(parsed.error.message, message);
  t.notMatch(parsed.error.message, /^splinter: |^E[A-Z]+: /, 'the message without the prefix or the code');
}

t.test('usage errors, before and after the command is known', async (t) => {
  jsonError(t, ['--json', 'frobnicate'], 'EUSAGE', 2, /unknown command "frobnicate"/);
  jsonError(t, ['get', '--json'], 'EUSAGE', 2, /get needs KEY/);
  jsonError(t, ['--json', '--use', name, 'list', '--limit', 'many'], 'EUSAGE', 2, /--limit/);
  jsonError(t, ['--json', '--use', name, 'math', 'k', 'frob'], 'EUSAGE', 2, /unknown math operation/);
});

t.test('not found: a key, a store', async (t) => {
  jsonError(t, ['--json', '--use', name, 'get', 'nothing'], 'ENOENT', 1, /get "nothing": no such key/);
  jsonError(t, ['--json', '--use', `${name}-missing`, 'list'], 'ENOENT', 1, /does not exist/);
});

t.test("the library's errors keep their code", async (t) => {
  jsonError(t, ['--json', '--use', name, 'set', 'k', 'a value longer than eight bytes'], 'EMSGSIZE', 1, /./);
  t.equal(cli(['--use', name, 'set', 'text', 'abc']).code, 0);
  jsonError(t, ['--json', '--use', name, 'math', 'text', 'inc'], 'EPROTOTYPE', 1, /not biguint/);
  jsonError(t, ['--json', '--use', name, 'watch', 'k', '--timeout', '50'], 'ETIMEDOUT', 1, /no change within 50 ms/);
});

t.test('without --json the same errors stay one plain line', async (t) => {
  const result = cli(['--use', name, 'get', 'nothing']);
  t.equal(result.code, 1);
  t.equal(result.stderr, 'splinter: ENOENT: get "nothing": no such key\n');
  const library = cli(['--use', name, 'set', 'k', 'a value longer than eight bytes']);
  t.match(library.stderr, /^splinter: EMSGSIZE: /);
});

t.test('splinter shell --json reports each failing line as JSON', async (t) => {
  const perLine = shell(['--json get nothing'], { env: { SPLINTER_STORE: name } });
  t.equal(JSON.parse(perLine.stderr).error.code, 'ENOENT', '--json on one line');
  const batch = cli(['--json', '--use', name, 'shell'], { input: 'get nothing\nfrobnicate\n' });
  t.equal(batch.code, 2, 'the status of the last failing line');
  t.same(
    batch.stderr.trim().split('\n').map((l) => (JSON.parse(l) as { error: { code: string } }).error.code),
    ['ENOENT', 'EUSAGE'],
  );
});
