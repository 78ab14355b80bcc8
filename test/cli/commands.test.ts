/** Every command, run through the real binary against real stores (shm and file). */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { SlotType, Store } from '../../src/index.js';
import { shmName, tempDir } from '../helpers/fixtures.js';
import { cli, oneLineError, shell } from './helpers.js';

// Each case spawns the binary (about half a second each on a quiet machine).
t.setTimeout(900_000); // dozens of CLI processes: minutes on a loaded machine

t.test('init, set, get, head, list, unset on a shared-memory store', async (t) => {
  const name = shmName(t, 'cli');
  t.teardown(() => {
    try {
      Store.unlink(name);
    } catch {
      // already gone
    }
  });
  const init = cli(['init', name, '--slots', '64', '--max-value', '256']);
  t.equal(init.code, 0, init.stderr);
  t.match(init.stdout, new RegExp(`^created ${name}: 64 slots, values up to 256 bytes \\(`));
  const again = cli(['init', name]);
  t.equal(again.code, 1, 'init never touches an existing store');
  t.ok(oneLineError(again.stderr), again.stderr);
  t.match(again.stderr, /EEXIST/);

  const env = { SPLINTER_STORE: name };
  t.equal(cli(['set', 'foo', 'hello, world'], { env }).code, 0);
  t.equal(cli(['get', 'foo'], { env }).stdout, 'hello, world\n');
  const store = Store.open(name);
  t.teardown(() => store.close());
  t.equal(store.getString('foo'), 'hello, world', 'the library reads what the CLI wrote');
  store.set('from-lib', 'written by the library');
  t.equal(cli(['get', 'from-lib'], { env }).stdout, 'written by the library\n', 'and the CLI what the library wrote');

  const head = cli(['head', 'foo'], { env });
  t.equal(head.code, 0);
  t.match(head.stdout, /^key +foo$/m);
  t.match(head.stdout, /^epoch +2$/m);
  t.match(head.stdout, /^length +12 of 256 bytes$/m);
  t.match(head.stdout, /^type +void \(1\)$/m);

  const list = cli(['list'], { env });
  t.equal(list.code, 0);
  t.match(list.stdout, /^NAME +EPOCH +LEN +TYPE\n/);
  t.match(list.stdout, /^foo +2 +12 +void$/m);

  const unset = cli(['unset', 'foo'], { env });
  t.equal(unset.stdout, 'deleted foo (12 bytes)\n');
  const missing = cli(['get', 'foo'], { env });
  t.equal(missing.code, 1, 'a missing key exits 1');
  t.equal(missing.stderr, 'splinter: ENOENT: get "foo": no such key\n');
  t.equal(store.has('foo'), false);
});

t.test('exit codes and one-line errors', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'e.spl');
  const cases: Array<[string[], number, RegExp]> = [
    [['nope'], 2, /unknown command "nope"/],
    [['get'], 2, /get needs KEY; see splinter help get/],
    [['get', 'k'], 2, /no store selected: pass --use NAME\|PATH, or set SPLINTER_STORE/],
    [['--use', 'splinter-cli-test-missing-store', 'get', 'k'], 1, /does not exist \(create it with: splinter init splinter-cli-test-missing-store\)/],
    [['--use', file, 'get', 'x'.repeat(64)], 2, /a key is at most 63 UTF-8 bytes/],
    [['init', file, '--slots', '0'], 2, /--slots must be an integer of at least 1, received "0"/],
    [['init', file, '--slots', '-5'], 2, /--slots must be an integer of at least 1, received "-5"/],
    [['shell', 'extra'], 2, /shell takes no arguments; unexpected "extra"/],
    [['gte', 'k'], 2, /unknown command "gte" \(did you mean get\?\)/],
    [['lsit'], 2, /unknown command "lsit" \(did you mean list\?\)/],
    [['hist'], 2, /hist works only in the interactive mode/],
  ];
  for (const [args, code, message] of cases) {
    const r = cli(args);
    t.equal(r.code, code, `splinter ${args.join(' ')} exits ${code}`);
    t.ok(oneLineError(r.stderr), `one line: ${r.stderr.trim()}`);
    t.match(r.stderr, message);
    t.equal(r.stdout, '');
  }
  const none = cli([]);
  t.equal(none.code, 2, 'no command off a terminal is a usage error, not a hang');
  t.ok(oneLineError(none.stderr));

  // A file that is not a store: ECORRUPT in one line, exit 1.
  fs.writeFileSync(file, Buffer.alloc(6000, 7));
  const corrupt = cli(['--use', file, 'list']);
  t.equal(corrupt.code, 1);
  t.ok(oneLineError(corrupt.stderr), corrupt.stderr);
  t.match(corrupt.stderr, /^splinter: ECORRUPT: .*not a Splinter store/);
});

t.test('help and version', async (t) => {
  const help = cli(['help']);
  t.equal(help.code, 0);
  for (const command of ['init', 'get', 'head', 'list', 'export', 'set', 'append', 'unset', 'type', 'math', 'label', 'unlabel', 'bind', 'bump', 'retrain', 'orders', 'watch', 'shard', 'doctor', 'stats', 'config', 'caps']) {
    t.match(help.stdout, new RegExp(`^  ${command} `, 'm'), `help lists ${command}`);
  }
  t.match(help.stdout, /SPLINTER_STORE/);
  const watch = cli(['watch', '--help']);
  t.match(watch.stdout, /^usage: splinter watch \[KEY…\] \[-g\|--group G\] \[--oneshot\] \[--timeout MS\]/);
  t.equal(cli(['help', 'get']).stdout, cli(['get', '-h']).stdout, 'help get = get -h');
  t.match(cli(['--version']).stdout, /^splinter-ts \d+\.\d+\.\d+/);
  const caps = cli(['caps']);
  t.match(caps.stdout, /^version=.*\nbuild=splinter-ts .*\nformat=4\nembeddings=yes\npersistent=yes\nmmap=yes\nbus=(yes|no)\nshards=(yes|no)\n/);
});

t.test('values by type, raw bytes, JSON output; set from a file and from stdin', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'v.spl');
  const env = { SPLINTER_STORE: file };
  t.equal(cli(['init', '--slots', '32', '--max-value', '128']).code, 2, 'init with no store named or selected');
  t.equal(cli(['init', '--slots', '32', '--max-value', '128'], { env }).code, 0, 'init of the selected store');

  const math = shell(
    [
      'set n 41 --type biguint',
      'math n inc',
      'math n dec 0x2',
      'math n or 0b1',
      'math n xor 1',
      'math n and 8',
      'math n not',
      'math n inc 9',
      'get n',
      'type n',
      'math n mul 2',
      'set text plain',
      'math text inc',
      `set j '{"a":[1,2],"b":"x"}' --type json`,
      'get j',
      'type j',
      'type j float',
      'append text " and more"',
      'get text',
      'append absent x',
    ],
    { env },
  );
  t.equal(
    math.stdout,
    ['42', '40', '41', '40', '8', String(0xffffffffffffffffn - 8n), '0', '0', 'biguint', '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "x"\n}', 'json', 'plain and more', ''].join('\n'),
    'math prints each new value and wraps at 2^64; get prints a biguint as a number and JSON pretty',
  );
  t.equal(
    math.stderr,
    [
      'splinter: unknown math operation "mul"; one of inc, dec, and, or, xor, not; see splinter help math',
      'splinter: EPROTOTYPE: math "text": the key is void, not biguint (convert it with: splinter type text biguint)',
      'splinter: unknown type "float"; one of void, bigint, biguint, json, binary, img, audio, vartext; see splinter help type',
      'splinter: ENOENT: append "absent": no such key',
      '',
    ].join('\n'),
  );
  t.equal(math.code, 1, 'the shell exits with the last failure');
  t.equal(cli(['math', 'n', 'mul', '2'], { env }).code, 2, 'a bad operation alone exits 2');
  t.equal(cli(['math', 'text', 'inc'], { env }).code, 1, 'math on a non-biguint key exits 1');

  const blob = new Uint8Array([0, 1, 2, 0x68, 0x69, 0xff, 0xfe, 10]);
  const blobFile = path.join(dir, 'blob.bin');
  fs.writeFileSync(blobFile, blob);
  t.equal(cli(['set', 'blob', '--file', blobFile], { env }).code, 0);
  t.same(new Uint8Array(cli(['get', 'blob', '--raw'], { env }).stdoutBytes), blob, '--raw: the bytes, unchanged');
  t.equal(cli(['set', 'piped'], { env, input: blob }).code, 0, 'the value from stdin');
  t.equal(cli(['set', 'dash', '-'], { env, input: 'from stdin' }).code, 0);
  const missingFile = cli(['set', 'x', '--file', path.join(dir, 'nope')], { env });
  t.equal(missingFile.code, 1);
  t.match(missingFile.stderr, /cannot read .*nope: no such file/);
  t.equal(cli(['set', 'x', 'v', '--file', blobFile], { env }).code, 2, 'a VALUE and --file');
  const tooBig = cli(['set', 'big', 'x'.repeat(129)], { env });
  t.equal(tooBig.code, 1);
  t.match(tooBig.stderr, /EMSGSIZE: a value is 1\.\.128 bytes in this store, received 129 bytes/);

  t.same(new Uint8Array(cli(['get', 'piped', '--raw'], { env }).stdoutBytes), blob, 'the piped value, raw');
  const reads = shell(['get blob', 'get dash', 'type blob binary', 'type blob'], { env });
  t.equal(reads.stdout, '00000000  00 01 02 68 69 ff fe 0a                           |...hi...|\nfrom stdin\nbinary\n', 'binary as a hex dump');
  t.same(JSON.parse(cli(['get', 'blob', '--json'], { env }).stdout), {
    key: 'blob',
    type: 'binary',
    typeFlag: 16,
    length: 8,
    epoch: '4',
    encoding: 'base64',
    value: Buffer.from(blob).toString('base64'),
  });
  t.match(JSON.parse(cli(['get', 'n', '--json'], { env }).stdout), { key: 'n', type: 'biguint', number: '0', encoding: 'base64' });

  const store = Store.open(file);
  t.teardown(() => store.close());
  t.equal(store.getBigUint('n'), 0n);
  t.equal(store.slotSnapshot('blob')?.typeFlag, SlotType.BINARY);
  t.same(store.get('piped'), blob);
});

t.test('labels, binds, bump, retrain, orders, config', async (t) => {
  const file = path.join(tempDir(t), 'l.spl');
  const env = { SPLINTER_STORE: file };
  cli(['init', file, '--slots', '32', '--max-value', '64']);
  const store = Store.open(file);
  t.teardown(() => store.close());
  const labels = shell(['set job queued', 'label job 0x5', 'label job 0', 'label nope 1', 'bind bit:2 7', 'bind 4 64', 'bump job'], { env });
  t.equal(labels.stderr.split('\n').length, 4, labels.stderr);
  t.match(labels.stderr, /a label mask must have at least one bit set/);
  t.match(labels.stderr, /label "nope": no such key/);
  t.match(labels.stderr, /a signal group is 0\.\.63, received "64"/);
  t.equal(store.slotSnapshot('job')?.bloom, 5n);
  t.equal(store.headerSnapshot().labelGroups[2], 7);
  t.equal(store.getSignalCount(7), 1n, 'bump pulsed the group the label is bound to');
  t.equal(store.getEpoch('job'), 4n, 'bump moved the slot epoch by 2');
  t.equal(cli(['label', 'job', '0'], { env }).code, 2, 'a zero mask is a usage error');
  t.equal(cli(['label', 'nope', '1'], { env }).code, 1, 'a missing key is a failure');

  shell(['unlabel job bit:0', 'bind 4 none', 'set job again', 'retrain job'], { env });
  t.equal(store.slotSnapshot('job')?.bloom, 4n);
  t.equal(store.headerSnapshot().labelGroups[2], 255);
  t.equal(store.getEpoch('job'), 8n, 'set and retrain each moved the epoch on by 2');

  const orders = shell(['orders set car red fast loud', 'orders show car', 'orders car'], { env });
  const table = 'ORDER  KEY    LEN  VALUE\n    0  car      3  "red"\n    1  car.1    4  "fast"\n    2  car.2    4  "loud"\n';
  t.equal(orders.stdout, `set car and 2 orders\n${table}${table}`, 'orders set, then shown (show is the default)');
  t.same([store.getString('car'), store.getString('car.1'), store.getString('car.2')], ['red', 'fast', 'loud']);
  const unsets = shell(['orders unset car 2', 'orders set bike a b c', 'unset -r bike'], { env });
  t.equal(unsets.stdout, 'set bike and 2 orders\ndeleted bike and 2 orders (3 bytes)\n');
  t.same([store.has('car'), store.has('car.1'), store.has('car.2')], [false, false, true]);
  t.same([store.has('bike'), store.has('bike.1'), store.has('bike.2')], [false, false, false]);

  const config = shell(['config', 'config mop 0', 'config mop full', 'config mop 1', 'config mop 2', 'config mop 3', 'config speed 1'], { env });
  t.match(config.stdout, /^store +.*l\.spl \(.*l\.spl\)\nmagic +0x534C4E54\nversion +4\nslots +32\nmax_val_sz +64\n/);
  t.match(config.stdout, /\nmop 0 \(off\)\nmop 2 \(full\)\nmop 1 \(hybrid\)\nmop is 1 \(hybrid\): setting 2 leaves hybrid on, as the C library does; set 0 first for full\n$/, 'quirk Q4 is explained');
  t.equal(config.stderr.split('\n').length, 3);
  t.equal(store.getMop(), 1);
  t.equal(cli(['config', 'mop', '3'], { env }).code, 2);
  const header = JSON.parse(cli(['config', '--json'], { env }).stdout) as Record<string, unknown>;
  t.equal(header['slots'], 32);
  t.equal(header['magic'], 0x534c4e54);
});

t.test('list order, patterns and the key prefix; export', async (t) => {
  const file = path.join(tempDir(t), 'p.spl');
  cli(['init', file, '--slots', '64', '--max-value', '64']);
  const store = Store.open(file);
  t.teardown(() => store.close());
  store.set('app:a', '1');
  store.set('app:b', '2');
  store.set('app:b', '22');
  store.set('app:b', '222');
  store.set('other', 'x');
  store.set('app:c', 'three');
  store.set('app:c', 'three!');
  const env = { SPLINTER_STORE: file };
  const all = cli(['list', '--json'], { env });
  t.same(
    (JSON.parse(all.stdout) as Array<{ key: string; epoch: string }>).map((e) => [e.key, e.epoch]),
    [
      ['app:b', '6'],
      ['app:c', '4'],
      ['app:a', '2'],
      ['other', '2'],
    ],
    'highest epoch first, then by name',
  );
  const ns = cli(['list'], { env: { ...env, SPLINTER_NS_PREFIX: 'app:' } });
  t.match(ns.stdout, /^NAME +EPOCH +LEN +TYPE\nb +6 +3 +void\nc +4 +6 +void\na +2 +1 +void\n$/, 'the prefix filters and is stripped');
  t.equal(cli(['--prefix', 'app:', 'get', 'b'], { env }).stdout, '222\n', 'and is prepended to key arguments');
  t.equal(cli(['--prefix', 'app:', 'set', 'd', 'new'], { env }).code, 0);
  t.equal(store.getString('app:d'), 'new');
  const miss = cli(['--prefix', 'app:', 'get', 'other'], { env });
  t.equal(miss.stderr, 'splinter: ENOENT: get "other": no such key (key prefix "app:")\n');
  t.match(cli(['list', 'app:?'], { env }).stdout, /^NAME.*\napp:b .*\napp:c .*\napp:a .*\napp:d .*\n$/, 'a glob');
  t.equal(cli(['list', 'oth'], { env }).stdout.split('\n').length, 3, 'a substring pattern');
  t.equal(cli(['list', '--limit', '1', '--json'], { env }).stdout.match(/"key"/g)?.length, 1);

  store.set('bin', new Uint8Array([0xff, 0, 1]));
  store.set('n', '7');
  store.setNamedType('n', SlotType.BIGUINT);
  store.setLabel('n', 3n);
  store.watchLabelRegister(1n, 4);
  store.set('n', new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0]));
  const exported = JSON.parse(cli(['export'], { env }).stdout) as {
    format: string;
    store: { slots: number; maxValueSize: number };
    labelGroups: Record<string, number>;
    signalGroups: Record<string, string>;
    keys: Array<{ key: string; encoding: string; value: string; type: string; labels: string; number?: string; epoch: string }>;
  };
  t.equal(exported.format, 'splinter-export');
  t.same(exported.store.slots, 64);
  t.same(exported.labelGroups, { 0: 4 });
  t.same(exported.signalGroups, { 4: '1' });
  const byKey = new Map(exported.keys.map((k) => [k.key, k]));
  t.same(new Set(byKey.keys()), new Set(store.keys()), 'every key once');
  for (const key of store.keys() as string[]) {
    const entry = byKey.get(key)!;
    const bytes = entry.encoding === 'utf8' ? Buffer.from(entry.value, 'utf8') : Buffer.from(entry.value, 'base64');
    t.same(new Uint8Array(bytes), store.get(key), `${key}: the value round-trips (${entry.encoding})`);
    t.equal(entry.epoch, store.getEpoch(key).toString());
  }
  t.equal(byKey.get('bin')!.encoding, 'base64');
  t.equal(byKey.get('n')!.number, '8');
  t.equal(byKey.get('n')!.labels, '0x3');
  const nsExport = JSON.parse(cli(['export', '--compact'], { env: { ...env, SPLINTER_NS_PREFIX: 'app:' } }).stdout) as { prefix: string; keys: Array<{ key: string }> };
  t.equal(nsExport.prefix, 'app:');
  t.same(nsExport.keys.map((k) => k.key).sort(), ['a', 'b', 'c', 'd']);
  t.equal(cli(['export', 'csv'], { env }).code, 2);
});

t.test('stats', async (t) => {
  const file = path.join(tempDir(t), 's.spl');
  cli(['init', file, '--slots', '16', '--max-value', '64']);
  const store = Store.open(file);
  t.teardown(() => store.close());
  for (let i = 0; i < 8; i++) store.set(`k${i}`, 'x'.repeat(i + 1));
  store.watchRegister('k1', 3);
  store.set('k1', 'yy');
  const stats = JSON.parse(cli(['--use', file, 'stats', '--json']).stdout) as Record<string, unknown>;
  t.equal(stats['liveKeys'], 8);
  t.equal(stats['loadFactor'], 0.5);
  t.equal(stats['valueBytes'], 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8);
  t.ok((stats['probeLongest'] as number) >= 1);
  t.same(stats['signalGroups'], { 3: '1' });
  t.same(stats['sizes'], [
    { from: 1, to: 1, count: 1 },
    { from: 2, to: 3, count: 2 },
    { from: 4, to: 7, count: 4 },
    { from: 8, to: 15, count: 1 },
  ]);
  const text = cli(['--use', file, 'stats']).stdout;
  t.match(text, /^keys +8 \(load factor 50\.0%\)$/m);
  t.match(text, /^value sizes\n +1 +1 +█+\n +2-3 +2 +█+\n/m);
});
