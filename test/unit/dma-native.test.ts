// The memory room's native exports refuse bad arguments with JS errors (no crash), and
// report the page offset of a host address correctly.
import t from 'tap';
import { memoryNative } from '../../lib/dma/native';

const native = memoryNative();
type Loose = (...args: unknown[]) => unknown;

t.test('allocate validates its arguments', async (t) => {
  const allocate = native.allocate as unknown as Loose;
  t.throws(() => allocate('4096', false), /region size must be a number/);
  t.throws(() => allocate(0, false), /region size must be an integer from 1 to 1099511627776, got 0/);
  t.throws(() => allocate(-4096, false), RangeError);
  t.throws(() => allocate(4096.5, false), RangeError);
  t.throws(() => allocate(2 ** 41, false), RangeError);
  t.throws(() => allocate(4096), /expected \(number size, boolean huge\)/);
  t.throws(() => allocate(4096, 1), TypeError);
  t.throws(() => allocate(100, false), { code: 'PHYR_DMA_ALLOC_FAILED', message: /not a multiple of the page size/ });
  t.throws(() => allocate(4096, true), { code: 'PHYR_DMA_ALLOC_FAILED', message: /hugepage/ });
  const ab = native.allocate(8192, false)!;
  t.equal(ab.byteLength, 8192);
  t.equal(native.pageOffset(ab, 0), 0, 'regions are page-aligned');
  t.equal(native.pageOffset(ab, 4097), 1);
  t.equal(native.pageSize, 4096);
  t.equal(native.hugepageSize, 2 * 1024 * 1024);
});

t.test('pageOffset validates its arguments and follows the host address', async (t) => {
  const pageOffset = native.pageOffset as unknown as Loose;
  const buf = Buffer.alloc(10000);
  const ab = buf.buffer as ArrayBuffer;
  const o = native.pageOffset(ab, buf.byteOffset);
  t.ok(o >= 0 && o < 4096);
  t.equal(native.pageOffset(ab, buf.byteOffset + 4096), o, 'one page on, same offset');
  t.equal(native.pageOffset(ab, buf.byteOffset + 1), (o + 1) % 4096);
  t.equal(native.pageOffset(ab, ab.byteLength) >= 0, true, 'the end offset is allowed');
  t.throws(() => pageOffset(ab, ab.byteLength + 1), RangeError);
  t.throws(() => pageOffset(ab, -1), RangeError);
  t.throws(() => pageOffset(ab, 0.5), RangeError);
  t.throws(() => pageOffset(new Uint8Array(4), 0), /expected \(ArrayBuffer memory, number byteOffset\)/);
  t.throws(() => pageOffset(ab), /expected \(ArrayBuffer memory, number byteOffset\)/);
  t.throws(() => pageOffset(ab, "0"), /byteOffset must be a number/);
  t.throws(() => pageOffset(new ArrayBuffer(0), 0), /no memory/);
  const s = native.stats();
  t.ok(s.liveRegions >= 0 && s.liveBytes >= 0);
});
