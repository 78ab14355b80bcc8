/** Safe by default: loopback, tokens and their file, the Host and Origin checks, read-only, bounded bodies and URLs, hostile keys. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { readTokenFile, serve, SplinterError, Store } from '../../src/index.js';
import { tempDir } from '../helpers/fixtures.js';
import { ask, served } from './helpers.js';

async function rejectsWith(t: Test, promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  try {
    await promise;
    t.fail(`expected ${code}`);
  } catch (error) {
    t.ok(error instanceof SplinterError, 'a SplinterError');
    t.equal((error as SplinterError).code, code);
    t.match((error as Error).message, message);
  }
}

function throwsCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as SplinterError).code;
  }
  return undefined;
}

t.test('binds 127.0.0.1 by default; a host that is not loopback without a token is refused at start', async (t) => {
  const { server } = await served(t);
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const store = Store.createShared({ slots: 16, maxValueSize: 64 });
  await rejectsWith(t, serve({ store, port: 0, host: '0.0.0.0' }), 'EPERM', /0\.0\.0\.0.*not a loopback address, needs a token/);
  await rejectsWith(t, serve({ store, port: 0, token: 'has space' }), 'EINVAL', /printable ASCII/);
  await rejectsWith(t, serve({ store, port: 0, allowOrigins: ['https://x.example/path'] }), 'EINVAL', /allowOrigins/);
  await rejectsWith(t, serve({ store, port: 0, what: 1 } as never), 'EINVAL', /unknown option "what"/);
});

t.test('off loopback every request needs the token, compared whole', async (t) => {
  const { server, store } = await served(t, { host: '0.0.0.0', token: 's3cret-token' });
  store.set('k', 'v');
  const url = `http://files.example:${server.port}/`; // a name that is not loopback, as a remote client sends it
  const via = { connectTo: '127.0.0.1' };
  const none = await ask(url, '/v1/keys/k', via);
  t.equal(none.status, 401);
  t.equal(none.json.error.code, 'EACCES');
  t.equal(none.headers['www-authenticate'], 'Bearer');
  for (const wrong of ['Bearer s3cret', 'Bearer s3cret-token2', 'Basic s3cret-token', 'Bearer  s3cret-token', 's3cret-token']) {
    t.equal((await ask(url, '/v1/keys/k', { ...via, headers: { Authorization: wrong } })).status, 401, wrong);
  }
  const right = await ask(url, '/v1/keys/k', { ...via, headers: { Authorization: 'Bearer s3cret-token' } });
  t.equal(right.status, 200, 'the right token, under any Host: a bind off loopback does not check it');
  t.equal(right.text, 'v');
  // The page and its files are static (nothing of the store): a browser loads them without the token, and the page asks for it.
  t.equal((await ask(url, '/', via)).status, 200, 'the page without the token');
  t.equal((await ask(url, '/assets/inspector.js', via)).status, 200, 'its script without the token');
  t.equal((await ask(url, '/v1/index', via)).status, 401, 'the key set needs it');
  t.equal((await ask(url, '/v1/events', via)).status, 401, 'the events need it');
});

t.test('a token on loopback is required too', async (t) => {
  const { server } = await served(t, { token: 'tok' });
  t.equal((await ask(server, '/v1/store')).status, 401);
  t.equal((await ask(server, '/v1/store', { headers: { Authorization: 'Bearer tok' } })).status, 200);
});

t.test('the token file: the owner\'s alone, bounded, one line', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, 'abc-123\n', { mode: 0o600 });
  t.equal(readTokenFile(file), 'abc-123', 'the trailing newline trimmed');
  fs.writeFileSync(file, 'abc-123\r\n');
  t.equal(readTokenFile(file), 'abc-123');
  fs.chmodSync(file, 0o640);
  t.equal(throwsCode(() => readTokenFile(file)), 'EPERM', 'readable by the group');
  fs.chmodSync(file, 0o604);
  t.equal(throwsCode(() => readTokenFile(file)), 'EPERM', 'readable by others');
  try {
    readTokenFile(file);
  } catch (error) {
    t.match((error as Error).message, /mode 0604.*chmod 600/);
  }
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(file, '');
  t.equal(throwsCode(() => readTokenFile(file)), 'EINVAL', 'empty');
  fs.writeFileSync(file, 'a b\n');
  t.equal(throwsCode(() => readTokenFile(file)), 'EINVAL', 'a space inside');
  fs.writeFileSync(file, 'x'.repeat(5000));
  t.equal(throwsCode(() => readTokenFile(file)), 'EINVAL', 'over 4096 bytes');
  const link = path.join(dir, 'link');
  fs.symlinkSync(file, link);
  t.equal(throwsCode(() => readTokenFile(link)), 'EINVAL', 'a symbolic link');
  t.equal(throwsCode(() => readTokenFile(dir)), 'EINVAL', 'a directory');
  t.equal(throwsCode(() => readTokenFile(path.join(dir, 'none'))), 'ENOENT');
});

t.test('DNS rebinding: a loopback bind answers loopback Host names at its port only', async (t) => {
  const { server } = await served(t);
  const port = server.port;
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `127.1.2.3:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
    t.equal((await ask(server, '/v1/store', { headers: { Host: host } })).status, 200, host);
  }
  for (const host of [`evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port + 1}`, 'localhost', `127.0.0.1.nip.io:${port}`, `0.0.0.0:${port}`]) {
    const answer = await ask(server, '/v1/store', { headers: { Host: host } });
    t.equal(answer.status, 403, host);
    t.equal(answer.json.error.code, 'EPERM');
  }
});

t.test('read-only refuses every write with 403 EPERM; reads go on', async (t) => {
  const { server, store } = await served(t, { readOnly: true });
  store.set('k', 'v');
  for (const [method, path] of [['PUT', '/v1/keys/k'], ['POST', '/v1/keys/k/append'], ['DELETE', '/v1/keys/k']] as const) {
    const answer = await ask(server, path, { method, body: method === 'DELETE' ? undefined : 'x' });
    t.equal(answer.status, 403, method);
    t.equal(answer.json.error.code, 'EPERM');
    t.match(answer.json.error.message, /read-only/);
  }
  t.equal(store.getString('k'), 'v');
  t.equal((await ask(server, '/v1/keys/k')).text, 'v');
  t.equal((await ask(server, '/v1/store')).json.gateway.readOnly, true);
});

t.test('a write from another origin is refused; no CORS unless allowOrigins names it', async (t) => {
  const { server, store } = await served(t);
  const own = `http://127.0.0.1:${server.port}`;
  const evil = await ask(server, '/v1/keys/k', { method: 'PUT', headers: { Origin: 'http://evil.example' }, body: 'x' });
  t.equal(evil.status, 403);
  t.equal(evil.json.error.code, 'EPERM');
  t.equal(store.has('k'), false);
  t.equal((await ask(server, '/v1/keys/k', { method: 'DELETE', headers: { Origin: 'null' } })).status, 403, 'an opaque origin');
  t.equal((await ask(server, '/v1/keys/k', { method: 'PUT', headers: { Origin: own }, body: 'x' })).status, 201, 'the own origin');
  const read = await ask(server, '/v1/keys/k', { headers: { Origin: 'http://evil.example' } });
  t.equal(read.headers['access-control-allow-origin'], undefined, 'no CORS header: the page cannot read the answer');
  t.equal((await ask(server, '/v1/keys/k', { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } })).status, 403, 'no preflight');

  const other = await served(t, { allowOrigins: ['https://ops.example'] });
  const allowed = await ask(other.server, '/v1/keys/k', { method: 'PUT', headers: { Origin: 'https://ops.example' }, body: 'x' });
  t.equal(allowed.status, 201);
  t.equal(allowed.headers['access-control-allow-origin'], 'https://ops.example');
  const preflight = await ask(other.server, '/v1/keys/k', { method: 'OPTIONS', headers: { Origin: 'https://ops.example', 'Access-Control-Request-Method': 'PUT' } });
  t.equal(preflight.status, 204);
  t.match(preflight.headers['access-control-allow-methods'], /PUT/);
  t.equal((await ask(other.server, '/v1/keys/k', { method: 'PUT', headers: { Origin: 'https://evil.example' }, body: 'x' })).status, 403, 'another origin still');
});

/** Sends a PUT whose body is `total` bytes, `chunk` at a time, over a raw socket; resolves with what came back and how much was accepted. */
function pushBody(port: number, total: number, declare: boolean): Promise<{ answer: string; written: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let written = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ answer, written });
    };
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n\r\n') && /Content-Length: (\d+)/i.test(answer)) {
        const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
        if (body.length >= Number(/Content-Length: (\d+)/i.exec(head)![1])) setTimeout(finish, 300);
      }
    });
    socket.on('error', finish);
    socket.on('close', finish);
    const length = declare ? `Content-Length: ${total}\r\n` : 'Transfer-Encoding: chunked\r\n';
    socket.write(`PUT /v1/keys/big HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${length}\r\n`);
    const block = Buffer.alloc(64 * 1024, 0x61);
    const pump = (): void => {
      while (!done && written < total) {
        const piece = declare ? block : Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')]);
        written += block.length;
        if (!socket.write(piece)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
    setTimeout(finish, 20_000); // a server that stopped reading leaves the writer blocked: enough
  });
}

t.test('a body over maxValueSize is 413 and is not read to its end', async (t) => {
  const { server, store } = await served(t, {}, { slots: 16, maxValueSize: 1024 });
  const total = 256 * 1024 * 1024; // far more than any socket buffers
  for (const declare of [true, false]) {
    const { answer, written } = await pushBody(server.port, total, declare);
    t.match(answer, /^HTTP\/1\.1 413 /, declare ? 'Content-Length over the bound' : 'a chunked body that grows past it');
    t.match(answer, /"code":"EMSGSIZE"/);
    t.ok(written < total / 4, `the server stopped reading: ${Math.round(written / 1024 / 1024)} MiB of ${total / 1024 / 1024} MiB sent`);
  }
  t.equal(store.has('big'), false);
  const exact = await ask(server, '/v1/keys/big', { method: 'PUT', body: 'x'.repeat(1024) });
  t.equal(exact.status, 201, 'maxValueSize itself fits');
  const over = await ask(server, '/v1/keys/big', { method: 'PUT', body: 'x'.repeat(1025) });
  t.equal(over.status, 413);
  t.equal((await ask(server, '/v1/store')).status, 200, 'the server goes on');
});

t.test('bounded URLs and headers', async (t) => {
  const { server } = await served(t);
  const long = await ask(server, `/v1/keys?prefix=${'a'.repeat(9000)}`);
  t.equal(long.status, 414);
  t.equal(long.json.error.code, 'EMSGSIZE');
  const headers = await ask(server, '/v1/store', { headers: { 'X-Big': 'x'.repeat(20_000) } });
  t.equal(headers.status, 431);
});

t.test('hostile key names are bytes: never a path, never markup, never decoded wrong', async (t) => {
  const { server, store } = await served(t);
  const before = fs.readdirSync('/dev/shm').length;
  const cases: Array<[string, string | Uint8Array]> = [
    ['/v1/keys/%3Cscript%3Ealert(1)%3C%2Fscript%3E', '<script>alert(1)</script>'],
    ['/v1/keys/..%2F..%2Fetc%2Fpasswd', '../../etc/passwd'],
    ['/v1/keys/..', '..'],
    ['/v1/keys/%E2%9C%93%20ok', '✓ ok'],
    ['/v1/keys/%252F', '%2F'],
    ['/v1/keys/%C0%AF', Uint8Array.from([0xc0, 0xaf])],
    ['/v1/keys/%22%3E%3Cimg%20src%3Dx%3E', '"><img src=x>'],
  ];
  for (const [path, key] of cases) {
    const put = await ask(server, path, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'v' });
    t.equal(put.status, 201, path);
    t.equal(put.headers['content-type'], 'application/json');
    t.equal(put.headers['x-content-type-options'], 'nosniff');
    t.equal(store.getString(key), 'v', `${path} stored under its bytes`);
    const get = await ask(server, path);
    t.equal(get.text, 'v');
  }
  const notUtf8 = (await ask(server, '/v1/keys/%C0%AF?decode=1')).json;
  t.same([notUtf8.key, notUtf8.keyHex], ['\\xc0\\xaf', 'c0af'], 'a key that is not UTF-8: escaped text and its hex');
  t.equal(fs.readdirSync('/dev/shm').length, before, 'no file made');
  const listed = await ask(server, '/v1/keys');
  t.equal(listed.headers['content-type'], 'application/json');
  t.ok(listed.json.keys.some((k: { key: string }) => k.key === '<script>alert(1)</script>'));
  const missing = await ask(server, '/v1/keys/%3Cb%3Ehi%3C%2Fb%3E');
  t.equal(missing.headers['content-type'], 'application/json', 'an error naming the key is JSON, never HTML');
  for (const bad of ['%00', 'a%00b', '%', '%zz', '%e', 'x'.repeat(64), '%ff'.repeat(64)]) {
    const answer = await ask(server, `/v1/keys/${bad}`, { method: 'PUT', body: 'v' });
    t.equal(answer.status, 400, bad.slice(0, 20));
    t.equal(answer.json.error.code, 'EINVAL');
  }
  t.equal((await ask(server, '/v1/keys/../store')).status, 404, 'dot segments are not resolved into another route');
  t.equal((await ask(server, '/v1/keys/x'.repeat(1) + '/../../store')).status, 404);
});

t.test('the page at / is inert: a strict Content-Security-Policy, nosniff, nothing reflected', async (t) => {
  const { server } = await served(t);
  const page = await ask(server, '/?q=%3Cscript%3Ewindow.x=1%3C/script%3E');
  t.equal(page.status, 200);
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  const csp = page.headers['content-security-policy'] ?? '';
  t.match(csp, /default-src 'none'/);
  t.match(csp, /script-src 'self'(;|$)/, "scripts from the server only");
  t.match(csp, /style-src 'self'(;|$)/, 'style sheets from the server only');
  t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/, 'no inline script or style, no eval, no other host');
  t.equal(page.headers['x-content-type-options'], 'nosniff');
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.notMatch(page.text, /<script(?![^>]*\ssrc="\/assets\/)/i, 'no inline script: every script is a file of /assets/');
  t.notMatch(page.text, /window\.x|%3Cscript/i, 'nothing of the request in the page');
  for (const [file, type] of <[string, string][]>[['inspector.js', 'text/javascript'], ['preact.mjs', 'text/javascript'], ['htm.mjs', 'text/javascript'], ['uplot.mjs', 'text/javascript'], ['inspector.css', 'text/css'], ['uplot.css', 'text/css']]) {
    const asset = await ask(server, `/assets/${file}`);
    t.equal(asset.status, 200, file);
    t.match(asset.headers['content-type'], type, `${file} as ${type}`);
    t.equal(asset.headers['x-content-type-options'], 'nosniff', `${file}: nosniff`);
    t.notMatch(asset.text, /\beval\(|new Function\(/, `${file}: no eval`);
  }
  for (const bad of ['/assets/../package.json', '/assets/%2e%2e%2fpackage.json', '/assets/', '/assets/inspector.js/x', '/assets/constructor', '/assets/__proto__']) {
    const answer = await ask(server, bad);
    t.equal(answer.status, 404, `${bad}: 404`);
    t.notMatch(answer.text, /package\.json|__proto__|constructor/, `${bad}: not echoed`);
  }
  t.equal((await ask(server, '/assets/inspector.js', { method: 'PUT', body: 'x' })).status, 405, 'the files take GET only');
});
