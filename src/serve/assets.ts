/**
 * The web inspector's files under /assets/: our page code (web/ at the package root, plain ES
 * modules: no build step) and the front-end libraries from their installed packages. A fixed
 * table: a name not in it is 404, so no request path ever reaches the file system.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError, send } from './answer.js';

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** web/ sits two folders above this file both in src/serve/ (tsx) and in dist/serve/ (the package). */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** A package's dist folder, found the way Node resolves it (from this package's own node_modules). */
function packageDir(name: string): string {
  return path.dirname(createRequire(import.meta.url).resolve(name));
}

const TABLE: Readonly<Record<string, () => { file: string; type: string }>> = {
  'inspector.js': () => ({ file: path.join(WEB_DIR, 'inspector.js'), type: JS }),
  'model.js': () => ({ file: path.join(WEB_DIR, 'model.js'), type: JS }),
  'api.js': () => ({ file: path.join(WEB_DIR, 'api.js'), type: JS }),
  'views.js': () => ({ file: path.join(WEB_DIR, 'views.js'), type: JS }),
  'value.js': () => ({ file: path.join(WEB_DIR, 'value.js'), type: JS }),
  'inspector.css': () => ({ file: path.join(WEB_DIR, 'inspector.css'), type: CSS }),
  'preact.mjs': () => ({ file: path.join(packageDir('preact'), 'preact.mjs'), type: JS }),
  'htm.mjs': () => ({ file: path.join(packageDir('htm'), 'htm.mjs'), type: JS }),
  'uplot.mjs': () => ({ file: path.join(packageDir('uplot'), 'uPlot.esm.js'), type: JS }),
  'uplot.css': () => ({ file: path.join(packageDir('uplot'), 'uPlot.min.css'), type: CSS }),
};

/** The assets' bytes, read once (about 170 KB in all) and kept: they do not change while the package is installed. */
const cache = new Map<string, { body: Buffer; type: string }>();

export const ASSET_PREFIX = '/assets/';

/** The CSP of the page and its assets: our own scripts, styles and requests only; no inline script, no eval, no frame. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Answers GET /assets/NAME from the table.
 * @throws {HttpError} 404 ENOENT for a name not in it; 500 when an installed file is missing (a broken install).
 */
export function serveAsset(res: import('node:http').ServerResponse, name: string): void {
  let asset = cache.get(name);
  if (asset === undefined) {
    const entry = Object.hasOwn(TABLE, name) ? TABLE[name] : undefined;
    if (entry === undefined) throw new HttpError(404, 'ENOENT', 'no such asset; the page loads only its own');
    const { file, type } = entry();
    asset = { body: fs.readFileSync(file), type };
    cache.set(name, asset);
  }
  send(res, 200, asset.body, { 'Content-Type': asset.type, 'Content-Security-Policy': PAGE_CSP });
}
