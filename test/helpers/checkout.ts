/**
 * Running documentation samples as their readers would: plain `node` in the checkout (where
 * 'splinter-ts' resolves to the package itself, dist/), or TypeScript through tsx in a fresh
 * project that depends on the package.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

/** The environment of a user's shell: no loader of tap's in NODE_OPTIONS. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

/** Runs ES module code as a file saved in the checkout would run: plain node, bare imports resolved from repoRoot. */
export function runInCheckout(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module'], { input: code, cwd: repoRoot, env: userEnv(), encoding: 'utf8' });
}

export interface SampleRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Typechecks TypeScript modules as a strict project that depends on splinter-ts would (types from
 * dist/*.d.ts, Node's from @types/node); returns tsc's diagnostics, empty when they compile.
 */
export function typecheckAsConsumer(modules: Record<string, string>): string {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-typecheck-'));
  try {
    fs.mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
    fs.symlinkSync(repoRoot, path.join(project, 'node_modules', 'splinter-ts'), 'dir');
    fs.symlinkSync(path.join(repoRoot, 'node_modules', '@types', 'node'), path.join(project, 'node_modules', '@types', 'node'), 'dir');
    const compilerOptions = { target: 'ES2022', lib: ['ES2024'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, noEmit: true };
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.mts'] }));
    for (const [name, code] of Object.entries(modules)) fs.writeFileSync(path.join(project, name), code);
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, env: userEnv(), encoding: 'utf8' });
    return `${run.stdout}${run.stderr}`.trim();
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}

/**
 * Runs TypeScript as `npx tsx sample.mts` would in a project that depends on splinter-ts
 * (node_modules/splinter-ts is a link to this checkout); the project is removed afterwards.
 */
export function runTypeScriptAsConsumer(code: string, timeoutMs: number): SampleRun {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'splinter-sample-'));
  try {
    fs.mkdirSync(path.join(project, 'node_modules'));
    fs.symlinkSync(repoRoot, path.join(project, 'node_modules', 'splinter-ts'), 'dir');
    fs.writeFileSync(path.join(project, 'sample.mts'), code);
    const tsx = import.meta.resolve('tsx');
    const run = spawnSync(process.execPath, ['--import', tsx, 'sample.mts'], { cwd: project, env: userEnv(), encoding: 'utf8', timeout: timeoutMs });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr + (run.error ? String(run.error) : '') };
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}
