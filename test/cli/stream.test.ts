/**
 * `splinter stream info|append|read|drop`: streams from a shell (docs/cli.md, "Streams"), on
 * stores that the library and the C peer write too. Gaps and malformed cells are printed, never
 * skipped; a stream is created only by `append --capacity N`.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { SlotType, Store } from '../../src/index.js';
import type { Test } from '../helpers/assert.js';
import { Peer, peerBinary } from '../helpers/peer.js';
import { Session } from '../../src/cli/context.js';
import { complete } from '../../src/cli/repl.js';
import { cli, cliAsync, oneLineError, shell } from './helpers.js';

t.setTimeout(900_000);

const noPeer = fs.existsSync(peerBinary) ? false : `the C peer is not built (${peerBinary}): run npm run peer`;
const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

let stores = 0;

/** A fresh shm store (and its side files) removed at the end of the test, with a library handle on it. */
function freshStore(t: Test, maxValueSize = 64): { name: string; store: Store } {
  const name = `stream-cli-${process.pid}-${stores++}`;
  const store = Store.create(name, { slots: 64, maxValueSize });
  t.teardown(() => {
    store.close();
    try {
      Store.unlink(name);
    } catch {
      // already gone
    }
  });
  return { name, store };
}

/** `splinter --use NAME ARGS…`. */
function run(name: string, args: string[], input?: string | Uint8Array) {
  return cli(['--use', name, ...args], input === undefined ? {} : { input });
}

t.test('append creates a stream only with --capacity: a missing one is ENOENT and nothing is made', async (t) => {
  const { name, store } = freshStore(t);
  const missing = run(name, ['stream', 'append', 'tokens', 'hello']);
  t.equal(missing.code, 1);
  t.ok(oneLineError(missing.stderr), missing.stderr);
  t.match(missing.stderr, /stream append "tokens": no such stream \(append --capacity N creates it\)/);
  t.equal(store.count(), 0, 'no meta, no cells');
  for (const sub of ['info', 'read', 'drop']) {
    const result = run(name, ['stream', sub, 'tokens', '--yes'].slice(0, sub === 'drop' ? 4 : 3));
    t.equal(result.code, 1, `${sub} of a missing stream`);
    t.match(result.stderr, new RegExp(`stream ${sub} "tokens": no such stream`));
  }
  t.equal(store.count(), 0, 'info, read and drop created nothing either');

  const created = run(name, ['stream', 'append', 'tokens', 'hello', '--capacity', '8']);
  t.equal(created.code, 0, created.stderr);
  t.equal(created.stdout, '1\n', 'prints the seq');
  t.equal(store.stream('tokens').capacity, 8);
  t.equal(run(name, ['stream', 'append', 'tokens', 'again']).stdout, '2\n', 'an existing stream needs no --capacity');
  const other = run(name, ['stream', 'append', 'tokens', 'x', '--capacity', '16']);
  t.equal(other.code, 1);
  t.match(other.stderr, /^splinter: EINVAL: .*capacity 8, asked for 16/);
  t.equal(store.stream('tokens').head(), 2n, 'the refused append claimed nothing');
  const json = run(name, ['--json', 'stream', 'append', 'tokens', 'three']);
  t.same(JSON.parse(json.stdout), { stream: 'tokens', seq: '3' });
});

t.test('append: text (UTF-8), JSON that parses, or bytes; from the argument, --file or stdin, bounded', async (t) => {
  const { name, store } = freshStore(t);
  t.equal(run(name, ['stream', 'append', 's', 'plain', '--capacity', '16']).code, 0);
  t.equal(run(name, ['stream', 'append', 's', '{"a": [1, 2]}', '--type', 'json']).code, 0);
  t.equal(run(name, ['stream', 'append', 's', '-', '--type', 'bytes'], new Uint8Array([0, 0xff, 0x80])).code, 0);
  t.equal(run(name, ['stream', 'append', 's'], 'from stdin\n').code, 0);
  const s = store.stream('s');
  t.same(s.read(1), { kind: 'message', seq: 1n, type: 'text', value: 'plain' });
  t.same(s.read(2), { kind: 'message', seq: 2n, type: 'json', value: { a: [1, 2] } });
  t.same(s.read(3), { kind: 'message', seq: 3n, type: 'bytes', value: new Uint8Array([0, 0xff, 0x80]) });
  t.same(s.read(4), { kind: 'message', seq: 4n, type: 'text', value: 'from stdin\n' }, 'stdin unchanged, as set keeps it');

  const badJson = run(name, ['--json', 'stream', 'append', 's', '{nope', '--type', 'json']);
  t.equal(badJson.code, 1);
  t.equal(JSON.parse(badJson.stderr).error.code, 'EINVAL');
  t.match(JSON.parse(badJson.stderr).error.message, /does not parse as JSON/);
  const notText = run(name, ['stream', 'append', 's', '-'], new Uint8Array([0x61, 0xff]));
  t.equal(notText.code, 1);
  t.match(notText.stderr, /not UTF-8 text \(2 bytes\); append it with --type bytes/);
  const tooLong = run(name, ['stream', 'append', 's', '-'], 'x'.repeat(10_000));
  t.equal(tooLong.code, 1);
  t.match(tooLong.stderr, /EMSGSIZE: .*stdin holds more than 64 bytes/);
  const empty = run(name, ['stream', 'append', 's', '']);
  t.equal(empty.code, 1);
  t.match(empty.stderr, /EMSGSIZE/);
  const badType = run(name, ['stream', 'append', 's', 'x', '--type', 'vartext']);
  t.equal(badType.code, 2);
  t.match(badType.stderr, /--type is text, json or bytes/);
  t.equal(s.head(), 4n, 'nothing refused was appended');
});

t.test('read prints SEQ<TAB>value: text escaped as keys are, JSON compact, bytes as hex; --json one object per line', async (t) => {
  const { name, store } = freshStore(t);
  const s = store.stream('log', { capacity: 8 });
  s.append('two\nlines, a \\ and a\ttab');
  s.appendJSON({ level: 'warn', n: 1 });
  s.append(new Uint8Array([0, 1, 0xfe]));
  s.append('#not a comment');
  const text = run(name, ['stream', 'read', 'log']);
  t.equal(text.code, 0, text.stderr);
  t.equal(text.stderr, '');
  t.equal(text.stdout, '1\ttwo\\x0alines, a \\\\ and a\\x09tab\n2\t{"level":"warn","n":1}\n3\t0x0001fe\n4\t#not a comment\n');

  const json = run(name, ['--json', 'stream', 'read', 'log', '--from', '2', '--count', '2']);
  t.equal(json.code, 0, json.stderr);
  t.same(
    json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown),
    [
      { kind: 'message', seq: '2', type: 'json', value: { level: 'warn', n: 1 } },
      { kind: 'message', seq: '3', type: 'bytes', encoding: 'base64', value: 'AAH+' },
    ],
  );
  t.equal(run(name, ['stream', 'read', 'log', '--from', 'latest']).stdout, '', 'without --follow, latest is past the end');
  t.equal(run(name, ['stream', 'read', 'log', '--from', '4']).stdout, '4\t#not a comment\n');
  t.equal(run(name, ['stream', 'read', 'log', '--from', '9']).stdout, '', 'a seq past the head: nothing yet');
  t.equal(run(name, ['stream', 'read', 'log', '--count', '1']).stdout, '1\ttwo\\x0alines, a \\\\ and a\\x09tab\n');
});

t.test('read: gaps (overwritten, abandoned) and malformed cells are lines of their own, and said on stderr', async (t) => {
  const { name, store } = freshStore(t);
  const s = store.stream('g', { capacity: 4 });
  for (let i = 1; i <= 7; i++) s.append(`m${i}`);
  // What an abandoned seq is in the convention: its cell at ctime 5, type VOID; and a type no producer writes.
  store.setNamedType('g#1', SlotType.VOID);
  store.setNamedType('g#2', SlotType.BIGINT);
  const result = run(name, ['stream', 'read', 'g', '--from', '1']);
  t.equal(result.code, 0, result.stderr);
  t.equal(
    result.stdout,
    '# gap 1..3 overwritten\n4\tm4\n# gap 5..5 abandoned\n# malformed 6 (slot type 2): slot type 2 is not a message type (BINARY 16, VARTEXT 128, JSON 8); bytes 0x6d36\n7\tm7\n',
  );
  t.equal(
    result.stderr,
    'splinter: stream "g": seqs 1..3 were overwritten before this read reached them (the stream keeps 4)\n' +
      'splinter: stream "g": seq 5 was abandoned: claimed by a producer that never wrote them\n' +
      'splinter: stream "g": seq 6 is malformed: slot type 2 is not a message type (BINARY 16, VARTEXT 128, JSON 8)\n',
  );
  const json = run(name, ['--json', 'stream', 'read', 'g', '--from', '1', '--count', '2']);
  t.same(
    json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown),
    [
      { kind: 'gap', from: '1', to: '3', reason: 'overwritten' },
      { kind: 'message', seq: '4', type: 'text', value: 'm4' },
      { kind: 'gap', from: '5', to: '5', reason: 'abandoned' },
      { kind: 'malformed', seq: '6', slotType: 2, reason: 'slot type 2 is not a message type (BINARY 16, VARTEXT 128, JSON 8)', encoding: 'base64', value: 'bTY=' },
    ],
    'gaps do not count toward --count; a malformed cell does',
  );
});

t.test('read --follow prints what is appended later, until SIGTERM or SIGINT (exit 0)', async (t) => {
  const { name, store } = freshStore(t);
  const s = store.stream('live', { capacity: 16 });
  s.append('before');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const follower = cliAsync(['--use', name, 'stream', 'read', 'live', '--follow'], { timeout: 60_000 });
    for (let i = 0; i < 300 && !follower.stdoutSoFar().includes('before'); i++) await sleep(50);
    await sleep(200); // caught up and waiting
    const seq = s.append(`after ${signal}`);
    for (let i = 0; i < 300 && !follower.stdoutSoFar().includes(`after ${signal}`); i++) await sleep(50);
    follower.kill(signal);
    const result = await follower;
    t.equal(result.code, 0, `${signal} ends a follow: exit 0 (${result.stderr})`);
    t.equal(result.stderr, '');
    t.match(result.stdout, new RegExp(`^1\\tbefore\\n(.*\\n)*${seq}\\tafter ${signal}\\n$`));
  }
  const counted = cliAsync(['--use', name, 'stream', 'read', 'live', '--from', 'latest', '--follow', '--count', '1'], { timeout: 60_000 });
  await sleep(1000);
  for (let i = 0; i < 300 && counted.stdoutSoFar() === ''; i++) {
    s.append('next');
    await sleep(100);
  }
  const result = await counted;
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^\d+\tnext\n$/, '--count 1 with --follow: the first message to come, then exit');
});

t.test('read --consumer ID --ack acknowledges what it printed; the next read starts after it', async (t) => {
  const { name, store } = freshStore(t);
  const s = store.stream('jobs', { capacity: 16 });
  for (let i = 1; i <= 5; i++) s.appendJSON({ job: i });
  const first = run(name, ['stream', 'read', 'jobs', '--consumer', 'billing', '--ack', '--count', '2']);
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stdout, '1\t{"job":1}\n2\t{"job":2}\n');
  t.equal(s.consumer('billing').acknowledged(), 2n, 'acknowledged what it printed');
  const peek = run(name, ['stream', 'read', 'jobs', '--consumer', 'billing', '--count', '1']);
  t.equal(peek.stdout, '3\t{"job":3}\n');
  t.equal(s.consumer('billing').acknowledged(), 2n, 'without --ack nothing moves');
  const rest = run(name, ['stream', 'read', 'jobs', '--consumer', 'billing', '--ack']);
  t.equal(rest.stdout, '3\t{"job":3}\n4\t{"job":4}\n5\t{"job":5}\n');
  t.equal(s.consumer('billing').acknowledged(), 5n);
  t.equal(run(name, ['stream', 'read', 'jobs', '--consumer', 'billing']).stdout, '', 'nothing left for it');

  const ackAlone = run(name, ['stream', 'read', 'jobs', '--ack']);
  t.equal(ackAlone.code, 2);
  t.match(ackAlone.stderr, /--ack needs --consumer ID/);
  const both = run(name, ['stream', 'read', 'jobs', '--consumer', 'billing', '--from', '1']);
  t.equal(both.code, 2);
  t.match(both.stderr, /--from or --consumer/);
});

t.test('info: capacity, head, oldest and the durable consumers, text and --json', async (t) => {
  const { name, store } = freshStore(t);
  const s = store.stream('events', { capacity: 4 });
  for (let i = 1; i <= 6; i++) s.append(`e${i}`);
  s.consumer('billing').ack(5);
  s.consumer('audit log').ack(1);
  store.set('events#c.broken', 'not a seq'); // what a careless writer might leave: reported, not a crash
  const text = run(name, ['stream', 'info', 'events']);
  t.equal(text.code, 0, text.stderr);
  t.equal(
    text.stdout,
    [
      'stream    events',
      'capacity  4 messages',
      'head      6 (the last seq claimed)',
      'oldest    3 (the first seq kept)',
      "consumer  'audit log': acknowledged 1 (5 behind the head)",
      'consumer  billing: acknowledged 5 (1 behind the head)',
      'consumer  broken: not an acknowledged seq (void, 9 bytes)',
      '',
    ].join('\n'),
  );
  const json = run(name, ['--json', 'stream', 'info', 'events']);
  t.same(JSON.parse(json.stdout), {
    stream: 'events',
    capacity: 4,
    head: '6',
    oldest: '3',
    consumers: [
      { id: 'audit log', acknowledged: '1' },
      { id: 'billing', acknowledged: '5' },
      { id: 'broken', error: 'not an acknowledged seq (void, 9 bytes)' },
    ],
  });
  const fresh = store.stream('empty', { capacity: 2 });
  t.equal(fresh.head(), 0n);
  t.match(run(name, ['stream', 'info', 'empty']).stdout, /head +0 \(nothing appended yet\)\n.*\nconsumers +none\n$/);
});

t.test('drop asks (refused without a terminal unless --yes), then removes the meta, the cells and the consumers', async (t) => {
  const { name, store } = freshStore(t);
  const s = store.stream('old', { capacity: 4 });
  s.append('x');
  s.consumer('c1').ack(1);
  store.set('keep', 'me');
  const refused = run(name, ['stream', 'drop', 'old']);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /stream drop asks before removing a stream, and stdin is not a terminal: pass --yes/);
  t.ok(store.has('old#s'), 'nothing removed');
  const dropped = run(name, ['stream', 'drop', 'old', '--yes']);
  t.equal(dropped.code, 0, dropped.stderr);
  t.equal(dropped.stdout, 'dropped stream old: its meta, 4 cells and 1 consumer\n');
  t.same(store.keys(), ['keep'], 'only the other key is left');
  t.equal(run(name, ['stream', 'info', 'old']).code, 1, 'gone');
});

t.test('usage errors: subcommands, names, options of another subcommand (exit 2)', async (t) => {
  const { name, store } = freshStore(t);
  store.stream('s', { capacity: 2 });
  const cases: Array<[string[], RegExp]> = [
    [['stream', 'list', 's'], /stream takes info, append, read, drop first, received "list"/],
    [['stream', 'info'], /stream needs NAME/],
    [['stream', 'info', 'a#b'], /a stream name is 1\.\.40 UTF-8 bytes without NUL or "#"/],
    [['stream', 'info', 'x'.repeat(41)], /1\.\.40 UTF-8 bytes/],
    [['stream', 'info', 's', '--follow'], /--follow is not an option of stream info/],
    [['stream', 'append', 's', 'x', '--from', '1'], /--from is not an option of stream append/],
    [['stream', 'read', 's', 'extra'], /stream read takes NAME only; unexpected "extra"/],
    [['stream', 'read', 's', '--from', '0'], /--from takes a seq 1\.\./],
    [['stream', 'read', 's', '--from', 'soon'], /--from \(earliest, latest or a seq\)/],
  ];
  for (const [args, message] of cases) {
    const result = run(name, args);
    t.equal(result.code, 2, args.join(' '));
    t.ok(oneLineError(result.stderr), result.stderr);
    t.match(result.stderr, message);
  }
  t.equal(store.count(), 3, 'nothing was created: the meta and 2 cells of s only');
});

t.test('a prefix names the stream inside its namespace; the interactive mode runs stream commands', async (t) => {
  const { name, store } = freshStore(t);
  t.equal(run(name, ['--prefix', 'app:', 'stream', 'append', 'log', 'hi', '--capacity', '2']).code, 0);
  t.ok(store.has('app:log#s'), 'the stream is app:log');
  t.same(JSON.parse(run(name, ['--prefix', 'app:', '--json', 'stream', 'info', 'log']).stdout).stream, 'log', 'shown without the prefix');
  const session = shell(['stream append log "second one"', 'stream read log'], { env: { SPLINTER_STORE: name, SPLINTER_NS_PREFIX: 'app:' } });
  t.equal(session.code, 0, session.stderr);
  t.equal(session.stdout, '2\n1\thi\n2\tsecond one\n');
});

t.test('help stream, and completion of subcommands and stream names in the interactive mode', async (t) => {
  const help = cli(['help', 'stream']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: splinter stream info\|append\|read\|drop NAME \[VALUE\|-\]/);
  t.match(cli(['help']).stdout, /^Streams:\n  stream /m);
  const { name, store } = freshStore(t);
  store.stream('tokens', { capacity: 4 });
  store.stream('tasks', { capacity: 4 });
  store.set('tally', '1');
  const session = new Session({}, true);
  session.current = name;
  t.teardown(() => session.closeAll());
  t.same(complete('stream r', session, {})[0], ['read ']);
  t.same(complete('stream read t', session, {})[0], ['tasks', 'tokens'], 'the streams, not their keys nor other keys');
});

t.test('C and the CLI on one stream: the C peer appends, the CLI reads; the CLI appends, C reads', { skip: noPeer }, async (t) => {
  const { name, store } = freshStore(t);
  store.stream('bus', { capacity: 8 });
  const peer = Peer.open(name);
  await peer.ready;
  t.teardown(() => peer.close());
  t.equal((await peer.send({ op: 'stream_append', name: 'bus', value_hex: hex('from C'), type: 128 })).rc, 0);
  t.equal((await peer.send({ op: 'stream_append', name: 'bus', value_hex: hex('{"c":true}'), type: 8 })).rc, 0);
  t.equal((await peer.send({ op: 'stream_append', name: 'bus', value_hex: '00ff' })).rc, 0);
  const read = run(name, ['stream', 'read', 'bus']);
  t.equal(read.code, 0, read.stderr);
  t.equal(read.stdout, '1\tfrom C\n2\t{"c":true}\n3\t0x00ff\n');
  t.equal(run(name, ['stream', 'append', 'bus', '{"from":"cli"}', '--type', 'json']).stdout, '4\n');
  t.same(await peer.send({ op: 'stream_read', name: 'bus', seq: 4 }), { rc: 0, state: 'message', value_hex: hex('{"from":"cli"}'), type: 8 });
});
