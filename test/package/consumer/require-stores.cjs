// What a CommonJS consumer does: require('splinter-ts'), share a store between two handles on one
// SharedArrayBuffer, get a SplinterError for bad input, and write an shm store. Prints one JSON line.
//   node require-stores.cjs SHM_NAME
'use strict';
const { Store, SplinterError } = require('splinter-ts');

const report = {};
const shared = Store.createShared({ slots: 16, maxValueSize: 64 });
const attached = Store.attach(shared.buffer);
shared.set('cjs/key', 'set through one handle');
report.sab = { isShared: shared.buffer instanceof SharedArrayBuffer, readBack: attached.getString('cjs/key') };
try {
  Store.createShared({ slots: 0, maxValueSize: 64 });
  report.badGeometry = { thrown: false };
} catch (error) {
  report.badGeometry = { thrown: true, isSplinterError: error instanceof SplinterError, code: error.code };
}
try {
  const store = Store.create(process.argv[2], { slots: 16, maxValueSize: 64 });
  store.set('cjs/key', 'required from CommonJS');
  report.shm = { ok: true, keys: store.keys() };
  store.close();
} catch (error) {
  report.shm = { ok: false, code: error.code, message: error.message };
}
console.log(JSON.stringify(report));
