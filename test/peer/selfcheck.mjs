#!/usr/bin/env node
// Proves the C peer against the golden stores written by libsplinter 1.2.0:
// for every fixture, create a fresh store with its geometry, replay its ops
// as-is through the peer, check each rc (and new_len), close stdin, and compare
// the resulting file with the .spl image byte for byte.
//
//   node test/peer/selfcheck.mjs [FIXTURE_DIR]
//
// Exits non-zero when any fixture differs. Plain Node ESM, no dependencies.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = process.argv[2] ?? join(here, '..', 'fixtures', 'c-1.2.0');
const peer = join(here, 'build', 'splinter-peer');

const built = spawnSync(process.execPath, [join(here, 'build.mjs')], { stdio: 'inherit' });
if (built.status !== 0) process.exit(1);

/** Runs one peer process; send(line) resolves with the parsed answer line. */
function startPeer(args) {
  const child = spawn(peer, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout });
  const waiting = [];
  rl.on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return {
    next,
    send(line) {
      const answer = next();
      child.stdin.write(`${line}\n`);
      return answer;
    },
    async close() {
      child.stdin.end();
      return exited;
    },
  };
}

function describeDiff(a, b) {
  const diffs = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n && diffs.length < 20; i++) {
    if (a[i] !== b[i]) diffs.push(`@${i}: got ${a[i]?.toString(16) ?? '-'} want ${b[i]?.toString(16) ?? '-'}`);
  }
  return diffs.join(', ');
}

async function check(name, dir) {
  const image = readFileSync(join(fixtures, `${name}.spl`));
  const spec = JSON.parse(readFileSync(join(fixtures, `${name}.spl.ops.json`), 'utf8'));
  const path = join(dir, `${name}.spl`);
  const embeddings = name.startsWith('embed-');
  const args = ['create', path, String(spec.slots), String(spec.max_val_sz)];
  if (embeddings) args.push('--embeddings');
  const p = startPeer(args);
  const ready = await p.next();
  if (!ready.ready) return [`peer did not start: ${JSON.stringify(ready)}`];
  const problems = [];
  for (const [i, op] of spec.ops.entries()) {
    const answer = await p.send(JSON.stringify(op));
    if ('rc' in op && answer.rc !== op.rc) {
      problems.push(`op ${i} ${op.op} ${op.key ?? ''}: rc ${answer.rc} (${answer.errno ?? ''}), fixture ${op.rc}`);
    }
    if ('new_len' in op && answer.new_len !== op.new_len) {
      problems.push(`op ${i} ${op.op}: new_len ${answer.new_len}, fixture ${op.new_len}`);
    }
  }
  const code = await p.close();
  if (code !== 0) problems.push(`peer exited with ${code}`);
  const got = readFileSync(path);
  if (!got.equals(image)) problems.push(`file differs (${got.length} vs ${image.length} bytes): ${describeDiff(got, image)}`);
  return problems;
}

const names = readdirSync(fixtures)
  .filter((f) => f.endsWith('.spl'))
  .map((f) => f.slice(0, -4))
  .sort();
const dir = mkdtempSync(join(tmpdir(), 'splinter-peer-selfcheck-'));
let failed = 0;
try {
  for (const name of names) {
    const problems = await check(name, dir);
    if (problems.length === 0) console.log(`ok    ${name}: replayed, rc match, file identical`);
    else {
      failed++;
      console.log(`FAIL  ${name}`);
      for (const p of problems) console.log(`        ${p}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${names.length - failed}/${names.length} fixtures identical`);
process.exit(failed ? 1 : 0);
