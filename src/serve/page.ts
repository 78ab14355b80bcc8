/** The page at `/`: a placeholder until the web inspector comes, static, with a CSP that allows nothing it does not use. */
import type { ServerResponse } from 'node:http';
import { send } from './answer.js';

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>splinter serve</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:40rem;padding:0 1rem}</style></head>
<body>
<h1>splinter serve</h1>
<p>The web inspector is not here yet. The HTTP API is: its description is at <a href="/v1/openapi.json">/v1/openapi.json</a>.</p>
</body>
</html>
`;

export function servePage(res: ServerResponse): void {
  send(res, 200, Buffer.from(PAGE, 'utf8'), { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP, 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
}
