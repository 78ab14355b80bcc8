/**
 * Every TypeScript and JavaScript sample in README.md and docs/*.md runs as written, against the
 * built package (the README's set-up: `npm ci` builds dist/, which 'splinter-ts' resolves to),
 * and prints what the doc says it prints.
 *
 * The rules for a fenced block, by its info string:
 * - `ts` or `js`: a whole program. A `ts` one compiles under strict settings against the published
 *   types (dist/*.d.ts), as a user's project would compile it; each runs through tsx in a fresh project that depends on the
 *   package (test/helpers/checkout.ts); it must exit 0, leave no store behind, and when the doc
 *   follows it with a paragraph "prints" and a fenced block, print exactly that block.
 * - `ts fragment`: TypeScript shown for its shape only (a signature, a line out of context); not run.
 *   The info string keeps `ts` first so that it is still highlighted.
 * - Any other info string naming TypeScript or JavaScript (`typescript`, `tsx`, `mjs`, …) fails:
 *   a sample either runs or says it is a fragment.
 * Samples that wait for changes bring their own writer and stop themselves.
 *
 * Run elsewhere: docs/bridge.md's sample needs a Redis server; test/bridge/docs.test.ts starts one and runs it.
 * Not scanned: docs/spec/, the specification copied unchanged from libsplinter and cited by
 * section. Its `ts` blocks are the contract's signature listings (`set(key, value): void`), not
 * programs, and the copy is not ours to edit.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runTypeScriptAsConsumer, typecheckAsConsumer } from './helpers/checkout.js';
import { distStaleness } from './helpers/dist.js';
import { repoRoot } from './helpers/fixtures.js';

t.setTimeout(600_000); // every sample is a process of its own, and the compile: minutes on a loaded machine

const RUN = new Set(['ts', 'js']);
const FRAGMENT = 'ts fragment';
const NAMES_CODE = /^(ts|js|typescript|javascript|tsx|jsx|mjs|cjs|mts|cts|node)\b/i;
const EXCLUDED = { dir: path.join('docs', 'spec'), reason: 'the copied specification: signature listings of the contract, not programs, and not ours to edit' };
const SAMPLE_TIMEOUT_MS = 30_000;
/** Samples that need a server run in their own suite, which starts one; here each is checked to be claimed there. */
const RUN_ELSEWHERE: Record<string, string> = { [path.join('docs', 'bridge.md')]: path.join('test', 'bridge', 'docs.test.ts') };

interface Block {
  file: string;
  line: number;
  info: string;
  code: string;
  /** The output the doc shows after it ("prints" and a fenced block), if any. */
  prints?: string;
}

/** Fenced blocks of a markdown file, indented ones (inside list items) included, with their indent removed. */
function fencedBlocks(file: string): Block[] {
  const lines = fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
  const found: Array<Block & { end: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    let end = i + 1;
    while (end < lines.length && lines[end]!.trim() !== fence) end++;
    const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    found.push({ file, line: i + 1, info: info.trim(), code: `${body.join('\n')}\n`, end });
    i = end;
  }
  // "prints" between a block and the next one makes the next one its expected output.
  for (let b = 0; b + 1 < found.length; b++) {
    const between = lines.slice(found[b]!.end + 1, found[b + 1]!.line - 1).join('\n').trim();
    if (between === 'prints') found[b]!.prints = found[b + 1]!.code;
  }
  return found.map(({ end: _end, ...block }) => block);
}

function docFiles(): string[] {
  const docs = fs.readdirSync(path.join(repoRoot, 'docs')).filter((name) => name.endsWith('.md'));
  return ['README.md', ...docs.map((name) => path.join('docs', name))];
}

/** The store names a sample opens or removes by a literal, made unique to this run. */
function storeNames(code: string): string[] {
  return [...new Set([...code.matchAll(/Store\.(?:create|open|createOrOpen|openOrCreate|unlink)\('([^'/]+)'/g)].map((m) => m[1]!))];
}

const blocks = docFiles().flatMap(fencedBlocks);
const samples = blocks.filter((b) => RUN.has(b.info) && RUN_ELSEWHERE[b.file] === undefined);

t.test('every block naming TypeScript or JavaScript either runs or is marked a fragment', async (t) => {
  for (const block of blocks) {
    if (!NAMES_CODE.test(block.info)) continue;
    t.ok(RUN.has(block.info) || block.info === FRAGMENT, `${block.file}:${block.line}: info string "${block.info}" is ts, js or "${FRAGMENT}"`);
  }
  t.ok(fs.existsSync(path.join(repoRoot, EXCLUDED.dir)), `${EXCLUDED.dir} exists and is left out: ${EXCLUDED.reason}`);
  for (const [doc, suite] of Object.entries(RUN_ELSEWHERE)) {
    t.match(fs.readFileSync(path.join(repoRoot, suite), 'utf8'), doc.split(path.sep).at(-1)!, `${doc}'s samples need a Redis: ${suite} runs them against one of its own`);
  }
  const fragments = blocks.filter((b) => b.info === FRAGMENT).length;
  t.comment(`${samples.length} samples run, ${fragments} fragments, ${EXCLUDED.dir} excluded`);
  t.ok(samples.length >= 12, `the samples are found (${samples.length})`);
});

t.test('the samples run as written and print what the docs show', async (t) => {
  const stale = distStaleness();
  t.equal(stale, undefined, 'dist/ is built from the current sources (npm ci and npm test build it)');
  if (stale !== undefined) return;
  for (const sample of samples) {
    t.test(`${sample.file}:${sample.line}`, async (t) => {
      t.match(sample.code, /^import .* from 'splinter-ts';$/m, 'it imports the package by name');
      const names = storeNames(sample.code);
      let code = sample.code;
      const unique = names.map((name) => `${name}-${process.pid}`);
      names.forEach((name, i) => (code = code.replaceAll(`'${name}'`, `'${unique[i]}'`)));
      t.teardown(() => unique.forEach((name) => fs.rmSync(`/dev/shm/${name}`, { force: true })));
      const run = runTypeScriptAsConsumer(code, SAMPLE_TIMEOUT_MS);
      t.equal(run.status, 0, `exits 0${run.stderr ? `; stderr:\n${run.stderr}` : ''}`);
      if (sample.prints !== undefined) t.equal(run.stdout, sample.prints, 'prints what the doc shows');
      for (const name of unique) t.equal(fs.existsSync(`/dev/shm/${name}`), false, `removes its store ${name}`);
    });
  }
});

t.test('the TypeScript samples compile, strict, against the published types', async (t) => {
  const stale = distStaleness();
  t.equal(stale, undefined, 'dist/ is built from the current sources');
  if (stale !== undefined) return;
  const modules = Object.fromEntries(
    samples.filter((s) => s.info === 'ts').map((s) => [`${s.file.replace(/[/.]/g, '-')}-${s.line}.mts`, s.code]),
  );
  t.equal(typecheckAsConsumer(modules), '', `tsc reports nothing for the ${Object.keys(modules).length} samples`);
});
