#!/usr/bin/env node
// The `splinter` command as one CommonJS file, dist/bundle/splinter.cjs, built from dist/cli/main.js
// after tsc (`npm run build` runs it; `node scripts/bundle-cli.mjs DIST` bundles another dist/).
// Why: a one-shot command loading ~100 ES modules spent most of its start in the module loader. In
// one file, a module reached only through `import()` (serve, keep, the bridge, each command) is
// evaluated only when it is imported, and a node: module it requires loads with it.
// The bundle sits one folder below dist/, as every module it holds did, so that the paths those
// modules take from import.meta.url (the web inspector's files, package.json, the search worker,
// the native mapping packages) lead where they led from there.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(process.argv[2] ?? path.join(root, 'dist'));

await build({
  entryPoints: [path.join(dist, 'cli', 'main.js')],
  outfile: path.join(dist, 'bundle', 'splinter.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Packages (koffi, mmap-io, ioredis, the inspector's preact) are found at run time from the installed package, as before.
  packages: 'external',
  // CommonJS has no import.meta: the file's own URL stands in for it. "use strict" first, as the
  // modules were (strict as ES modules): a banner before esbuild's own directive would end strict mode.
  define: { 'import.meta.url': '__splinter_bundle_url' },
  banner: { js: "'use strict';\nconst __splinter_bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  // import() of a package or a node: module (ioredis, node:readline) as require: bin/splinter.cjs runs
  // the bundle as a vm.Script on Node 20 (its code cache), where import() would need --experimental-vm-modules.
  supported: { 'dynamic-import': false },
  // Less source for V8 to read at every start; names are kept, so a SPLINTER_DEBUG stack still says which function.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
