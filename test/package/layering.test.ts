/**
 * The source tree is layered: a file imports only from its own room (a folder or a top-level file
 * of src/) or from rooms of a lower layer; never from a layer above, never from a sibling room of
 * its own layer. Some rooms reach some lower ones only through one door file (DOORS). Static
 * imports, `export … from` and dynamic `import()` all count.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { repoRoot } from '../helpers/fixtures.js';

/** Bottom to top. A room is a folder of src/ (trailing slash) or a file at its top. */
const LAYERS: readonly (readonly string[])[] = [
  ['layout/', 'errors.ts', 'abort.ts'], // the format's offsets and constants; the error and abort types
  ['store/'], // store core, in the folders of STORE_FOLDERS
  ['bus/', 'shard/'], // waiting and waking; Logic Shards
  ['stream/'], // streams and key history: store data with the bus on top
  ['facade/'], // the Store class
  ['bridge/', 'serve/', 'keep/'], // the Redis bridge, the HTTP gateway and the keeper, over the facade
  ['cli/'], // the splinter command
  ['index.ts'], // the package's exports
];

/**
 * The store core's folders, by concept; each has a README.md saying what it holds, and every file
 * of store/ is in one of them. They are one room: they import each other freely.
 */
const STORE_FOLDERS: readonly string[] = [
  'backing/', // where the bytes live: backings, target names, reserving space, the mapping routes (mapping/), StoreMemory
  'sync/', // the seqlock, the readers' check, the bounded retry
  'keys/', // keys as bytes, the key codec, probing, the reach, listing and counting
  'values/', // set, append, reads and copies, unset and purge, BIGUINT, value regions, snapshots and raw views
  'slot/', // slot features: times, signal groups, labels, the dirty mask, embeddings, deadlines
  'format/', // the header and slots read and written whole: init, validation, the decoders
  'handle/', // one handle's working state, the options check, the write-to-wake seam
  'search/', // the embedding search
];

/** A room that may reach `rooms` only through the file `door` (a file of a room between them). */
const DOORS: readonly { from: string; door: string; rooms: readonly string[] }[] = [
  // The CLI's raw reads and repairs go through one module, where they can all be seen at once.
  { from: 'cli/', door: 'facade/inspect.ts', rooms: ['store/', 'bus/', 'shard/', 'stream/'] },
];

const srcDir = path.join(repoRoot, 'src');

function roomOf(file: string): { room: string; layer: number } | undefined {
  const slash = file.indexOf('/');
  const room = slash < 0 ? file : file.slice(0, slash + 1);
  const layer = LAYERS.findIndex((rooms) => rooms.includes(room));
  return layer < 0 ? undefined : { room, layer };
}

/** Every breach in `sources` (paths relative to src/, forward slashes), one line each: file, import, rule. */
function layeringViolations(sources: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of sources) {
    const from = roomOf(file);
    if (from === undefined) {
      found.push(`${file}: not in a room of the layer table`);
      continue;
    }
    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!specifier.startsWith('.')) continue; // node: built-ins and packages
      // Specifiers name the emitted .js; the rooms are named by their sources.
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
      const to = target.startsWith('../') ? undefined : roomOf(target);
      if (to === undefined) found.push(`${file} imports '${specifier}': outside the rooms of src/`);
      else if (to.room === from.room) continue;
      else if (to.layer > from.layer) found.push(`${file} imports '${specifier}': ${from.room} (layer ${from.layer}) may not import ${to.room} (layer ${to.layer}, above)`);
      else if (to.layer === from.layer) found.push(`${file} imports '${specifier}': ${from.room} and ${to.room} are siblings (layer ${from.layer})`);
      else {
        const door = DOORS.find((d) => d.from === from.room && d.rooms.includes(to.room));
        if (door !== undefined) found.push(`${file} imports '${specifier}': ${from.room} reaches ${to.room} only through ${door.door}`);
      }
    }
  }
  return found;
}

function sourceTree(dir: string, into = new Map<string, string>()): Map<string, string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceTree(full, into);
    else if (entry.name.endsWith('.ts')) into.set(path.relative(srcDir, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8'));
  }
  return into;
}

t.test('no file of src/ imports a layer above its own or a sibling room', async (t) => {
  const sources = sourceTree(srcDir);
  t.ok(sources.size > 50, `the scan reads the source tree (${sources.size} files)`);
  t.same(layeringViolations(sources), [], 'imports that break the layering');
  const files = [...sources.keys()];
  t.same(LAYERS.flat().filter((room) => !files.some((file) => file === room || file.startsWith(room))), [], 'rooms of the table that src/ does not have');
  t.same(DOORS.map((d) => d.door).filter((door) => !sources.has(door)), [], 'doors that src/ does not have');
});

t.test('every file of store/ is in one of its folders, and each folder says what it holds', async (t) => {
  const files = [...sourceTree(srcDir).keys()].filter((file) => file.startsWith('store/'));
  t.ok(files.length > 40, `the scan reads the store core (${files.length} files)`);
  t.same(files.filter((file) => !STORE_FOLDERS.some((folder) => file.startsWith(`store/${folder}`))), [], 'files of store/ outside its folders');
  const unexplained = STORE_FOLDERS.filter((folder) => !fs.existsSync(path.join(srcDir, 'store', folder, 'README.md')));
  t.same(unexplained, [], 'folders of store/ without a README.md');
});

t.test('the check names each kind of breach', async (t) => {
  const sources = new Map([
    ['store/values/kv.ts', "import { pulseSlot } from '../../bus/pulse.js';"],
    ['shard/madvise.ts', "export { abortableDelay } from '../bus/abort.js';"],
    ['layout/geometry.ts', "const m = await import('../store/backing/memory.js');\nimport { HEADER } from './constants.js';"],
    ['bus/watch.ts', "import type { KvContext } from '../store/handle/context.js';\nimport { SplinterError } from '../errors.js';"],
    ['cli/main.ts', "import { x } from '../../test/helpers/fixtures.js';"],
    ['cli/scan.ts', "import { decodeSlot } from '../store/format/slot-decoder.js';\nimport { wordsOf } from '../facade/inspect.js';"],
    ['cli/commands/stream.ts', "import type { Stream } from '../../stream/stream.js';\nimport { serve } from '../../serve/index.js';"],
    ['misc/stray.ts', ''],
  ]);
  t.same(layeringViolations(sources), [
    "store/values/kv.ts imports '../../bus/pulse.js': store/ (layer 1) may not import bus/ (layer 2, above)",
    "shard/madvise.ts imports '../bus/abort.js': shard/ and bus/ are siblings (layer 2)",
    "layout/geometry.ts imports '../store/backing/memory.js': layout/ (layer 0) may not import store/ (layer 1, above)",
    "cli/main.ts imports '../../test/helpers/fixtures.js': outside the rooms of src/",
    "cli/scan.ts imports '../store/format/slot-decoder.js': cli/ reaches store/ only through facade/inspect.ts",
    "cli/commands/stream.ts imports '../../stream/stream.js': cli/ reaches stream/ only through facade/inspect.ts",
    'misc/stray.ts: not in a room of the layer table',
  ]);
});
