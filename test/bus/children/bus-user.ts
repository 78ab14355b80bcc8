/**
 * Child process: an ordinary user of a store (opened, with trustShared when argv[3] is "open-shared",
 * or created when argv[3] is "create":
 * poll, set, watch, set again), then prints
 * { warnings } (the SPLINTER_SIDEFILE warnings it got) and, while its watch waited, the modes
 * of the side files beside the store ({ sideModes: { name: mode } }).
 */
import fs from 'node:fs';
import { Store } from '../../../src/index.js';

const [target, how] = process.argv.slice(2);
const warnings: string[] = [];
process.on('warning', (warning) => {
  if ((warning as Error & { code?: string }).code === 'SPLINTER_SIDEFILE') warnings.push(warning.message);
});
const store =
  how === 'create'
    ? Store.create(target!, { slots: 32, maxValueSize: 64 })
    : how === 'open-shared'
      ? Store.open(target!, { trustShared: true })
      : Store.open(target!);
const { dev, ino } = fs.statSync(target!.includes('/') ? target! : `/dev/shm/${target}`);
const prefix = `.splinter-bus-${dev}-${ino}`;
const sideModes: Record<string, number> = {};
await store.poll('k', { timeout: 30 });
store.set('k', 'one');
const changes = store.watch(['k', 'other']);
for (const name of fs.readdirSync('/dev/shm')) {
  if (name === prefix || name.startsWith(`${prefix}.`)) sideModes[name.slice(prefix.length) || 'table'] = fs.lstatSync(`/dev/shm/${name}`).mode & 0o7777;
}
setTimeout(() => store.set('k', 'two'), 20);
await changes.next();
await changes.return!();
store.set('other', 'three');
await store.poll('other', { timeout: 30 });
store.set('k', 'four');
// Let the process warning event (emitted on the next tick) arrive.
await new Promise((resolve) => setTimeout(resolve, 20));
store.close();
process.stdout.write(JSON.stringify({ warnings, sideModes }));
