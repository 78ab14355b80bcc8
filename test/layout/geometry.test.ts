import t from 'tap';
import { detectEmbeddings, offsetsOf, storeSize } from '../../src/layout/geometry.js';

t.test('store size is header + slots + arena', async (t) => {
  t.equal(storeSize(4, 64, false), 5440 + 4 * 128 + 4 * 64, 'fresh-4x64 is 6208 bytes');
  t.equal(storeSize(4, 64, false), 6208);
  t.equal(storeSize(4, 64, true), 18496, 'embed-4x64 is 18496 bytes');
  t.equal(storeSize(1024, 256, false), 398656, 'load-1024x256');
});

t.test('the slot size is detected from the exact file size', async (t) => {
  t.equal(detectEmbeddings(6208, 4, 64), false);
  t.equal(detectEmbeddings(18496, 4, 64), true);
  t.equal(detectEmbeddings(6209, 4, 64), undefined, 'one byte more is neither');
  t.equal(detectEmbeddings(6207, 4, 64), undefined, 'one byte less is neither');
});

t.test('offsets', async (t) => {
  t.same(offsetsOf({ slots: 16, maxValueSize: 128, embeddings: false }), {
    slotSize: 128,
    slotsStart: 5440,
    arenaStart: 5440 + 16 * 128,
    arenaSize: 16 * 128,
    totalSize: 5440 + 16 * 128 + 16 * 128,
  });
});
