/**
 * What README and docs say about the package, checked against the package: the packed size,
 * the error codes, and the Store's public members (each documented; each documented call real).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { repoRoot } from '../helpers/fixtures.js';

const read = (file: string): string => fs.readFileSync(path.join(repoRoot, file), 'utf8');
const readme = read('README.md');
const docs = fs
  .readdirSync(path.join(repoRoot, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => read(path.join('docs', f)))
  .join('\n');

/** The members of the union type `SplinterErrorCode` in src/errors.ts. */
function errorCodes(): string[] {
  const file = ts.createSourceFile('errors.ts', read('src/errors.ts'), ts.ScriptTarget.Latest, true);
  const codes: string[] = [];
  file.forEachChild((node) => {
    if (ts.isTypeAliasDeclaration(node) && node.name.text === 'SplinterErrorCode' && ts.isUnionTypeNode(node.type)) {
      for (const member of node.type.types) {
        if (ts.isLiteralTypeNode(member) && ts.isStringLiteral(member.literal)) codes.push(member.literal.text);
      }
    }
  });
  return codes.sort();
}

/** The public (not private, not @internal: the build strips those) members of a class in a built .d.ts. */
function publicMembers(dts: string, className: string): string[] {
  const file = ts.createSourceFile(dts, read(dts), ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  file.forEachChild((node) => {
    if (!ts.isClassDeclaration(node) || node.name?.text !== className) return;
    for (const member of node.members) {
      const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
      if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
      if (member.name !== undefined && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))) names.add(member.name.text);
    }
  });
  return [...names].sort();
}

t.test('README states the packed size within a quarter of what npm pack makes', (t) => {
  const claim = /about (\d+) kB packed/.exec(readme);
  t.ok(claim, 'README says "about N kB packed"');
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  t.equal(pack.status, 0, pack.stderr);
  const size = (JSON.parse(pack.stdout) as Array<{ size: number }>)[0]!.size;
  const said = Number(claim![1]) * 1000;
  t.ok(Math.abs(said - size) <= size / 4, `README says about ${claim![1]} kB; npm pack makes ${(size / 1000).toFixed(0)} kB`);
  t.end();
});

t.test('the error codes README and docs/api.md list are exactly SplinterErrorCode', (t) => {
  const codes = errorCodes();
  t.ok(codes.length >= 10, `SplinterErrorCode has ${codes.length} members`);
  const readmeRow = readme.split('\n').find((line) => line.startsWith('| Errors |'));
  t.ok(readmeRow, 'README has an "Errors" row');
  const inReadme = [...new Set([...readmeRow!.matchAll(/`(E[A-Z]+)`/g)].map((m) => m[1]!))].sort();
  t.same(inReadme, codes, 'README lists every code, and no other');
  const apiErrors = read('docs/api.md').split('## Errors')[1]!.split('\n## ')[0]!;
  const inApi = [...new Set([...apiErrors.matchAll(/^\| `(E[A-Z]+)` \|/gm)].map((m) => m[1]!))].sort();
  t.same(inApi, codes, 'docs/api.md "Errors" has a row for every code, and no other');
  t.end();
});

t.test('every public member of Store is documented, and every documented store.X( call exists', (t) => {
  const members = publicMembers('dist/facade/store.d.ts', 'Store');
  t.ok(members.length > 30, `Store has ${members.length} public members`);
  for (const name of members) t.match(docs, new RegExp(`\\b${name}\\b`), `docs/ mention Store's ${name}`);
  const called = new Set([...`${readme}\n${docs}`.matchAll(/\b(?:store|Store)\.([a-zA-Z]\w*)\(/g)].map((m) => m[1]!));
  const known = new Set(members);
  for (const name of called) t.ok(known.has(name), `store.${name}( in the docs is a member of Store`);
  t.end();
});
