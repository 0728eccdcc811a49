// IOVA allocation over container ranges minus reserved windows.
import t from 'tap';
import { IovaAllocator, subtractRanges } from '../../lib/vfio/iova';

t.test('subtracting holes splits and trims ranges', async (t) => {
  t.same(subtractRanges([{ start: 0, end: 99 }], [{ start: 10, end: 19 }]), [{ start: 0, end: 9 }, { start: 20, end: 99 }]);
  t.same(subtractRanges([{ start: 0, end: 99 }], [{ start: 0, end: 9 }, { start: 90, end: 200 }]), [{ start: 10, end: 89 }]);
  t.same(subtractRanges([{ start: 50, end: 60 }, { start: 0, end: 9 }], [{ start: 100, end: 200 }]), [{ start: 0, end: 9 }, { start: 50, end: 60 }]);
  t.same(subtractRanges([{ start: 0, end: 9 }], [{ start: 0, end: 9 }]), []);
});

t.test('allocations are aligned, disjoint, avoid reserved ranges and come back', async (t) => {
  const MiB = 2 ** 20;
  const a = new IovaAllocator([{ start: 0, end: 64 * MiB - 1 }], [{ start: 0, end: MiB - 1 }, { start: 8 * MiB, end: 9 * MiB - 1 }]);
  const x = a.alloc(2 * MiB);
  t.equal(x, 2 * MiB, 'first 2 MiB-aligned address after the reserved start');
  const y = a.alloc(4 * MiB);
  t.equal(y, 4 * MiB);
  const z = a.alloc(4096, 4096);
  t.equal(z, MiB, 'a small allocation fills the hole below');
  const w = a.alloc(2 * MiB);
  t.equal(w, 10 * MiB, 'the reserved 8-9 MiB window is skipped');
  a.release(y, 4 * MiB);
  t.equal(a.alloc(4 * MiB), 4 * MiB, 'released space is reused');
  t.throws(() => a.release(60 * MiB, 4096), /already free/);
  t.throws(() => a.alloc(0), /positive integer/);
  t.throws(() => a.alloc(4096, 3000), /power of two/);
  t.throws(() => a.alloc(64 * MiB), { code: 'PHYR_VFIO_IOVA_EXHAUSTED', message: /no free range of 67108864 bytes \(largest free range \d+ bytes\)/ });
  const before = a.freeRanges();
  a.release(x, 2 * MiB);
  t.ok(a.freeRanges().length <= before.length + 1, 'neighbours merge');
});
