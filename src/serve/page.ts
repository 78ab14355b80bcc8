/**
 * The page at `/`: the web inspector's static shell. Its scripts and styles are files under
 * /assets/ (web/ and the front-end packages); nothing of the store or the request is in it.
 */
import type { ServerResponse } from 'node:http';
import { send } from './answer.js';
import { PAGE_CSP } from './assets.js';

export { PAGE_CSP };

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>splinter inspector</title>
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/inspector.css">
<script type="module" src="/assets/inspector.js"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the inspector… It needs JavaScript; the HTTP API is described at <a href="/v1/openapi.json">/v1/openapi.json</a>.</p></div>
</body>
</html>
`;

const BODY = Buffer.from(PAGE, 'utf8');

export function servePage(res: ServerResponse): void {
  send(res, 200, BODY, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP, 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
}
