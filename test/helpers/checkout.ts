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
