/**
 * The checkout stands alone: nothing reads or cites a folder beside it, the golden fixtures are the
 * bytes the C library wrote, and every citation of the spec, every docs path and every relative
 * Markdown link resolves inside the repository.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from '../helpers/fixtures.js';

const fixturesDir = 'test/fixtures/c-1.2.0';
const specDir = 'docs/spec';

/** Tracked and new (not ignored) files, as `git` lists them: what a clone holds. */
function repoFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repoRoot, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '' && fs.existsSync(path.join(repoRoot, f)));
}

/** The text of every file that is text (no NUL byte), by repository path. */
function textFiles(): Map<string, string> {
  const texts = new Map<string, string>();
  for (const file of repoFiles()) {
    const bytes = fs.readFileSync(path.join(repoRoot, file));
    if (!bytes.includes(0)) texts.set(file, bytes.toString('utf8'));
  }
  return texts;
}

const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;

t.test('no file refers to a shared folder beside the checkout', async (t) => {
  const outside = /\.\.\/shared\b|\/work\/shared\b|\bshared\/(?:spec|fixtures)\b/g;
  const found: string[] = [];
  for (const [file, text] of textFiles()) {
    for (const m of text.matchAll(outside)) found.push(`${file}:${lineOf(text, m.index)}: ${m[0]}`);
  }
  t.same(found, [], 'references to a folder outside the repository');
});

t.test('the golden fixtures are the bytes listed in c-1.2.0.sha256, no more, no fewer', async (t) => {
  const listed = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(repoRoot, 'test/fixtures/c-1.2.0.sha256'), 'utf8').trim().split('\n')) {
    const [sum, name] = line.split(/\s+/);
    listed.set(name!, sum!);
  }
  t.ok(listed.size >= 19, `the list names the nine images, their ops and the README (${listed.size} files)`);
  const present = fs.readdirSync(path.join(repoRoot, fixturesDir)).sort();
  t.same(present, [...listed.keys()].sort(), 'the folder holds exactly the listed files');
  for (const name of present) {
    const sum = createHash('sha256').update(fs.readFileSync(path.join(repoRoot, fixturesDir, name))).digest('hex');
    t.equal(sum, listed.get(name), `${name} is unchanged`);
  }
});

/** Numbered sections ("## 7. …") and quirks ("* Q3. …", in §9) of a spec file. */
function specAnchors(file: string): { sections: Set<number>; quirks: Set<number> } {
  const text = fs.readFileSync(path.join(repoRoot, file), 'utf8');
  return {
    sections: new Set([...text.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1]))),
    quirks: new Set([...text.matchAll(/^\* Q(\d+)\. /gm)].map((m) => Number(m[1]))),
  };
}

// A citation: a path ending in FORMAT.md or API.md, then what follows it ("§7", "§2–3", "§1, §3", "§9 Q1",
// "section 9: Q1, Q3", "sections 2 and 3"), after an optional link target.
const citation = /(?<![\w./-])((?:[\w.-]+\/)*)(FORMAT|API)\.md\b/g;
const citationTail =
  /^[`\]]*(?:\([^)\s]*\))?((?:\s*(?:§\s*\d+(?:\s*[-–]\s*\d+)?|sections?\s+\d+(?:\s*[-–]\s*\d+)?|,\s*§?\s*\d+|\s+and\s+§?\s*\d+|:?\s*,?\s*Q\d+))*)/;

t.test('every citation of the spec names docs/spec/ and a section that exists there', async (t) => {
  const anchors = new Map(['FORMAT', 'API'].map((name) => [name, specAnchors(`${specDir}/${name}.md`)]));
  t.ok(anchors.get('FORMAT')!.sections.has(9) && anchors.get('FORMAT')!.quirks.has(1), 'the spec has the sections cited most');
  const problems: string[] = [];
  let cited = 0;
  for (const [file, text] of textFiles()) {
    // The spec itself; the fixtures' README, kept as written; this file, which spells out the patterns.
    if (file.startsWith(`${specDir}/`) || file.startsWith(`${fixturesDir}/`) || file === 'test/package/standalone.test.ts') continue;
    const consumed = new Set<number>();
    for (const m of text.matchAll(citation)) {
      const where = `${file}:${lineOf(text, m.index)}`;
      const inLinkTarget = text.slice(Math.max(0, m.index - 2), m.index) === '](';
      const target = path.normalize(inLinkTarget ? path.join(path.dirname(file), m[1]!, `${m[2]}.md`) : `${m[1]}${m[2]}.md`);
      if (target !== `${specDir}/${m[2]}.md`) problems.push(`${where}: "${m[0]}" is not ${specDir}/${m[2]}.md`);
      const afterName = m.index + m[0].length;
      const tail = citationTail.exec(text.slice(afterName))!;
      const tailStart = afterName + tail[0].length - tail[1]!.length;
      for (const sign of tail[1]!.matchAll(/§/g)) consumed.add(tailStart + sign.index);
      const { sections, quirks } = anchors.get(m[2]!)!;
      const numbers = tail[1]!.replace(/Q\d+/g, '').match(/\d+/g) ?? [];
      for (const n of numbers) {
        cited++;
        if (!sections.has(Number(n))) problems.push(`${where}: ${m[2]}.md has no section ${n} ("${m[0]}${tail[1]}")`);
      }
      for (const q of tail[1]!.match(/Q\d+/g) ?? []) {
        cited++;
        if (!quirks.has(Number(q.slice(1)))) problems.push(`${where}: ${m[2]}.md has no quirk ${q}`);
      }
    }
    for (const sign of text.matchAll(/§/g)) {
      if (!consumed.has(sign.index)) problems.push(`${file}:${lineOf(text, sign.index)}: a § that follows no spec file`);
    }
  }
  t.ok(cited >= 60, `the check saw the citations (${cited} section and quirk numbers)`);
  t.same(problems, [], 'citations that do not resolve');
});

t.test('every docs/….md path and every relative Markdown link resolves', async (t) => {
  const problems: string[] = [];
  let links = 0;
  for (const [file, text] of textFiles()) {
    for (const m of text.matchAll(/(?<![\w./-])docs\/[\w/.-]*\.md\b/g)) {
      if (!fs.existsSync(path.join(repoRoot, m[0]))) problems.push(`${file}:${lineOf(text, m.index)}: ${m[0]} does not exist`);
    }
    if (!file.endsWith('.md')) continue;
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.replace(/#.*$/, '');
      if (target === '' || /^[a-z]+:/.test(target)) continue; // an anchor on the same page, or a URL
      links++;
      if (!fs.existsSync(path.join(repoRoot, path.dirname(file), target))) problems.push(`${file}:${lineOf(text, m.index)}: link to ${m[1]} does not resolve`);
    }
  }
  t.ok(links >= 10, `the check saw the links (${links})`);
  t.same(problems, [], 'paths and links that do not resolve');
});
