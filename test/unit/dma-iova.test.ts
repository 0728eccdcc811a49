// The IOVA range allocator: reserved holes are never handed out, alignment is honoured,
// exhaustion is a typed error that says what is left, fragmentation shows and heals by
// coalescing, a randomized run keeps every invariant; reserved windows are cut out, and the
// VFIO container (its other user) keeps its own error code for an exhausted IOVA space.
import t from 'tap';
import { DmaArgumentError, DmaStateError, IovaExhaustedError, RangeAllocator } from '../../lib/dma';
import { isPow2, subtractRanges } from '../../lib/dma/iova';
import { VfioContainer } from '../../lib/vfio/container';

const MiB = 1024 * 1024;

t.test('allocations avoid the holes between IOMMU ranges', async (t) => {
  // x86's MSI window 0xfee00000..0xfeefffff is reserved, as VFIO reports it.
  const a = new RangeAllocator([
    { start: 0xfef00000, end: 0xffffffff },
    { start: 0, end: 0xfedfffff },
  ]);
  t.equal(a.fragments(), 2);
  t.equal(a.freeBytes(), 2 ** 32 - MiB);
  const big = a.alloc(0xfee00000 - MiB, 2 * MiB);
  t.equal(big, 0);
  const next = a.alloc(2 * MiB, 2 * MiB);
  t.equal(next, 0xfef00000 + MiB, 'skips the hole and aligns past it');
  t.same(a.allocated(), [
    { start: 0, size: 0xfee00000 - MiB },
    { start: 0xfef00000 + MiB, size: 2 * MiB },
  ]);
  t.equal(a.tryAlloc(16 * MiB), -1, 'nothing left that large');
  t.equal(a.fragments(), 3);
});

t.test('ranges: merged, clamped to 2^53, validated', async (t) => {
  const a = new RangeAllocator([
    { start: 0, end: 4095 },
    { start: 2048, end: 8191 },
    { start: 8192, end: 12287 },
  ]);
  t.equal(a.fragments(), 1, 'overlapping and touching ranges merge');
  t.equal(a.freeBytes(), 12288);
  const wide = new RangeAllocator([{ start: 2 ** 52, end: 2 ** 64 - 1 }]);
  t.equal(wide.freeBytes(), Number.MAX_SAFE_INTEGER - 2 ** 52, 'ends past 2^53 are clamped');
  t.ok(Number.isSafeInteger(wide.alloc(2 ** 40) + 2 ** 40));
  t.throws(() => new RangeAllocator([{ start: 10, end: 5 }]), DmaArgumentError);
  t.throws(() => new RangeAllocator([{ start: -1, end: 5 }]), /not a valid inclusive range/);
  t.throws(() => new RangeAllocator([{ start: 0, end: NaN }]), DmaArgumentError);
  t.equal(new RangeAllocator([]).tryAlloc(1), -1);
});

t.test('alignment: head pieces stay usable', async (t) => {
  const a = new RangeAllocator([{ start: 0, end: 64 * 1024 - 1 }]);
  t.equal(a.alloc(1), 0);
  t.equal(a.alloc(4096, 4096), 4096);
  t.equal(a.alloc(100), 1, 'the piece before the aligned block is reused');
  t.equal(a.alloc(16 * 1024, 16 * 1024), 16 * 1024);
  t.equal(a.fragments(), 3);
  t.ok(isPow2(2 ** 52) && isPow2(1) && !isPow2(0) && !isPow2(3) && !isPow2(2 ** 33 + 2));
  for (const [size, align] of [
    [0, 1],
    [-4, 1],
    [1.5, 1],
    [NaN, 1],
    [4, 3],
    [4, 0],
    [4, 1.5],
  ]) {
    t.throws(() => a.alloc(size, align), DmaArgumentError, `alloc(${size}, ${align})`);
  }
});

t.test('exhaustion says how much was asked and what is left', async (t) => {
  const a = new RangeAllocator([{ start: 0, end: 8 * MiB - 1 }]);
  const blocks = Array.from({ length: 8 }, () => a.alloc(MiB));
  t.equal(a.freeBytes(), 0);
  const full = t.throws(() => a.alloc(1)) as IovaExhaustedError;
  t.type(full, IovaExhaustedError);
  t.equal(full.code, 'PHYR_IOVA_EXHAUSTED');
  t.match(full.message, /no free IOVA range for 1 bytes aligned to 1: 0 bytes are free in 0 range\(s\)/);

  // Fragmentation: free every other block. Half the space is free, but no 2 MiB run.
  for (let i = 0; i < 8; i += 2) a.release(blocks[i]);
  t.equal(a.freeBytes(), 4 * MiB);
  t.equal(a.fragments(), 4);
  t.equal(a.largestFree(), MiB);
  const frag = t.throws(() => a.alloc(2 * MiB)) as IovaExhaustedError;
  t.equal(frag.requested, 2 * MiB);
  t.equal(frag.freeBytes, 4 * MiB);
  t.equal(frag.largestFree, MiB);
  t.equal(frag.fragments, 4);
  t.match(frag.message, /4194304 bytes are free in 4 range\(s\), the largest 1048576 bytes/);

  // Coalescing: freeing block 1 joins blocks 0..2 into one 3 MiB run.
  a.release(blocks[1]);
  t.equal(a.fragments(), 3);
  t.equal(a.largestFree(), 3 * MiB);
  t.equal(a.alloc(2 * MiB), 0, 'first fit lands in the healed run');
  a.release(0);
  for (const i of [3, 5, 7]) a.release(blocks[i]);
  t.equal(a.fragments(), 1, 'everything coalesced back into one range');
  t.equal(a.freeBytes(), 8 * MiB);
  t.equal(a.allocations(), 0);
});

t.test('double free and unknown starts are typed errors', async (t) => {
  const a = new RangeAllocator([{ start: 4096, end: 1 * MiB - 1 }]);
  const x = a.alloc(4096);
  a.release(x);
  t.throws(() => a.release(x), DmaStateError);
  t.throws(() => a.release(x), { code: 'PHYR_DMA_FREED', message: /not allocated/ });
  t.throws(() => a.release(12345), DmaStateError);
  t.equal(a.freeBytes(), MiB - 4096, 'a refused free changes nothing');
});

t.test('randomized alloc/free keeps every invariant', async (t) => {
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const total = 64 * MiB;
  const a = new RangeAllocator([{ start: 0, end: total - 1 }]);
  const live: { start: number; size: number; align: number }[] = [];
  let problems = 0;
  let exhausted = 0;
  for (let step = 0; step < 4000; step++) {
    if (live.length > 0 && rand(3) === 0) {
      const [b] = live.splice(rand(live.length), 1);
      a.release(b.start);
    } else {
      const size = (1 + rand(512)) * 4096;
      const align = 4096 * 2 ** rand(6);
      const start = a.tryAlloc(size, align);
      if (start < 0) {
        exhausted++;
        continue;
      }
      if (start % align !== 0 || start < 0 || start + size > total) problems++;
      if (live.some((b) => start < b.start + b.size && b.start < start + size)) problems++;
      live.push({ start, size, align });
    }
    const used = live.reduce((n, b) => n + b.size, 0);
    if (a.freeBytes() + used !== total) problems++;
  }
  t.equal(problems, 0, 'no overlap, misalignment, out-of-range block or lost byte');
  t.ok(exhausted > 0, 'the run reached exhaustion');
  t.equal(a.allocations(), live.length);
  for (const b of live) a.release(b.start);
  t.equal(a.fragments(), 1);
  t.equal(a.freeBytes(), total);
});

// Reserved windows (the VFIO container's MSI window, PCI MMIO and first MiB) are cut out
// of the reported ranges before anything is handed out.
t.test('subtracting holes splits and trims ranges', async (t) => {
  t.same(subtractRanges([{ start: 0, end: 99 }], [{ start: 10, end: 19 }]), [{ start: 0, end: 9 }, { start: 20, end: 99 }]);
  t.same(subtractRanges([{ start: 0, end: 99 }], [{ start: 0, end: 9 }, { start: 90, end: 200 }]), [{ start: 10, end: 89 }]);
  t.same(subtractRanges([{ start: 50, end: 60 }, { start: 0, end: 9 }], [{ start: 100, end: 200 }]), [{ start: 0, end: 9 }, { start: 50, end: 60 }]);
  t.same(subtractRanges([{ start: 0, end: 9 }], [{ start: 0, end: 9 }]), []);
});

t.test('allocations are aligned, disjoint, avoid reserved ranges and come back', async (t) => {
  const a = new RangeAllocator([{ start: 0, end: 64 * MiB - 1 }], [{ start: 0, end: MiB - 1 }, { start: 8 * MiB, end: 9 * MiB - 1 }]);
  const x = a.alloc(2 * MiB, 2 * MiB);
  t.equal(x, 2 * MiB, 'first 2 MiB-aligned address after the reserved start');
  const y = a.alloc(4 * MiB, 2 * MiB);
  t.equal(y, 4 * MiB);
  const z = a.alloc(4096, 4096);
  t.equal(z, MiB, 'a small allocation fills the hole below');
  const w = a.alloc(2 * MiB, 2 * MiB);
  t.equal(w, 10 * MiB, 'the reserved 8-9 MiB window is skipped');
  a.release(y, 4 * MiB);
  t.equal(a.alloc(4 * MiB, 2 * MiB), 4 * MiB, 'released space is reused');
  t.throws(() => a.release(60 * MiB, 4096), { code: 'PHYR_DMA_FREED' }, 'a range never allocated is refused');
  t.throws(() => a.release(x, 4096), { code: 'PHYR_DMA_BAD_ARGUMENT', message: /release whole allocations/ });
  t.equal(a.allocations(), 4, 'a refused release keeps the allocation');
  t.throws(() => a.alloc(64 * MiB), IovaExhaustedError);
  const before = a.fragments();
  a.release(x, 2 * MiB);
  t.ok(a.fragments() <= before + 1, 'neighbours merge');
});

t.test('the VFIO container reports exhaustion of its IOVA space in its own terms', async (t) => {
  // No /dev/vfio here: a container with an IOMMU set, built around its allocator.
  const c = Object.create(VfioContainer.prototype) as VfioContainer;
  Object.assign(c, { closed: false, allocator: new RangeAllocator([{ start: 0, end: 64 * MiB - 1 }], [{ start: 0, end: MiB - 1 }]) });
  t.equal(c.allocIova(2 * MiB), 2 * MiB, '2 MiB-aligned by default');
  t.throws(() => c.allocIova(64 * MiB), { code: 'PHYR_VFIO_IOVA_EXHAUSTED', message: /no free range of 67108864 bytes \(largest free range \d+ bytes\)/ });
  t.throws(() => c.allocIova(0), /positive integer/);
  t.throws(() => c.allocIova(4096, 3000), /power of two/);
  c.freeIova(2 * MiB, 2 * MiB);
  t.throws(() => c.freeIova(2 * MiB, 2 * MiB), { code: 'PHYR_DMA_FREED' }, 'a double free is refused');
});
