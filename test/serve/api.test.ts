/** The /v1 routes on a real server: every endpoint, its answers and its errors. */
import t from 'tap';
import { Intent, SlotType, Store } from '../../src/index.js';
import { ask, served } from './helpers.js';

const json = { 'Content-Type': 'application/json' };

t.test('PUT types the value by Content-Type; GET gives it raw with its type and ETag, or decoded', async (t) => {
  const { server, store } = await served(t);
  const put = await ask(server, '/v1/keys/config', { method: 'PUT', headers: json, body: '{"model":"llama","ctx":8192}' });
  t.equal(put.status, 201, 'a new key');
  t.same(put.json, { key: 'config', epoch: '2', type: 'json', length: 28 });
  t.equal(put.headers.etag, '"2"');
  t.equal(store.slotSnapshot('config')!.typeFlag, SlotType.JSON);

  const raw = await ask(server, '/v1/keys/config');
  t.equal(raw.status, 200);
  t.equal(raw.headers['content-type'], 'application/json');
  t.equal(raw.headers.etag, '"2"');
  t.equal(raw.headers['x-content-type-options'], 'nosniff');
  t.equal(raw.text, '{"model":"llama","ctx":8192}');
  const decoded = await ask(server, '/v1/keys/config?decode=1');
  t.same(decoded.json, { key: 'config', epoch: '2', type: 'json', length: 28, encoding: 'json', value: { model: 'llama', ctx: 8192 } });

  t.equal((await ask(server, '/v1/keys/note', { method: 'PUT', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'héllo' })).status, 201);
  const text = await ask(server, '/v1/keys/note');
  t.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(text.text, 'héllo');
  t.equal(store.slotSnapshot('note')!.typeFlag, SlotType.VARTEXT);

  const bytes = Uint8Array.from([0, 255, 1, 128]);
  t.equal((await ask(server, '/v1/keys/blob', { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: bytes })).status, 201);
  const blob = await ask(server, '/v1/keys/blob');
  t.equal(blob.headers['content-type'], 'application/octet-stream');
  t.same([...blob.body], [...bytes]);
  t.same((await ask(server, '/v1/keys/blob?decode=1')).json, { key: 'blob', epoch: '2', type: 'binary', length: 4, encoding: 'hex', value: '00ff0180' });

  store.setBigUint('hits', 12345678901234567890n);
  const hits = await ask(server, '/v1/keys/hits');
  t.equal(hits.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(hits.text, '12345678901234567890', 'a BIGUINT as its decimal number');
  t.equal((await ask(server, '/v1/keys/hits?decode=1')).json.value, '12345678901234567890');

  store.set('plain', 'from set');
  t.same((await ask(server, '/v1/keys/plain?decode=1')).json.value, 'from set', 'a VOID slot of text decodes as text');
  t.equal((await ask(server, '/v1/keys/plain')).headers['content-type'], 'application/octet-stream', 'and is served raw as bytes');
});

t.test('an embedding comes with the decoded value', async (t) => {
  const name = `serve-embed-${process.pid}`;
  const store = Store.create(name, { slots: 16, maxValueSize: 64, embeddings: true });
  const { serve } = await import('../../src/index.js');
  const server = await serve({ store, port: 0 });
  t.teardown(async () => {
    await server.close();
    store.close();
    Store.unlink(name);
  });
  store.set('doc', 'text');
  const vector = new Float32Array(768).fill(0.5);
  store.setEmbedding('doc', vector);
  const answer = await ask(server, '/v1/keys/doc?decode=1');
  t.equal(answer.json.embedding.length, 768);
  t.equal(answer.json.embedding[0], 0.5);
});

t.test('If-Match writes only at the epoch given; If-None-Match: * only a missing key', async (t) => {
  const { server, store } = await served(t);
  store.set('k', 'one');
  const epoch = store.getEpoch('k');
  const stale = await ask(server, '/v1/keys/k', { method: 'PUT', headers: { 'If-Match': `"${epoch - 2n}"` }, body: 'x' });
  t.equal(stale.status, 412);
  t.equal(stale.json.error.code, 'ESTALE');
  t.equal(stale.json.error.epoch, String(epoch), 'the current epoch is in the answer');
  t.equal(stale.headers.etag, `"${epoch}"`);
  t.equal(store.getString('k'), 'one');
  const fresh = await ask(server, '/v1/keys/k', { method: 'PUT', headers: { 'If-Match': `"${epoch}"` }, body: 'two' });
  t.equal(fresh.status, 200);
  t.equal(fresh.json.epoch, String(epoch + 2n));
  t.equal(store.getString('k'), 'two');
  t.equal((await ask(server, '/v1/keys/absent', { method: 'PUT', headers: { 'If-Match': '"2"' }, body: 'x' })).status, 412, 'a missing key matches no epoch');
  t.equal((await ask(server, '/v1/keys/k', { method: 'PUT', headers: { 'If-Match': 'soon' }, body: 'x' })).status, 400, 'an ETag that is no epoch');

  const none = await ask(server, '/v1/keys/k', { method: 'PUT', headers: { 'If-None-Match': '*' }, body: 'x' });
  t.equal(none.status, 412);
  t.equal(none.json.error.code, 'EEXIST');
  t.equal((await ask(server, '/v1/keys/new', { method: 'PUT', headers: { 'If-None-Match': '*' }, body: 'x' })).status, 201);
  t.equal((await ask(server, '/v1/keys/new', { method: 'PUT', headers: { 'If-None-Match': '"4"' }, body: 'x' })).status, 400, 'If-None-Match takes only *');
});

t.test('two writers racing with the same If-Match: exactly one wins, each time', async (t) => {
  const { server, store } = await served(t);
  store.set('race', 'start');
  for (let round = 0; round < 20; round++) {
    const epoch = store.getEpoch('race');
    const answers = await Promise.all(
      ['a', 'b'].map((who) => ask(server, '/v1/keys/race', { method: 'PUT', headers: { 'If-Match': `"${epoch}"` }, body: `${who}${round}` })),
    );
    const statuses = answers.map((a) => a.status).sort();
    t.same(statuses, [200, 412], `round ${round}: one wins, one is refused`);
    const winner = answers.findIndex((a) => a.status === 200);
    t.equal(store.getString('race'), `${'ab'[winner]}${round}`, 'the value is the winner\'s');
  }
});

t.test('append and delete', async (t) => {
  const { server, store } = await served(t);
  store.set('log', 'a');
  const appended = await ask(server, '/v1/keys/log/append', { method: 'POST', body: 'bc' });
  t.equal(appended.status, 200);
  t.equal(appended.json.length, 3);
  t.equal(store.getString('log'), 'abc');
  const missing = await ask(server, '/v1/keys/nope/append', { method: 'POST', body: 'x' });
  t.equal(missing.status, 404);
  t.equal(missing.json.error.code, 'ENOENT');
  store.setBigUint('n', 1n);
  const u64 = await ask(server, '/v1/keys/n/append', { method: 'POST', body: 'x' });
  t.equal(u64.status, 409);
  t.equal(u64.json.error.code, 'EPROTOTYPE');
  const long = await ask(server, '/v1/keys/log/append', { method: 'POST', body: 'x'.repeat(1022) });
  t.equal(long.status, 413, 'an append past maxValueSize');
  t.equal(long.json.error.code, 'EMSGSIZE');

  const deleted = await ask(server, '/v1/keys/log', { method: 'DELETE' });
  t.same(deleted.json, { key: 'log', deleted: true, length: 3 });
  t.equal(store.has('log'), false);
  const again = await ask(server, '/v1/keys/log', { method: 'DELETE' });
  t.equal(again.status, 404);
  t.equal(again.json.error.code, 'ENOENT');
  t.equal((await ask(server, '/v1/keys/log')).status, 404);
});

t.test('GET /v1/keys: metadata, prefix, labels, pages in byte order with a cursor', async (t) => {
  const { server, store } = await served(t);
  for (const key of ['job:3', 'job:1', 'job:2', 'user:1', 'job:10']) store.set(key, `v-${key}`);
  store.setLabel('job:2', 0b101n);
  store.setSlotTime('job:1', 'ctime', 1234n);
  const all = await ask(server, '/v1/keys');
  t.same(all.json.keys.map((k: { key: string }) => k.key), ['job:1', 'job:10', 'job:2', 'job:3', 'user:1']);
  t.equal(all.json.next, null);
  const one = all.json.keys[0];
  t.same(one, { key: 'job:1', epoch: String(store.getEpoch('job:1')), type: 'void', typeFlag: 1, length: 7, labels: '0x0', ctime: '1234', atime: one.atime });
  const jobs = await ask(server, '/v1/keys?prefix=job%3A&limit=2');
  t.same(jobs.json.keys.map((k: { key: string }) => k.key), ['job:1', 'job:10']);
  t.equal(jobs.json.next, Buffer.from('job:10').toString('hex'));
  const rest = await ask(server, `/v1/keys?prefix=job:&limit=2&cursor=${jobs.json.next}`);
  t.same(rest.json.keys.map((k: { key: string }) => k.key), ['job:2', 'job:3']);
  t.equal(rest.json.next, null, 'no page after the last key');
  const past = await ask(server, `/v1/keys?prefix=job:&cursor=${Buffer.from('job:3').toString('hex')}`);
  t.same(past.json, { keys: [], next: null }, 'a cursor at the last key gives an empty page');
  const labelled = await ask(server, '/v1/keys?labels=0x4');
  t.same(labelled.json.keys.map((k: { key: string; labels: string }) => [k.key, k.labels]), [['job:2', '0x5']]);
  for (const bad of ['limit=0', 'limit=1001', 'limit=x', 'labels=-1', 'labels=0x12345678901234567', 'cursor=zz', 'prefix=%zz']) {
    const answer = await ask(server, `/v1/keys?${bad}`);
    t.equal(answer.status, 400, bad);
    t.equal(answer.json.error.code, 'EINVAL');
  }
});

t.test('GET /v1/index: every key with its metadata in one answer, as rows; a prefix narrows it', async (t) => {
  const { server, store } = await served(t);
  store.set('job:1', '{}', { type: SlotType.JSON });
  store.set('job:2', 'two');
  store.setLabel('job:2', 0x14n);
  store.set(Uint8Array.from([0xff, 0x01]), 'bytes');
  const index = await ask(server, '/v1/index');
  t.equal(index.status, 200);
  t.same(index.json.columns, ['key', 'keyHex', 'epoch', 'type', 'length', 'labels']);
  t.equal(index.json.epoch, String(store.epoch), 'the global epoch before the pass');
  t.equal(index.json.busy, 0);
  const rows = [...index.json.rows].sort((a: string[], b: string[]) => (a[0]! < b[0]! ? -1 : 1));
  t.same(rows, [
    ['\\xff\\x01', 'ff01', '2', 'void', 5, '0x0'],
    ['job:1', null, '2', 'json', 2, '0x0'],
    ['job:2', null, '2', 'void', 3, '0x14'],
  ]);
  const some = await ask(server, '/v1/index?prefix=job%3A2');
  t.same(some.json.rows, [['job:2', null, '2', 'void', 3, '0x14']], 'only the keys with the prefix');
  const bad = await ask(server, '/v1/index?prefix=%zz');
  t.equal(bad.status, 400);
  t.equal(bad.json.error.code, 'EINVAL');
});

t.test('store, signals, shards, doctor, streams', async (t) => {
  const { server, store, name } = await served(t);
  store.set('a', '1');
  const info = await ask(server, '/v1/store');
  t.equal(info.json.target, name);
  t.same(info.json.geometry, { slots: 256, maxValueSize: 1024, embeddings: false });
  t.equal(info.json.keys, 1);
  t.equal(info.json.epoch, String(store.epoch));
  t.equal(info.json.header.version, 4);
  t.same(info.json.gateway, { readOnly: false, eventClients: 0, watching: false });

  store.watchRegister('a', 7);
  store.set('a', '2');
  const signals = await ask(server, '/v1/signals');
  t.equal(signals.json.groups.length, 64);
  t.same(signals.json.groups[7], { group: 7, count: '1' });

  store.shards.claim({ id: 0x5f1a, intent: Intent.WILLNEED, priority: 200, duration: 2n ** 64n - 1n });
  const shards = await ask(server, '/v1/shards');
  t.equal(shards.json.sovereign, 0x5f1a);
  t.ok(shards.json.records.some((r: { shardId: number; sovereign: boolean }) => r.shardId === 0x5f1a && r.sovereign));

  const doctor = await ask(server, '/v1/doctor');
  t.equal(doctor.status, 200);
  t.equal(doctor.json.ok, true);
  t.same(doctor.json.findings, []);

  const stream = store.stream('events', { capacity: 8 });
  stream.append('one');
  stream.append('two');
  const streams = await ask(server, '/v1/streams');
  t.same(streams.json.streams, [{ name: 'events', capacity: 8, head: '2', oldest: '1' }]);
  t.same((await ask(server, '/v1/streams/events')).json, { name: 'events', capacity: 8, head: '2', oldest: '1' });
  t.equal((await ask(server, '/v1/streams/nothing')).status, 404);
  t.equal((await ask(server, '/v1/streams/%ff')).status, 400);
});

t.test('a doctor-less gateway, a SharedArrayBuffer store: 501 ENOTSUP', async (t) => {
  const store = Store.createShared({ slots: 16, maxValueSize: 64 });
  const { serve } = await import('../../src/index.js');
  const server = await serve({ store, port: 0 });
  t.teardown(() => server.close());
  const doctor = await ask(server, '/v1/doctor');
  t.equal(doctor.status, 501);
  t.equal(doctor.json.error.code, 'ENOTSUP');
});

t.test('errors: bad requests, unknown routes and methods, encodings, full stores, busy slots; the server goes on', async (t) => {
  const { server, store } = await served(t, {}, { slots: 4, maxValueSize: 64 });
  const cases: Array<[string, Parameters<typeof ask>[2], number, string]> = [
    ['/v1/keys/x', { method: 'PUT', headers: json, body: '{not json' }, 400, 'EINVAL'],
    ['/v1/keys/x', { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: Uint8Array.from([0xff, 0xfe]) }, 400, 'EINVAL'],
    ['/v1/keys/x', { method: 'PUT', body: '' }, 400, 'EINVAL'],
    ['/v1/keys/x', { method: 'PUT', headers: { 'Content-Encoding': 'gzip' }, body: 'x' }, 415, 'ENOTSUP'],
    ['/v1/keys/x', { method: 'PUT', headers: { 'If-Match': '"2"', 'If-None-Match': '*' }, body: 'x' }, 400, 'EINVAL'],
    ['/v1/nothing', {}, 404, 'ENOENT'],
    ['/v1/keys', { method: 'DELETE' }, 405, 'ENOTSUP'],
    ['/v1/keys/x', { method: 'PATCH', body: 'x' }, 405, 'ENOTSUP'],
    ['/', { method: 'POST', body: 'x' }, 405, 'ENOTSUP'],
  ];
  for (const [path, request, status, code] of cases) {
    const answer = await ask(server, path, request);
    t.equal(answer.status, status, `${request?.method ?? 'GET'} ${path} ${JSON.stringify(request?.headers ?? {})}`);
    t.equal(answer.json?.error?.code, code);
    t.equal(answer.headers['content-type'], 'application/json');
  }
  t.equal((await ask(server, '/v1/keys', { method: 'DELETE' })).headers.allow, 'GET');

  for (let i = 0; i < 4; i++) store.set(`fill${i}`, 'x');
  const full = await ask(server, '/v1/keys/more', { method: 'PUT', body: 'x' });
  t.equal(full.status, 507);
  t.equal(full.json.error.code, 'ENOSPC');

  store.setBigUint('fill0', 1n);
  const typed = await ask(server, '/v1/keys/fill0/append', { method: 'POST', body: 'x' });
  t.equal(typed.status, 409);

  // A slot held by a writer that never leaves (its epoch made odd through the file): the read stays contested, 503 EAGAIN with Retry-After.
  const index = store.slotSnapshot('fill1')!.index;
  const { HEADER, SLOT, SLOT_SIZE } = await import('../../src/layout/constants.js');
  const fs = await import('node:fs');
  const fd = fs.openSync(`/dev/shm/${store.target}`, 'r+');
  const offset = HEADER.size + index * SLOT_SIZE + SLOT.epoch;
  const epoch = Buffer.alloc(8);
  fs.readSync(fd, epoch, 0, 8, offset);
  const odd = Buffer.alloc(8);
  odd.writeBigUInt64LE(epoch.readBigUInt64LE(0) + 1n);
  fs.writeSync(fd, odd, 0, 8, offset);
  const contested = await ask(server, '/v1/keys/fill1');
  fs.writeSync(fd, epoch, 0, 8, offset);
  fs.closeSync(fd);
  t.equal(contested.status, 503);
  t.equal(contested.json.error.code, 'EAGAIN');
  t.equal(contested.headers['retry-after'], '1');

  t.equal((await ask(server, '/v1/keys/fill1')).status, 200, 'the server went on');
});

t.test('a fault inside a handler is a 500 JSON error without its insides, and the server goes on', async (t) => {
  const errors: unknown[] = [];
  const { serve } = await import('../../src/serve/index.js');
  const name = `serve-fault-${process.pid}`;
  const store = Store.create(name, { slots: 16, maxValueSize: 64 });
  const server = await serve({ store, port: 0, doctor: () => Promise.reject(new TypeError('secret internals at /home/x')), onError: (e) => errors.push(e) });
  t.teardown(async () => {
    await server.close();
    store.close();
    Store.unlink(name);
  });
  const answer = await ask(server, '/v1/doctor');
  t.equal(answer.status, 500);
  t.equal(answer.json.error.code, 'EINTERNAL');
  t.notMatch(answer.text, /secret|TypeError|\/home/, 'nothing of the exception in the answer');
  t.equal(errors.length, 1, 'the fault is reported to onError');
  t.equal((await ask(server, '/v1/store')).status, 200, 'the server goes on');
});
