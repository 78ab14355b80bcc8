// What a consumer's ES module does: import splinter-ts by name, create an shm store and a file store,
// write to both, close them. Prints one JSON line: per store, ok and its keys, or the error's code and message.
//   node write-stores.mjs SHM_NAME FILE_PATH
import { Store } from 'splinter-ts';

const [shmName, filePath] = process.argv.slice(2);
const report = {};
for (const [label, target] of [['shm', shmName], ['file', filePath]]) {
  try {
    const store = Store.create(target, { slots: 64, maxValueSize: 256 });
    store.set('consumer/text', `written by a consumer, ${label} store`);
    store.set('consumer/bytes', new Uint8Array([0, 1, 2, 254, 255]));
    report[label] = { ok: true, keys: store.keys() };
    store.close();
  } catch (error) {
    report[label] = { ok: false, code: error.code, message: error.message };
  }
}
console.log(JSON.stringify(report));
