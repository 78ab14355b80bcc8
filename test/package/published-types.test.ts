/**
 * The published types (dist/*.d.ts, what editors complete from) carry no internals: every member
 * the sources mark `@internal` is left out of the build (tsconfig.build.json, stripInternal).
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { distStaleness } from '../helpers/dist.js';
import { repoRoot } from '../helpers/fixtures.js';

function files(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name), suffix) : e.name.endsWith(suffix) ? [path.join(dir, e.name)] : []));
}

/** `file: member` for each member a source marks `@internal` (the name the comment is on, or the next line's). */
function internalMembers(): Array<{ source: string; name: string }> {
  const found: Array<{ source: string; name: string }> = [];
  for (const source of files(path.join(repoRoot, 'src'), '.ts')) {
    const lines = fs.readFileSync(source, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.includes('@internal')) return;
      const declaration = line.includes('*/') && !/\*\/\s*$/.test(line) ? line.slice(line.indexOf('*/') + 2) : lines.slice(i + 1).find((l) => !/^\s*\*/.test(l)) ?? '';
      const name = /^\s*(?:(?:readonly|static|private|protected|public|get|async)\s+)*([A-Za-z_$][\w$]*)\s*[(:=<?!]/.exec(declaration)?.[1];
      found.push({ source: path.relative(repoRoot, source), name: name ?? `(unparsed: ${declaration.trim()})` });
    });
  }
  return found;
}

t.test('no member marked @internal is in the built .d.ts files', async (t) => {
  const stale = distStaleness();
  t.equal(stale, undefined, 'dist/ is built from the current sources');
  if (stale !== undefined) return;
  const members = internalMembers();
  t.ok(members.some((m) => m.source === path.join('src', 'facade', 'store.ts') && m.name === 'live'), 'the scan finds the internals of Store (live(), …)');
  for (const { source, name } of members) {
    t.notMatch(name, /^\(unparsed/, `${source}: the @internal comment is on a member`);
    const declarationFile = path.join(repoRoot, 'dist', path.relative(path.join(repoRoot, 'src'), source)).replace(/\.ts$/, '.d.ts');
    const declared = fs.readFileSync(declarationFile, 'utf8');
    t.notMatch(declared, new RegExp(`^\\s*(?:(?:readonly|static|get)\\s+)*${name.replace(/\$/g, '\\$')}\\s*[(:<?]`, 'm'), `${source}: ${name} is not in ${path.relative(repoRoot, declarationFile)}`);
  }
  for (const file of files(path.join(repoRoot, 'dist'), '.d.ts')) {
    t.notMatch(fs.readFileSync(file, 'utf8'), /@internal/, `${path.relative(repoRoot, file)} mentions no @internal`);
  }
});

t.test('the published Store signatures name SlotType and return what the docs say', async (t) => {
  const declared = fs.readFileSync(path.join(repoRoot, 'dist', 'facade', 'store.d.ts'), 'utf8');
  t.match(declared, /setNamedType\(key: Key, type: SlotType\): void;/, 'setNamedType takes a SlotType first');
  t.match(declared, /integerOp\(key: Key, op: IntOp, operand\?: bigint\): bigint;/, 'integerOp returns the new value');
});
