/** The C peer stands in for libsplinter: it must itself replay every golden fixture byte for byte. */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { firstDifference, fixtureNames, loadFixture, tempDir } from '../helpers/fixtures.js';
import { Peer } from '../helpers/peer.js';

for (const name of fixtureNames()) {
  t.test(`the C peer replays ${name} byte for byte`, async (t) => {
    const f = loadFixture(name);
    const file = path.join(tempDir(t), `${name}.spl`);
    const peer = Peer.create(file, f.slots, f.maxValueSize, f.embeddings);
    await peer.ready;
    for (const [i, line] of f.opLines.entries()) {
      const answer = await peer.send(line);
      const op = f.ops[i]!;
      if (op.rc !== undefined && answer.rc !== op.rc) t.fail(`op ${i} ${line}: rc ${answer.rc}, C said ${op.rc}`);
      if (op.new_len !== undefined && answer['new_len'] !== op.new_len) t.fail(`op ${i}: new_len ${String(answer['new_len'])}`);
    }
    t.equal(await peer.close(), 0, 'the peer exits cleanly');
    t.equal(firstDifference(new Uint8Array(fs.readFileSync(file)), f.image), undefined, `${f.ops.length} ops`);
  });
}
