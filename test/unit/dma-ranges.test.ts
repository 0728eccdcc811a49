// The pool's data-range index: containment across touching intervals, removal by owner,
// and the last-hit cache never answering for a removed interval.
import t from 'tap';
import { DataRanges } from '../../lib/dma';

t.test('find: inside one interval, across touching ones, never across a gap', async (t) => {
  const r = new DataRanges<string>();
  r.add(0x3000, 0x1000, 'c');
  r.add(0x1000, 0x1000, 'a');
  r.add(0x2000, 0x1000, 'b'); // touches a and c
  r.add(0x8000, 0x1000, 'd');
  t.equal(r.size, 4);
  t.equal(r.find(0x1000, 0x1000), 'a');
  t.equal(r.find(0x1fff, 1), 'a');
  t.equal(r.find(0x1800, 0x2000), 'a', 'runs from a through b into c');
  t.equal(r.find(0x1000, 0x3000), 'a', 'a, b and c exactly');
  t.equal(r.find(0x1000, 0x3001), undefined, 'one byte past c');
  t.equal(r.find(0x3800, 0x5000), undefined, 'across the gap to d');
  t.equal(r.find(0xfff, 2), undefined, 'starts before a');
  t.equal(r.find(0x9000, 1), undefined, 'after d');
  t.equal(r.find(0, 1), undefined);
  t.same(r.ownersIn(0x1800, 0x2000, []), ['a', 'b', 'c']);
});

t.test('remove: by start and owner; the cache forgets removed intervals', async (t) => {
  const r = new DataRanges<string>();
  r.add(0x1000, 0x1000, 'a');
  r.add(0x2000, 0x1000, 'b');
  t.equal(r.find(0x2000, 16), 'b', 'cached');
  t.equal(r.remove(0x2000, 'x'), false, 'wrong owner');
  t.equal(r.remove(0x2800, 'b'), false, 'not a start');
  t.equal(r.remove(0x2000, 'b'), true);
  t.equal(r.find(0x2000, 16), undefined, 'the cache did not keep b');
  t.equal(r.find(0x1000, 0x1001), undefined, 'a no longer touches anything');
  r.add(0x2000, 0x1000, 'b2');
  t.equal(r.find(0x2000, 16), 'b2');
  r.clear();
  t.equal(r.size, 0);
  t.equal(r.find(0x1000, 1), undefined);
});
