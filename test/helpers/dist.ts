/** Whether the checkout's dist/ (what `npm ci` and `npm test` build, and what the package ships) is current. */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Why dist/ cannot stand for src/ (missing, or older than a source file); undefined when it can. */
export function distStaleness(): string | undefined {
  const srcDir = path.join(repoRoot, 'src');
  for (const source of sourceFiles(srcDir)) {
    const built = path.join(repoRoot, 'dist', path.relative(srcDir, source)).replace(/\.ts$/, '.js');
    if (!fs.existsSync(built)) return `${path.relative(repoRoot, built)} is missing: run npm run build`;
    if (fs.statSync(built).mtimeMs < fs.statSync(source).mtimeMs) return `${path.relative(repoRoot, built)} is older than its source: run npm run build`;
    // The command's bundle (scripts/bundle-cli.mjs) is made from dist/ after it.
    const bundle = path.join(repoRoot, 'dist', 'bundle', 'splinter.cjs');
    if (!fs.existsSync(bundle)) return 'dist/bundle/splinter.cjs is missing: run npm run build';
    if (fs.statSync(bundle).mtimeMs < fs.statSync(source).mtimeMs) return `dist/bundle/splinter.cjs is older than ${path.relative(repoRoot, source)}: run npm run build`;
  }
  return undefined;
}
