/** bin/splinter.cjs runs dist/ and nothing else: never the sources through a tsx it finds, and says what to do when dist/ is missing. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot, tempDir } from '../helpers/fixtures.js';

/** A package root with the real launcher, the repository's node_modules (tsx included) and the files given. */
function packageRoot(t: Parameters<typeof tempDir>[0], files: Record<string, string>): string {
  const root = tempDir(t);
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  fs.mkdirSync(path.join(root, 'bin'));
  fs.copyFileSync(path.join(repoRoot, 'bin', 'splinter.cjs'), path.join(root, 'bin', 'splinter.cjs'));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

function launch(root: string, extraEnv: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  // The command's code cache (Node 20) in the temporary package, removed with it.
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: path.join(root, 'cache'), ...extraEnv };
  delete env['NODE_OPTIONS'];
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'splinter.cjs'), '--version'], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const says = (what: string): string => `export function runCli() { console.log(${JSON.stringify(what)}); }\n`;
const saysCommonJs = (what: string): string => `exports.runCli = () => { console.log(${JSON.stringify(what)}); };\n`;
const bundle = (root: string): string => path.join(root, 'dist', 'bundle', 'splinter.cjs');

t.test('dist/ runs even where the sources are newer and tsx is installed', async (t) => {
  const root = packageRoot(t, { 'dist/bundle/splinter.cjs': saysCommonJs('from dist'), 'src/cli/main.ts': says('from src') });
  const old = new Date(Date.now() - 3_600_000);
  fs.utimesSync(bundle(root), old, old);
  t.ok(fs.existsSync(path.join(root, 'node_modules', 'tsx')), 'tsx is at hand');
  t.same(launch(root), { code: 0, stdout: 'from dist\n', stderr: '' }, 'dist/ ran');
  // No environment variable makes it load the sources.
  t.same(launch(root, { SPLINTER_CLI_FROM: 'src' }), { code: 0, stdout: 'from dist\n', stderr: '' }, 'dist/ ran with SPLINTER_CLI_FROM=src');
});

t.test('a checkout without dist/ is told to build', async (t) => {
  const root = packageRoot(t, { 'src/cli/main.ts': says('from src') });
  const r = launch(root);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, `splinter: ${bundle(root)} is missing: run \`npm run build\` in ${root}\n`);
});

t.test('an installed package without dist/ is told to reinstall', async (t) => {
  const root = packageRoot(t, {});
  const r = launch(root);
  t.equal(r.code, 1);
  t.equal(r.stderr, `splinter: ${bundle(root)} is missing: reinstall splinter-ts\n`);
});

t.test('bin/splinter.mjs, the launcher\'s former name, still runs the command (a link npx made to it keeps working)', async (t) => {
  const root = packageRoot(t, { 'dist/bundle/splinter.cjs': saysCommonJs('from dist') });
  fs.copyFileSync(path.join(repoRoot, 'bin', 'splinter.mjs'), path.join(root, 'bin', 'splinter.mjs'));
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: path.join(root, 'cache') };
  delete env['NODE_OPTIONS'];
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'splinter.mjs'), '--version'], { env, encoding: 'utf8', timeout: 60_000 });
  t.same({ code: r.status, stdout: r.stdout, stderr: r.stderr }, { code: 0, stdout: 'from dist\n', stderr: '' });
  t.ok((fs.statSync(path.join(repoRoot, 'bin', 'splinter.mjs')).mode & 0o111) !== 0, 'it is executable, as a link to it needs');
});
