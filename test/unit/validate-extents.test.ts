// Integrity extents: a byte budget spread over the namespace, first and last blocks included.
import t from 'tap';
import { chunked, spreadExtents } from '../../tools/validate/suites/extents';

t.test('small namespaces are covered whole', async (t) => {
  t.same(spreadExtents(100, 1000, 8), [{ lba: 0, blocks: 100 }]);
  t.same(spreadExtents(0, 1000, 8), []);
});

t.test('large namespaces get evenly spread extents touching both ends', async (t) => {
  const ns = 2 ** 40;
  const ex = spreadExtents(ns, 16384, 8);
  t.equal(ex.length, 8);
  t.same(ex[0], { lba: 0, blocks: 2048 });
  t.equal(ex[7].lba + ex[7].blocks, ns, 'last extent ends at the last block');
  for (let i = 1; i < ex.length; i++) t.ok(ex[i].lba >= ex[i - 1].lba + ex[i - 1].blocks, 'no overlap');
  t.equal(ex.reduce((s, e) => s + e.blocks, 0), 16384, 'within budget');
  t.same(spreadExtents(ns, 10, 1), [{ lba: 0, blocks: 10 }]);
  t.equal(spreadExtents(30, 20, 50).length, 20, 'more extents than budget blocks: one block each');
});

t.test('chunking respects the transfer limit', async (t) => {
  t.same(chunked([{ lba: 10, blocks: 5 }, { lba: 100, blocks: 2 }], 2), [
    { lba: 10, blocks: 2 },
    { lba: 12, blocks: 2 },
    { lba: 14, blocks: 1 },
    { lba: 100, blocks: 2 },
  ]);
});
