/** The OpenAPI document, the server and docs/serve.md agree: every route documented, every documented route served and listed. */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ROUTES } from '../../src/serve/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { ask, served } from './helpers.js';

type Operation = { parameters: Array<{ name: string; in: string }>; responses: Record<string, unknown>; requestBody?: unknown };

t.test('the document served describes every route of the table, and nothing else', async (t) => {
  const { server } = await served(t);
  const answer = await ask(server, '/v1/openapi.json');
  t.equal(answer.status, 200);
  const doc = answer.json as { openapi: string; paths: Record<string, Record<string, Operation>> };
  t.equal(doc.openapi, '3.1.0');
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  const served_ = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
  t.same(documented, served_);
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const placeholders = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      t.same(op.parameters.filter((x) => x.in === 'path').map((x) => x.name), placeholders, `${method} ${p}: its path parameters`);
      t.ok('400' in op.responses || !p.includes('{') , `${method} ${p}: bad input documented`);
      for (const status of ['401', '403', '414', '500']) t.ok(status in op.responses, `${method} ${p}: ${status}`);
      t.equal(op.requestBody !== undefined, method === 'put' || method === 'post', `${method} ${p}: a body exactly for writes`);
    }
  }
});

t.test('every documented operation is served: none answers "no route" or "not a method"', async (t) => {
  const { server, store } = await served(t);
  store.set('k', 'v');
  store.stream('s', { capacity: 4 }).append('m');
  const doc = (await ask(server, '/v1/openapi.json')).json as { paths: Record<string, Record<string, Operation>> };
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      const concrete = p.replace('{key}', 'k').replace('{name}', 's');
      if (concrete === '/v1/events') continue; // a stream that stays open: served in events.test.ts
      store.set('k', 'v'); // a DELETE before removed it
      const answer = await ask(server, concrete, { method: method.toUpperCase(), body: method === 'put' || method === 'post' ? 'x' : undefined });
      t.ok(answer.status < 400, `${method.toUpperCase()} ${concrete}: ${answer.status} ${answer.text.slice(0, 80)}`);
    }
  }
  t.equal((await ask(server, '/v1/unknown')).status, 404, 'and an undocumented path is not');
});

t.test('docs/serve.md has a heading for each route of the document, and none for a route it lacks', async (t) => {
  const { server } = await served(t);
  const doc = (await ask(server, '/v1/openapi.json')).json as { paths: Record<string, Record<string, Operation>> };
  const routes = Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();
  const markdown = fs.readFileSync(path.join(repoRoot, 'docs', 'serve.md'), 'utf8');
  const headings = [...markdown.matchAll(/^### `((?:GET|PUT|POST|DELETE) \/v1\/[^`]*)`$/gm)].map((m) => m[1]!).sort();
  t.same(headings, routes);
});
