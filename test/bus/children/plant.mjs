// Run as another user: plants files in /dev/shm as an attacker would. Plain JS so that user needs only node.
// argv[2] is JSON: { tables: [{ path, words: [[i32 index, value]] }], symlinks: [[path, target]],
//                    files: [[path, text]], fifos: [path] }; every planted file is made mode 0666.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const plan = JSON.parse(process.argv[2]);
for (const { path, words } of plan.tables ?? []) {
  const table = new Int32Array(1024);
  for (const [index, value] of words) table[index] = value;
  fs.writeFileSync(path, new Uint8Array(table.buffer));
  fs.chmodSync(path, 0o666);
}
for (const [path, target] of plan.symlinks ?? []) fs.symlinkSync(target, path);
for (const [path, text] of plan.files ?? []) {
  fs.writeFileSync(path, text);
  fs.chmodSync(path, 0o666);
}
for (const path of plan.fifos ?? []) {
  execFileSync('mkfifo', [path]);
  fs.chmodSync(path, 0o666);
}
