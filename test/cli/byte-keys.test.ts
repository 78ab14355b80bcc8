/**
 * The CLI on keys that are not UTF-8 (docs/cli.md, "Keys"): keys the C peer stored, of 4 and 63
 * bytes, are listed, read, written, unset, exported and diagnosed, each in the escaped form,
 * and what list prints pastes back into get, through a shell and through the interactive mode.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Store } from '../../src/index.js';
import { Session } from '../../src/cli/context.js';
import { tokenizeLine } from '../../src/cli/parse.js';
import { complete } from '../../src/cli/repl.js';
import { shmName } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';
import type { Test } from '../helpers/assert.js';
import { testedLauncher } from './compiled.js';
import { cli, cliAsync, cliEnv, shell } from './helpers.js';

t.setTimeout(600_000); // many CLI processes: minutes on a loaded machine

const hex = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('hex');

/** `caf\xe9` (Latin-1), and a 63-byte key with a backslash, a control character and bytes that are not UTF-8. */
const LATIN1 = '636166e9';
const LONG = `ff${hex('a\\b')}${'61'.repeat(55)}0a${'c3'.repeat(3)}`;
const LATIN1_SHOWN = "'caf\\xe9'";
const LONG_TEXT = `\\xffa\\\\b${'a'.repeat(55)}\\x0a\\xc3\\xc3\\xc3`;

async function peerStore(t: Test): Promise<{ name: string; peer: Peer }> {
  const name = shmName(t, 'cli-byte-keys');
  const peer = Peer.create(name, 64, 64);
  await peer.ready;
  t.teardown(() => void peer.close());
  t.equal(LONG.length, 126, 'the long key is 63 bytes');
  for (const [key, value] of [
    [LATIN1, 'latin'],
    [LONG, 'long'],
    [hex('plain'), 'p'],
  ] as const) {
    t.equal((await peer.send({ op: 'set', key_hex: key, value_hex: hex(value) })).rc, 0);
  }
  return { name, peer };
}

t.test('list, get, head, type and export show every key, escaped; counts agree', async (t) => {
  const { name } = await peerStore(t);
  const list = cli(['--use', name, 'list']);
  t.equal(list.code, 0, list.stderr);
  const names = list.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+(?=\d+\s+\d+\s+\w+$)/)[0]!.trimEnd());
  t.same(names.sort(), [LATIN1_SHOWN, `'${LONG_TEXT}'`, 'plain'].sort(), 'list: each key in the escaped form, quoted where needed');

  const json = JSON.parse(cli(['--use', name, '--json', 'list']).stdout) as Array<{ key: string; keyHex?: string }>;
  t.same(json.map((k) => [k.key, k.keyHex]).sort(), [['caf\\xe9', LATIN1], [LONG_TEXT, LONG], ['plain', undefined]].sort(), 'list --json: key and keyHex');

  t.equal(cli(['--use', name, 'get', 'caf\\xe9']).stdout, 'latin\n', 'get by the escaped form');
  t.equal(cli(['--use', name, 'get', LONG_TEXT]).stdout, 'long\n', 'get a 63-byte key');
  const head = cli(['--use', name, 'head', 'caf\\xe9']);
  t.match(head.stdout, /^key +'caf\\xe9'$/m, 'head names the key escaped');
  t.equal(cli(['--use', name, 'type', 'caf\\xe9']).stdout, 'void\n', 'type');
  const getJson = JSON.parse(cli(['--use', name, '--json', 'get', LONG_TEXT]).stdout) as { key: string; keyHex: string; value: string };
  t.same([getJson.key, getJson.keyHex, getJson.value], [LONG_TEXT, LONG, 'long'], 'get --json');

  const exported = JSON.parse(cli(['--use', name, 'export']).stdout) as { keys: Array<{ key: string; keyHex?: string; value: string }> };
  const store = Store.open(name);
  t.teardown(() => store.close());
  t.equal(exported.keys.length, store.count(), 'export has every key the store counts');
  const back = exported.keys.map((k) => (k.keyHex === undefined ? hex(k.key) : k.keyHex)).sort();
  t.same(back, store.keys({ bytes: true }).map(hex).sort(), 'each exported key gives its bytes back: keyHex, or the UTF-8 of key');
});

t.test('set, append, label, unset by the escaped form write the same bytes C reads', async (t) => {
  const { name, peer } = await peerStore(t);
  t.equal(cli(['--use', name, 'set', 'new\\x80\\\\key', 'v']).code, 0, 'set a new bytes key');
  t.equal((await peer.send({ op: 'get', key_hex: `6e6577805c6b6579` })).value_hex, hex('v'), 'C reads it under its bytes');
  t.equal(cli(['--use', name, 'append', 'caf\\xe9', '+more']).code, 0);
  t.equal((await peer.send({ op: 'get', key_hex: LATIN1 })).value_hex, hex('latin+more'), 'append');
  t.equal(cli(['--use', name, 'label', 'caf\\xe9', 'bit:2']).code, 0, 'label');
  const unset = cli(['--use', name, 'unset', LONG_TEXT]);
  t.equal(unset.code, 0, unset.stderr);
  t.equal(unset.stdout, `deleted '${LONG_TEXT}' (4 bytes)\n`);
  t.equal((await peer.send({ op: 'get', key_hex: LONG })).errno, 'ENOENT', 'C no longer finds it');
  const json = JSON.parse(cli(['--use', name, '--json', 'unset', 'caf\\xe9']).stdout) as { deleted: string[]; deletedHex: string[] };
  t.same([json.deleted, json.deletedHex], [['caf\\xe9'], [LATIN1]], 'unset --json names it with its bytes');
  const missing = cli(['--use', name, 'get', 'caf\\xe9']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /get 'caf\\xe9': no such key/, 'messages name it as list shows it');
});

t.test('key arguments: the escape rule, and its errors', async (t) => {
  const { name } = await peerStore(t);
  t.equal(cli(['--use', name, 'set', 'back\\\\slash', 'b']).code, 0);
  t.equal(cli(['--use', name, 'get', 'back\\\\slash']).stdout, 'b\n', 'a literal backslash is \\\\');
  const store = Store.open(name);
  t.teardown(() => store.close());
  t.equal(store.getString('back\\slash'), 'b', 'stored as one backslash');
  const bad = cli(['--use', name, 'get', 'a\\nb']);
  t.equal(bad.code, 2, 'any other backslash is a usage error');
  t.match(bad.stderr, /backslash starts/);
  const nul = cli(['--use', name, 'set', 'a\\x00b', 'v']);
  t.equal(nul.code, 2);
  t.match(nul.stderr, /NUL/);
  const long = cli(['--use', name, 'set', `\\xff${'a'.repeat(63)}`, 'v']);
  t.equal(long.code, 2);
  t.match(long.stderr, /at most 63 bytes/);
  // A prefix is taken off as bytes: a key that is not UTF-8 stays in its namespace.
  const prefixed = cli(['--use', name, '--prefix', 'caf', 'list']);
  t.match(prefixed.stdout, /^'\\xe9' /m, 'the rest of caf\\xe9 under --prefix caf');
  t.equal(cli(['--use', name, '--prefix', 'caf', 'get', '\\xe9']).stdout, 'latin\n');
});

t.test("what list prints pastes into get: through bash, and through the interactive mode's words", async (t) => {
  const { name } = await peerStore(t);
  const store = Store.open(name);
  t.teardown(() => store.close());
  store.set(Uint8Array.from([0x27, 0x20, 0xe9]), 'quote');
  store.set('sp ace', 'space');
  const printed = cli(['--use', name, 'list']).stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+(?=\d+\s+\d+\s+\w+$)/)[0]!.trimEnd());
  t.equal(printed.length, 5);
  for (const word of printed) {
    const keyArg = tokenizeLine(word);
    t.equal(keyArg.length, 1, `${word}: one word`);
    const viaShell = spawnSync('bash', ['-c', `"$0" "$1" --use "$2" get ${word}`, process.execPath, testedLauncher().bin, name], { env: cliEnv(), encoding: 'utf8' });
    t.equal(viaShell.status, 0, `bash: get ${word} (${viaShell.stderr.trim()})`);
    const viaShellMode = shell([`--use ${name} get ${word}`]);
    t.equal(viaShellMode.code, 0, `splinter shell: get ${word} (${viaShellMode.stderr.trim()})`);
    t.equal(viaShellMode.stdout, viaShell.stdout, 'the same value both ways');
  }
  // Completion offers the keys in the same form.
  const session = new Session({}, true);
  session.current = name;
  t.teardown(() => session.closeAll());
  const [candidates] = complete('get caf', session, {});
  t.same(candidates, [`"caf\\\\xe9" `], 'completion: the escaped form, quoted for the prompt');
  t.same(tokenizeLine(`get ${candidates[0]!}`), ['get', 'caf\\xe9']);
});

t.test('doctor notes keys that are not UTF-8, and finds no damage', async (t) => {
  const { name } = await peerStore(t);
  const text = cli(['doctor', name, '--verbose']);
  t.equal(text.code, 0, 'a note is not damage: exit 0');
  t.match(text.stdout, /note +key-not-utf8 +slot \d+ holds a key that is not UTF-8: 'caf\\xe9' \(4 bytes/);
  t.match(text.stdout, /ok: no damage found/);
  const json = JSON.parse(cli(['--json', 'doctor', name]).stdout) as { findings: Array<{ kind: string; severity: string; key: string; keyHex: string }> };
  const notes = json.findings.filter((f) => f.kind === 'key-not-utf8');
  t.same(notes.map((f) => [f.severity, f.keyHex]).sort(), [['note', LATIN1], ['note', LONG]].sort(), 'doctor --json: both keys, with their bytes');
});

t.test('watch takes and shows a key that is not UTF-8', async (t) => {
  const { name, peer } = await peerStore(t);
  const watcher = cliAsync(['--use', name, 'watch', 'caf\\xe9', '--oneshot', '--json'], { timeout: 60_000 });
  let done = false;
  void watcher.then(() => (done = true));
  for (let n = 0; !done && n < 300; n++) {
    await peer.send({ op: 'set', key_hex: LATIN1, value_hex: hex(`w${n}`) });
    await sleep(100);
  }
  const result = await watcher;
  t.equal(result.code, 0, result.stderr);
  const event = JSON.parse(result.stdout.trim().split('\n')[0]!) as { key: string; keyHex: string };
  t.same([event.key, event.keyHex], ['caf\\xe9', LATIN1]);
});
