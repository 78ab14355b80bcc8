/**
 * What each command accepts: its positional arguments, its options, and its help text.
 * Pure data, shared by the parser, `help`, completion in the interactive mode and docs/cli.md.
 */

/** What a positional argument completes to in the interactive mode. */
export type Completion = 'key' | 'command' | 'type' | 'math-op' | 'orders-mode' | 'mop' | 'shard-view' | 'stream-mode' | 'stream' | 'none';

export interface ArgSpec {
  name: string;
  optional?: boolean;
  /** Takes every remaining positional. */
  variadic?: boolean;
  complete?: Completion;
}

export interface OptionSpec {
  /** The long name without dashes; also the key in `Invocation.options`. */
  name: string;
  short?: string;
  /** Other long names accepted for it (without dashes). */
  aliases?: string[];
  /** 'flag' takes no value; 'int' an integer of at least `min`; 'string' any value. */
  kind: 'flag' | 'int' | 'string';
  /** For 'int': the least value taken (default 0); below it, or not an integer at all, one message says so. */
  min?: number;
  valueName?: string;
  description: string;
}

export type CommandGroup = 'store' | 'read' | 'write' | 'bus' | 'stream' | 'health' | 'shell';

/** `Name` narrows `name` for the table of literal specs below; elsewhere a spec's name is any string. */
export interface CommandSpec<Name extends string = string> {
  name: Name;
  aliases?: readonly string[];
  group: CommandGroup;
  summary: string;
  args: readonly ArgSpec[];
  options: readonly OptionSpec[];
  /** Extra lines for `help COMMAND`. */
  details?: readonly string[];
  /** Example invocations (without the leading `splinter`). */
  examples: readonly string[];
  /** Only meaningful inside the interactive mode. */
  interactiveOnly?: boolean;
}

/** Options every command accepts, before or after the command name. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: 'use',
    short: 'u',
    kind: 'string',
    valueName: 'NAME|PATH',
    description: 'the store: a /dev/shm name, or a file path (with a /); default $SPLINTER_STORE',
  },
  {
    name: 'prefix',
    kind: 'string',
    valueName: 'PREFIX',
    description: 'key namespace: prepended to every key argument, stripped from listed names; default $SPLINTER_NS_PREFIX',
  },
  { name: 'json', kind: 'flag', description: 'machine-readable output (JSON; one object per line for watch); errors as one JSON line on stderr' },
  {
    name: 'trust-shared',
    kind: 'flag',
    description: 'open a store another user owns, or that its group or others may write (refused otherwise: EPERM)',
  },
  { name: 'help', short: 'h', kind: 'flag', description: 'show help (for the command, when one is given)' },
  { name: 'version', short: 'V', kind: 'flag', description: 'print the version' },
];

const fileOption: OptionSpec = {
  name: 'file',
  short: 'f',
  kind: 'string',
  valueName: 'PATH',
  description: 'read the value from a file (its bytes, unchanged)',
};

/** Every command, as literal data, so that its names form the `CommandName` type. */
const COMMAND_SPECS = [
  // ── Session & store ─────────────────────────────────────────────────────────
  {
    name: 'init',
    group: 'store',
    summary: 'create a store (exclusive: an existing one is never touched)',
    args: [{ name: 'NAME|PATH', optional: true, complete: 'none' }],
    options: [
      { name: 'slots', short: 's', kind: 'int', min: 1, valueName: 'N', description: 'number of slots, fixed for the life of the store (default 1024)' },
      {
        name: 'max-value',
        short: 'l',
        aliases: ['length', 'maxlen'],
        kind: 'int',
        min: 1,
        valueName: 'N',
        description: 'largest value in bytes, fixed for the life of the store (default 4096)',
      },
      { name: 'embeddings', short: 'e', kind: 'flag', description: 'the embeddings layout: 768 float32 per slot, as a C build with embeddings' },
    ],
    details: ['Without NAME|PATH the store of --use / $SPLINTER_STORE is created.'],
    examples: ['init demo', 'init /var/lib/agents/bus.spl --slots 4096 --max-value 8192'],
  },
  {
    name: 'drop',
    group: 'store',
    summary: 'remove a store and its side files (the doorbell table and FIFOs in /dev/shm), after asking',
    args: [{ name: 'NAME|PATH', complete: 'none' }],
    options: [{ name: 'yes', short: 'y', kind: 'flag', description: 'drop without asking (needed when stdin is not a terminal)' }],
    details: [
      'The store is always named: drop never takes it from --use or $SPLINTER_STORE. It removes only a file',
      'that starts with the format\'s magic, and only side files of ours (never through a link, never another',
      'user\'s). Processes that have the store open keep using their mapping of the removed store.',
      'Removing /dev/shm/NAME by hand leaves the side files behind. (rm and del delete a key: see unset.)',
    ],
    examples: ['drop demo', 'drop /var/lib/agents/bus.spl --yes'],
  },
  {
    name: 'use',
    group: 'store',
    summary: 'select the store for the following commands (interactive), or check that one opens',
    args: [{ name: 'NAME|PATH', complete: 'none' }],
    options: [],
    details: ['In a one-shot call it only checks that the store opens: select a store with --use or $SPLINTER_STORE.'],
    examples: ['use demo'],
  },
  {
    name: 'config',
    group: 'store',
    summary: 'show the store header, or set the mop (scrub) mode',
    args: [
      { name: 'mop', optional: true, complete: 'mop' },
      { name: 'MODE', optional: true, complete: 'mop' },
    ],
    options: [],
    details: ['MODE is 0 (off), 1 (hybrid: scrub the lines a value uses) or 2 (full: scrub the whole value region).'],
    examples: ['config', 'config mop 2'],
  },
  {
    name: 'caps',
    group: 'store',
    summary: 'print version and capabilities, one key=value per line',
    args: [],
    options: [],
    examples: ['caps'],
  },
  // ── Reading ────────────────────────────────────────────────────────────────
  {
    name: 'get',
    group: 'read',
    summary: "print a key's value, by its type: BIGUINT as a number, JSON pretty, binary as hex, text as text",
    args: [{ name: 'KEY', complete: 'key' }],
    options: [{ name: 'raw', short: 'r', kind: 'flag', description: 'write the value bytes to stdout unchanged (no newline)' }],
    examples: ['get foo', 'get --raw blob > blob.bin', 'get --json counter'],
  },
  {
    name: 'head',
    group: 'read',
    summary: "show a key's slot metadata (not its value)",
    args: [{ name: 'KEY', complete: 'key' }],
    options: [],
    examples: ['head foo'],
  },
  {
    name: 'list',
    aliases: ['ls'],
    group: 'read',
    summary: "list keys with epoch, length and type, highest epoch first (a key's epoch counts its own writes: the most written come first, not the latest written)",
    args: [{ name: 'PATTERN', optional: true, complete: 'none' }],
    options: [{ name: 'limit', short: 'n', kind: 'int', valueName: 'N', description: 'show at most N keys' }],
    details: ['PATTERN is a glob (* and ?); without * or ? it matches keys that contain it.'],
    examples: ['list', 'list "user:*"', 'list --limit 10'],
  },
  {
    name: 'search',
    group: 'read',
    summary: 'rank keys by how near their embeddings are to a query: text (through an embedding process), a key, or a vector',
    args: [{ name: 'QUERY', optional: true, complete: 'none' }],
    options: [
      { name: 'limit', short: 'n', kind: 'int', valueName: 'N', description: 'show at most N results (0, the default: all)' },
      { name: 'similarity', kind: 'string', valueName: 'F', description: 'keep results with a cosine similarity of at least F (0 or less: no filter)' },
      { name: 'distance', kind: 'string', valueName: 'F', description: 'keep results within Euclidean distance F (0 or less: no filter)' },
      { name: 'bloom', kind: 'string', valueName: 'MASK', description: 'hex label mask: only keys carrying every bit (enumerate_matches); 0: none' },
      { name: 'regex', kind: 'string', valueName: 'PATTERN', description: 'only keys matching PATTERN (a JavaScript regular expression)' },
      { name: 'file', short: 'f', kind: 'string', valueName: 'PATH', description: 'read the query text from PATH (- for stdin)' },
      { name: 'like', kind: 'string', valueName: 'KEY', description: "use KEY's embedding as the query (no embedding process)" },
      { name: 'vector', kind: 'string', valueName: 'FILE', description: 'the query vector: a JSON array of 768 numbers or 3072 bytes of float32 (- for stdin)' },
      { name: 'wait', kind: 'int', valueName: 'MS', description: 'how long to wait for the embedding process (default 2000, as C)' },
    ],
    details: [
      'Text (QUERY, - for stdin, or --file) goes to the scratch key __sqtmp_PID as C writes it: vartext, label 0x1, bumped;',
      'an embedding process (splinference) fills its vector. With none answering, only --regex or --bloom lists keys, unscored.',
      'Ranking: cosine similarity descending, then distance ascending, as C computes them in float32 (docs/search.md).',
    ],
    examples: ['search "quarterly revenue" --limit 5', 'search --like memory:42 --limit 3 --json', 'search --vector query.json --bloom 0x4 --regex "^notes/"'],
  },
  {
    name: 'export',
    group: 'read',
    summary: 'the whole store as JSON: header, every key with its value (lossless) and metadata',
    args: [{ name: 'FORMAT', optional: true, complete: 'none' }],
    options: [{ name: 'compact', kind: 'flag', description: 'one line of JSON instead of indented' }],
    details: [
      'FORMAT is json (the only one). A value is "utf8" text when its bytes are valid UTF-8, otherwise "base64".',
      'With a prefix, only the keys in that namespace are exported, with the prefix stripped.',
    ],
    examples: ['export > dump.json', 'export --compact | jq .keys[0]'],
  },
  {
    name: 'type',
    group: 'read',
    summary: "show a key's named type, or set it (void, bigint, biguint, json, binary, img, audio, vartext)",
    args: [
      { name: 'KEY', complete: 'key' },
      { name: 'TYPE', optional: true, complete: 'type' },
    ],
    options: [],
    details: ['Naming a value shorter than 8 bytes biguint converts it to a u64 (text such as "42" or "0x10" is parsed).'],
    examples: ['type counter', 'type counter biguint'],
  },
  // ── Writing ────────────────────────────────────────────────────────────────
  {
    name: 'set',
    group: 'write',
    summary: 'set a key to a value: from the argument, --file, or stdin',
    args: [
      { name: 'KEY', complete: 'key' },
      { name: 'VALUE', optional: true, complete: 'none' },
    ],
    options: [fileOption, { name: 'type', short: 't', kind: 'string', valueName: 'TYPE', description: 'then set its named type' }],
    details: ['Without VALUE and --file, or with VALUE "-", the value is read from stdin.'],
    examples: ['set foo "hello, world"', 'set config --file config.json --type json', 'echo -n 42 | splinter set counter - --type biguint'],
  },
  {
    name: 'append',
    group: 'write',
    summary: "append to an existing key's value",
    args: [
      { name: 'KEY', complete: 'key' },
      { name: 'VALUE', optional: true, complete: 'none' },
    ],
    options: [fileOption],
    examples: ['append log " more text"'],
  },
  {
    name: 'unset',
    aliases: ['rm', 'del'],
    group: 'write',
    summary: 'delete a key (with -r, also its tandem orders KEY.1, KEY.2, …); drop removes a whole store',
    args: [{ name: 'KEY', complete: 'key' }],
    options: [{ name: 'recursive', short: 'r', kind: 'flag', description: 'also delete KEY.1, KEY.2, … up to the first missing order' }],
    examples: ['unset foo', 'unset -r car'],
  },
  {
    name: 'math',
    group: 'write',
    summary: 'inc, dec, and, or, xor or not on a biguint key (wrapping at 2^64)',
    args: [
      { name: 'KEY', complete: 'key' },
      { name: 'OP', complete: 'math-op' },
      { name: 'VALUE', optional: true, complete: 'none' },
    ],
    options: [],
    details: ['VALUE is decimal, 0x hex, 0o octal or 0b binary; inc and dec default to 1; not takes none.'],
    examples: ['math counter inc', 'math counter dec 5', 'math flags or 0x4'],
  },
  {
    name: 'label',
    group: 'write',
    summary: "add label bits to a key's 64-bit label mask",
    args: [
      { name: 'KEY', complete: 'key' },
      { name: 'MASK', complete: 'none' },
    ],
    options: [],
    details: ['MASK is a non-zero number (0x1, 0b101, 8); "bit:N" names the single bit N (0..63).'],
    examples: ['label job:7 0x1', 'label job:7 bit:3'],
  },
  {
    name: 'unlabel',
    group: 'write',
    summary: "remove label bits from a key's label mask",
    args: [
      { name: 'KEY', complete: 'key' },
      { name: 'MASK', complete: 'none' },
    ],
    options: [],
    examples: ['unlabel job:7 0x1'],
  },
  {
    name: 'bind',
    group: 'bus',
    summary: 'make writes to keys carrying the label bits of MASK pulse signal group GROUP (0..63, or "none")',
    args: [
      { name: 'MASK', complete: 'none' },
      { name: 'GROUP', complete: 'none' },
    ],
    options: [{ name: 'bloom', short: 'b', kind: 'flag', description: 'label-to-group binding (the only kind; accepted for splinterctl users)' }],
    examples: ['bind 0x1 5', 'bind bit:3 none'],
  },
  {
    name: 'bump',
    group: 'bus',
    summary: "advance a key's epoch and pulse its groups, without changing its value",
    args: [{ name: 'KEY', complete: 'key' }],
    options: [],
    examples: ['bump job:7'],
  },
  {
    name: 'retrain',
    group: 'write',
    summary: "move a key's epoch on to the next even value and zero its embedding; also frees a slot a dead writer left locked",
    args: [{ name: 'KEY', complete: 'key' }],
    options: [],
    examples: ['retrain doc:42'],
  },
  {
    name: 'orders',
    group: 'write',
    summary: 'tandem keys: show KEY, KEY.1, KEY.2, …; set them from values; or unset COUNT of them',
    args: [
      { name: 'show|set|unset', complete: 'orders-mode' },
      { name: 'KEY', optional: true, complete: 'key' },
      { name: 'VALUE|COUNT', optional: true, variadic: true, complete: 'none' },
    ],
    options: [],
    details: ['orders show KEY; orders set KEY VALUE0 VALUE1 …; orders unset KEY COUNT (KEY is order 0).'],
    examples: ['orders set car red fast', 'orders show car', 'orders unset car 2'],
  },
  {
    name: 'import',
    group: 'write',
    summary: 'load an export document (a file, or stdin) into the store: values, types, labels, watchers, times, embeddings',
    args: [{ name: 'FILE|-', optional: true, complete: 'none' }],
    options: [
      { name: 'replace', kind: 'flag', description: 'also delete the keys (of the namespace) that the document does not have' },
      { name: 'dry-run', kind: 'flag', description: 'check the document and say what would change, without writing' },
    ],
    details: [
      'Without FILE, or with FILE "-", the document is read from stdin. The whole document is checked before',
      'the first write: a bad one changes nothing. Keys in the document overwrite the same keys in the store;',
      'other keys stay unless --replace is given. With a prefix, the keys go into that namespace.',
      'Epochs, slots, user flags, signal counts and the store header do not carry over.',
    ],
    examples: ['import dump.json', 'export --use old | splinter import --use new', 'import dump.json --replace --dry-run'],
  },
  {
    name: 'watch',
    group: 'bus',
    summary: 'print changes to keys (or pulses of a signal group) as they happen, until Ctrl-C',
    args: [{ name: 'KEY', optional: true, variadic: true, complete: 'key' }],
    options: [
      { name: 'group', short: 'g', kind: 'int', valueName: 'G', description: 'watch signal group G (0..63) instead of keys' },
      { name: 'oneshot', kind: 'flag', description: 'exit after the first change' },
      { name: 'timeout', kind: 'int', valueName: 'MS', description: 'stop after MS milliseconds; exit 1 if nothing changed' },
    ],
    examples: ['watch status', 'watch a b c --json', 'watch --group 3 --oneshot'],
  },
  {
    name: 'bridge',
    group: 'bus',
    summary: 'mirror the store (the keys under --prefix, or all) with other hosts through Redis, until Ctrl-C',
    args: [],
    options: [
      { name: 'redis', kind: 'string', valueName: 'URL', description: 'the Redis server: redis://[user:password@]host[:port][/db] or rediss://…' },
      { name: 'host-id', kind: 'string', valueName: 'ID', description: "this bridge's name, the tie-breaker of concurrent writes (default: host name, pid, random)" },
      { name: 'stream-max', kind: 'int', valueName: 'N', description: 'about how many changes the Redis stream keeps (default 10000)' },
    ],
    details: ['Runs in the foreground; SIGINT or SIGTERM sends what is pending and exits 0. See docs/bridge.md.'],
    examples: ['bridge --use agents --redis redis://127.0.0.1:6379', 'bridge --use agents --prefix job: --redis redis://127.0.0.1:6379/1'],
  },
  {
    name: 'serve',
    group: 'bus',
    summary: 'serve the store over HTTP: the /v1 API, its OpenAPI document, live events and a web inspector at /, until Ctrl-C',
    args: [],
    options: [
      { name: 'port', kind: 'int', valueName: 'N', description: 'the port to listen on (default 8080; 0 picks a free one)' },
      { name: 'host', kind: 'string', valueName: 'ADDR', description: 'the address to bind (default 127.0.0.1); any other than loopback needs --token-file' },
      { name: 'token-file', kind: 'string', valueName: 'PATH', description: "a file holding the token every request must bear (Authorization: Bearer); the owner's alone (chmod 600)" },
      { name: 'read-only', kind: 'flag', description: 'refuse every write (403)' },
    ],
    details: ['Runs in the foreground and prints the URL; SIGINT or SIGTERM stops it (exit 0). See docs/serve.md.'],
    examples: ['serve --use agents', 'serve --use agents --port 0 --read-only', 'serve --use agents --host 0.0.0.0 --token-file ~/.config/splinter/token'],
  },
  {
    name: 'keep',
    group: 'bus',
    summary: 'keep the store: remove keys past their deadline (so C readers see them gone), keep a file copy, until Ctrl-C',
    args: [],
    options: [
      { name: 'persist', kind: 'string', valueName: 'FILE', description: 'keep FILE a copy of the store (the same format); restore the store from it at start if the store is missing' },
      { name: 'interval', kind: 'int', valueName: 'MS', description: 'with --persist: the longest the file lags the store (default 100)' },
      { name: 'sync', kind: 'int', valueName: 'MS', description: "with --persist: write the file to disk every MS (default: the kernel's writeback, and at exit)" },
    ],
    details: [
      'Runs in the foreground, one line per event (keys expired, a restore, errors); SIGINT or SIGTERM makes a last',
      'copy into the --persist file and stops it (exit 0). One keeper per store: a second one is refused, naming the',
      "first one's pid. See docs/keep.md.",
    ],
    examples: ['keep --use agents', 'keep --use agents --persist /var/lib/splinter/agents.spl --interval 250'],
  },
  {
    name: 'restore',
    group: 'store',
    summary: 'make the store (missing) again from a file kept by keep --persist',
    args: [],
    options: [{ name: 'from', kind: 'string', valueName: 'FILE', description: 'the persisted copy to restore from' }],
    details: [
      'The store must not exist. Slots the file holds mid-copy (a keeper killed while copying them) are dropped;',
      'every other slot comes back as it was copied. Deadlines are not persisted. See docs/keep.md.',
    ],
    examples: ['restore --use agents --from /var/lib/splinter/agents.spl'],
  },
  {
    name: 'shard',
    group: 'bus',
    summary: 'show the Logic Shard bid table and the elected sovereign',
    args: [{ name: 'table|who', optional: true, complete: 'shard-view' }],
    options: [{ name: 'all', short: 'a', kind: 'flag', description: 'also show the free bid records' }],
    examples: ['shard', 'shard who'],
  },
  // ── Streams ────────────────────────────────────────────────────────────────
  {
    name: 'stream',
    group: 'stream',
    summary: 'streams (docs/streams.md): info, append a message, read messages (or follow them), drop',
    args: [
      { name: 'info|append|read|drop', complete: 'stream-mode' },
      { name: 'NAME', complete: 'stream' },
      { name: 'VALUE|-', optional: true, complete: 'none' },
    ],
    options: [
      { name: 'type', short: 't', kind: 'string', valueName: 'text|json|bytes', description: 'append: what the message is (default text; json must parse)' },
      { ...fileOption, description: 'append: the message from a file (its bytes, unchanged)' },
      { name: 'capacity', kind: 'int', valueName: 'N', description: 'append: create the stream, keeping N messages, if it does not exist' },
      { name: 'from', kind: 'string', valueName: 'earliest|latest|SEQ', description: 'read: where to start (default earliest: the oldest message kept)' },
      { name: 'count', short: 'n', kind: 'int', valueName: 'N', description: 'read: stop after N messages' },
      { name: 'follow', kind: 'flag', description: 'read: wait for more messages, until Ctrl-C or SIGTERM (exit 0)' },
      { name: 'consumer', kind: 'string', valueName: 'ID', description: "read: start after durable consumer ID's acknowledged seq" },
      { name: 'ack', kind: 'flag', description: 'read: with --consumer, acknowledge each line once it is printed (at least once)' },
      { name: 'yes', short: 'y', kind: 'flag', description: 'drop: drop without asking (needed when stdin is not a terminal)' },
    ],
    details: [
      'info: capacity, head (the last seq claimed), oldest (the first kept), durable consumers and their acknowledged seqs.',
      'append: the message is VALUE, --file, or stdin (without VALUE, or with "-"); prints its seq. A missing stream',
      'is ENOENT unless --capacity N is given, which creates it.',
      'read: one line per message, "SEQ<TAB>value": text with the escapes of keys (\\\\, \\xHH), JSON compact, bytes as 0x hex;',
      'seqs it cannot have as "# gap FROM..TO overwritten|abandoned", a cell no producer writes as "# malformed SEQ …",',
      'each also said on stderr. Without --follow it stops at the head as it was when it started. --json: one object per line.',
      'drop: removes the stream (meta, cells, consumers), after asking.',
    ],
    examples: ['stream append tokens hello --capacity 256', 'stream read tokens --follow', 'stream read events --consumer billing --ack --json', 'stream info tokens'],
  },
  // ── Health ─────────────────────────────────────────────────────────────────
  {
    name: 'doctor',
    group: 'health',
    summary: 'check a store for damage: stuck (odd) epochs, duplicate keys, hash/key mismatches, values outside the arena, a header that lies',
    args: [{ name: 'NAME|PATH', optional: true, complete: 'none' }],
    options: [
      { name: 'wait', short: 'w', kind: 'int', valueName: 'MS', description: 'how long a slot must stay odd, unchanged, to count as stuck: the interval between the two samples (default 100)' },
      { name: 'repair', kind: 'flag', description: 'clear stuck slots, dropping the keys whose value a dead writer left partial, and remove stale duplicate copies' },
      { name: 'verbose', short: 'v', kind: 'flag', description: 'also print notes that are not damage' },
    ],
    details: [
      'Reads the file directly and never writes unless --repair is given. Exits 1 when it finds damage',
      '(after --repair: when damage remains).',
    ],
    examples: ['doctor', 'doctor /var/lib/agents/bus.spl --wait 500', 'doctor --repair'],
  },
  {
    name: 'stats',
    group: 'health',
    summary: 'load factor, probe chains, value-size histogram, types, signal counts',
    args: [],
    options: [],
    examples: ['stats', 'stats --json'],
  },
  // ── Shell ──────────────────────────────────────────────────────────────────
  {
    name: 'help',
    group: 'shell',
    summary: 'list the commands, or show one command',
    args: [{ name: 'COMMAND', optional: true, complete: 'command' }],
    options: [],
    examples: ['help', 'help watch'],
  },
  {
    name: 'shell',
    aliases: ['repl'],
    group: 'shell',
    summary: 'the interactive mode (also what `splinter` alone opens on a terminal); reads commands from stdin otherwise',
    args: [],
    options: [],
    examples: ['shell', 'splinter --use demo shell < commands.txt'],
  },
  {
    name: 'uuid',
    group: 'shell',
    summary: 'print a random UUID (v4)',
    args: [],
    options: [],
    examples: ['uuid'],
  },
  {
    name: 'hist',
    aliases: ['history'],
    group: 'shell',
    summary: 'show the command history, filtered by PATTERN',
    args: [{ name: 'PATTERN', optional: true, complete: 'none' }],
    options: [],
    examples: ['hist set'],
    interactiveOnly: true,
  },
  {
    name: 'clear',
    aliases: ['cls'],
    group: 'shell',
    summary: 'clear the screen',
    args: [],
    options: [],
    examples: ['clear'],
    interactiveOnly: true,
  },
  {
    name: 'exit',
    aliases: ['quit'],
    group: 'shell',
    summary: 'leave the interactive mode (Ctrl-D too)',
    args: [],
    options: [],
    examples: ['exit'],
    interactiveOnly: true,
  },
] as const satisfies readonly CommandSpec[];

/** The name of every command (aliases aside): the keys the handler table must cover. */
export type CommandName = (typeof COMMAND_SPECS)[number]['name'];

export const COMMANDS: readonly CommandSpec<CommandName>[] = COMMAND_SPECS;

const byName = new Map<string, CommandSpec<CommandName>>();
for (const spec of COMMANDS) {
  byName.set(spec.name, spec);
  for (const alias of spec.aliases ?? []) byName.set(alias, spec);
}

/** The command called `name` or one of its aliases. */
export function findCommand(name: string): CommandSpec<CommandName> | undefined {
  return byName.get(name);
}

/** Every name and alias, for completion and hints. */
export function commandNames(interactive: boolean): string[] {
  return COMMANDS.filter((c) => interactive || !c.interactiveOnly).flatMap((c) => [c.name, ...(c.aliases ?? [])]);
}

export const GROUP_TITLES: Record<CommandGroup, string> = {
  store: 'Store',
  read: 'Reading',
  write: 'Writing',
  bus: 'Signals and shards',
  stream: 'Streams',
  health: 'Health',
  shell: 'Shell',
};

/** `COMMAND ARGS [options]` as shown in usage lines. */
export function usageLine(spec: CommandSpec): string {
  const args = spec.args.map((a) => {
    const name = a.variadic ? `${a.name}…` : a.name;
    return a.optional ? `[${name}]` : name;
  });
  const options = spec.options.map((o) => {
    const flag = o.short !== undefined ? `-${o.short}|--${o.name}` : `--${o.name}`;
    return `[${flag}${o.kind === 'flag' ? '' : ` ${o.valueName ?? 'VALUE'}`}]`;
  });
  return ['splinter', spec.name, ...args, ...options].join(' ');
}
