/** The argument parser and the value parsers, on their own: no process, no store. */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import type { Test } from '../helpers/assert.js';
import { repoRoot } from '../helpers/fixtures.js';
import { parseArgs, tokenizeLine, tokenizeWithState } from '../../src/cli/parse.js';
import { COMMANDS, findCommand, usageLine } from '../../src/cli/spec.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { keyMatcher, parseGroup, parseMask, parseType, parseU64, storedKey, typeName } from '../../src/cli/values.js';

function usageError(t: Test, fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
    t.fail(`${what}: expected a UsageError, nothing was thrown`);
  } catch (error) {
    t.ok(error instanceof UsageError, `${what}: a UsageError`);
    t.match((error as Error).message, pattern, what);
  }
}

t.test('commands, positionals and options', async (t) => {
  const inv = parseArgs(['--use', 'demo', 'set', 'foo', 'hello, world']);
  t.equal(inv.command, 'set');
  t.same(inv.args, ['foo', 'hello, world']);
  t.equal(inv.globals.store, 'demo');
  t.equal(inv.globals.storeFrom, 'option');

  const init = parseArgs(['init', 'demo', '--slots', '16', '-l', '0x40', '--embeddings']);
  t.same(init.options, { slots: 16, 'max-value': 64, embeddings: true });
  t.same(parseArgs(['init', '--length=128']).options, { 'max-value': 128 }, 'an alias and --name=value');
  t.same(parseArgs(['init', '--maxlen', '8']).options, { 'max-value': 8 });

  const after = parseArgs(['get', 'foo', '--json', '-u', '/tmp/x.spl']);
  t.equal(after.globals.json, true, 'global options also after the command');
  t.equal(after.globals.store, '/tmp/x.spl');

  t.same(parseArgs(['ls']).command, 'list', 'aliases resolve to the canonical name');
  t.same(parseArgs(['rm', 'k']).command, 'unset');
  t.equal(parseArgs([]).command, undefined, 'no command');
});

t.test('the environment gives defaults, options win', async (t) => {
  const env = { SPLINTER_STORE: 'from-env', SPLINTER_NS_PREFIX: 'app:' };
  const plain = parseArgs(['list'], env);
  t.equal(plain.globals.store, 'from-env');
  t.equal(plain.globals.storeFrom, 'env');
  t.equal(plain.globals.prefix, 'app:');
  const overridden = parseArgs(['--use', 'x', '--prefix', '', 'list'], env);
  t.equal(overridden.globals.store, 'x');
  t.equal(overridden.globals.prefix, '', 'an empty --prefix clears the environment one');
  t.equal(parseArgs(['list'], { SPLINTER_STORE: '' }).globals.store, undefined, 'an empty variable is unset');
});

t.test('-- ends options; negative numbers and - are positional', async (t) => {
  t.same(parseArgs(['set', 'k', '--', '--not-an-option']).args, ['k', '--not-an-option']);
  t.same(parseArgs(['math', 'k', 'dec', '-5']).args, ['k', 'dec', '-5']);
  t.same(parseArgs(['set', 'k', '-']).args, ['k', '-']);
  t.same(parseArgs(['set', 'k', '--file', '-']).options, { file: '-' }, 'an option value may be -');
});

t.test('help and version', async (t) => {
  t.equal(parseArgs(['--help']).globals.help, true);
  const h = parseArgs(['get', '-h']);
  t.equal(h.globals.help, true);
  t.equal(h.command, 'get', 'help for a command skips its arity check');
  t.equal(parseArgs(['-V']).globals.version, true);
  t.same(parseArgs(['help', 'watch']).args, ['watch']);
});

t.test('usage errors name the problem', async (t) => {
  usageError(t, () => parseArgs(['lst']), /unknown command "lst" \(did you mean list\?\)/, 'a typo of a command');
  usageError(t, () => parseArgs(['init', '--slot', '4']), /unknown option --slot for init \(did you mean --slots\?\)/, 'a typo of an option');
  usageError(t, () => parseArgs(['init', '--slots']), /--slots needs a value \(N\)/, 'a missing option value');
  usageError(t, () => parseArgs(['init', '--slots', 'many']), /--slots must be an integer of at least 1, received "many"/, 'a bad integer');
  usageError(t, () => parseArgs(['init', '--slots', '--json']), /--slots needs a value/, 'an option is not a value');
  usageError(t, () => parseArgs(['get']), /get needs KEY/, 'a missing positional');
  usageError(t, () => parseArgs(['set', 'k', 'hello', 'world']), /set takes at most 2 arguments; unexpected "world" \(quote a value that has spaces\)/, 'too many');
  usageError(t, () => parseArgs(['get', 'k', '--raw=yes']), /--raw takes no value/, 'a value for a flag');
  usageError(t, () => parseArgs(['-x', 'get']), /unknown option -x/, 'an unknown short option');
  usageError(t, () => parseArgs(['-slots', '4']), /short options are one letter/, 'a single-dash long option');
  usageError(t, () => parseArgs(['--use', '', 'get', 'k']), /--use needs a store name or path/, 'an empty store');
  const e = (() => {
    try {
      parseArgs(['get']);
    } catch (error) {
      return error as UsageError;
    }
    return undefined;
  })();
  t.equal(e?.command, 'get', 'the error knows its command, for the help hint');
});

t.test('every command spec is consistent', async (t) => {
  const names = new Set<string>();
  for (const spec of COMMANDS) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      t.notOk(names.has(name), `${name} is unique`);
      names.add(name);
      t.equal(findCommand(name), spec);
    }
    t.ok(spec.examples.length > 0, `${spec.name} has an example`);
    const optional = spec.args.findIndex((a) => a.optional);
    if (optional >= 0) t.ok(spec.args.slice(optional).every((a) => a.optional), `${spec.name}: no required argument after an optional one`);
    t.ok(spec.args.slice(0, -1).every((a) => !a.variadic), `${spec.name}: only the last argument is variadic`);
    t.match(usageLine(spec), new RegExp(`^splinter ${spec.name}`));
  }
});

t.test('tokenizing a line of the interactive mode', async (t) => {
  t.same(tokenizeLine('set foo "hello, world"'), ['set', 'foo', 'hello, world']);
  t.same(tokenizeLine(`set 'a b' "c \\"d\\" \\\\ e" f\\ g`), ['set', 'a b', 'c "d" \\ e', 'f g']);
  t.same(tokenizeLine('  get   k  '), ['get', 'k']);
  t.same(tokenizeLine('set k ""'), ['set', 'k', ''], 'an empty quoted word is a word');
  t.same(tokenizeLine('set k "it\'s"'), ['set', 'k', "it's"]);
  t.throws(() => tokenizeLine('set k "open'), UsageError);
  t.throws(() => tokenizeLine("set k 'open"), UsageError);
  t.same(tokenizeWithState('get "ab', true), { words: ['get', 'ab'], open: true }, 'lenient for completion');
  t.same(tokenizeWithState('get ', true), { words: ['get'], open: false });
  // Any list of words, quoted the way showKey/JSON does, comes back unchanged.
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 6 }), (words) => {
      const line = words.map((w) => `'${w.replaceAll("'", `'"'"'`)}'`).join(' ');
      return JSON.stringify(tokenizeLine(line)) === JSON.stringify(words);
    }),
  );
});

t.test('numbers, masks, groups and types', async (t) => {
  t.equal(parseU64('42', 'v'), 42n);
  t.equal(parseU64('0x10', 'v'), 16n);
  t.equal(parseU64('0b101', 'v'), 5n);
  t.equal(parseU64('0o17', 'v'), 15n);
  t.equal(parseU64('18446744073709551615', 'v'), 0xffffffffffffffffn);
  t.equal(parseU64('1_000', 'v'), 1000n);
  t.throws(() => parseU64('18446744073709551616', 'v'), UsageError, 'past 2^64 - 1');
  t.throws(() => parseU64('-1', 'v'), UsageError);
  t.throws(() => parseU64('12abc', 'v'), UsageError);
  t.equal(parseMask('bit:3', 'label'), 8n);
  t.equal(parseMask('bit:63', 'label'), 1n << 63n);
  t.throws(() => parseMask('bit:64', 'label'), UsageError);
  t.throws(() => parseMask('0', 'label'), /at least one bit/);
  t.equal(parseGroup('63', 'bind'), 63);
  t.throws(() => parseGroup('64', 'bind'), /0\.\.63/);
  t.throws(() => parseGroup('x', 'bind'), UsageError);
  t.equal(parseType('biguint', 'type'), 4);
  t.equal(parseType('JSON', 'type'), 8);
  t.equal(parseType('text', 'type'), 128);
  t.equal(parseType('img|binary', 'type'), 48);
  t.equal(parseType('1', 'type'), 1);
  t.throws(() => parseType('float', 'type'), /unknown type "float"/);
  t.equal(typeName(4), 'biguint');
  t.equal(typeName(48), 'binary|img');
  t.equal(typeName(0), 'none');
});

t.test('keys: the prefix is prepended and the result checked', async (t) => {
  t.equal(storedKey('app:', 'k', 'get'), 'app:k');
  t.equal(storedKey('', 'ключ', 'get'), 'ключ');
  t.equal(storedKey('', 'x'.repeat(63), 'get'), 'x'.repeat(63));
  t.throws(() => storedKey('', 'x'.repeat(64), 'get'), /at most 63 UTF-8 bytes/);
  t.throws(() => storedKey('p:', 'x'.repeat(62), 'get'), /with the prefix "p:"/);
  t.throws(() => storedKey('', 'a\0b', 'get'), /NUL/);
  t.throws(() => storedKey('', '\ud800', 'get'), /well-formed/);
});

t.test('list patterns: globs, or substrings', async (t) => {
  const m = keyMatcher('user:*');
  t.ok(m('user:1'));
  t.notOk(m('a-user:1'));
  t.ok(keyMatcher('us?r')('user'));
  t.ok(keyMatcher('greet')('say-greeting'), 'no glob characters: a substring');
  t.ok(keyMatcher('a.b*')('a.bc'));
  t.notOk(keyMatcher('a.b*')('axbc'), 'regex characters are literal');
  t.ok(keyMatcher(undefined)('anything'));
});

t.test('docs/cli.md documents every command', async (t) => {
  const docs = fs.readFileSync(path.join(repoRoot, 'docs', 'cli.md'), 'utf8');
  for (const spec of COMMANDS) {
    t.ok(docs.includes(`\`${spec.name}`), `${spec.name} is in docs/cli.md`);
  }
});
