// DMA pool logic against a recording PciFunction: buffers are mapped once per chunk,
// translate to the right device addresses, free and close unmap everything, bad input
// and use after free/close are typed errors.
import t from 'tap';
import { DmaArgumentError, DmaPool, DmaStateError, IovaExhaustedError } from '../../lib/dma';
import { memoryNative } from '../../lib/dma/native';
import { PhyrArray, PhyrFlags } from '../../lib/phyr';
import { RecordingFunction } from './fixtures/recording-function';

const MiB = 1024 * 1024;
const native = memoryNative();
const recorder = (ranges?: { start: number; end: number }[]): RecordingFunction =>
  new RecordingFunction(ranges, (m, o) => native.pageOffset(m, o));

t.test('alloc maps one IOVA-contiguous chunk and the device sees the CPU bytes', async (t) => {
  const fn = recorder();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  t.equal(pool.usingHugepages, false);
  const a = pool.alloc(100);
  const b = pool.alloc(5000);
  t.equal(a.size, 100);
  t.equal(a.bytes.length, 100);
  t.equal(a.iova % 4096, 0, 'page-aligned IOVA');
  t.equal(b.iova % 4096, 0);
  t.not(a.iova, 0, 'IOVA 0 is never handed out');
  t.equal(fn.calls.filter((c) => c.op === 'map').length, 1, 'both buffers share one mapped chunk');
  t.ok(b.iova >= a.iova + 4096, 'buffers do not share a page');
  b.bytes.set([1, 2, 3, 4], 4094);
  t.same([...fn.read(b.iovaAt(4094), 4)], [1, 2, 3, 4], 'the device reads what the CPU wrote');
  t.equal(b.iovaAt(4094), b.iova + 4094);
  t.same(a.bytes.every((x) => x === 0), true, 'zeroed');
  t.equal(a.hugepageBacked, false);
  pool.close();
});

t.test('toPhyr: one entry per IOVA-contiguous range, appended to out', async (t) => {
  const fn = recorder();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  const buf = pool.alloc(3 * MiB + 123);
  const out = new PhyrArray();
  buf.toPhyr(7, 2 * MiB + 3, out);
  t.same(out.toArray(), [{ addr: buf.iova + 7, len: 2 * MiB + 3, flags: 0 }]);
  buf.toPhyr(3 * MiB, 123, out);
  t.equal(out.length, 2, 'appended, not coalesced (not adjacent)');
  t.same(out.toArray()[1], { addr: buf.iova + 3 * MiB, len: 123, flags: 0 });
  const fresh = buf.toPhyr(0, buf.size);
  t.same(fresh.toArray(), [{ addr: buf.iova, len: buf.size, flags: 0 }]);
  t.equal(fn.calls.filter((c) => c.op === 'map').length, 1, 'a 3 MiB buffer is one 4 MiB chunk, one mapping');
  t.equal(fn.live.get(buf.iova)?.length, 4 * MiB);
  pool.close();
});

t.test('alignment option', async (t) => {
  const pool = new DmaPool(recorder(), { hugepages: 'off' });
  pool.alloc(4096);
  const b = pool.alloc(4096, { align: 64 * 1024 });
  t.equal(b.iova % (64 * 1024), 0);
  const c = pool.alloc(4096, { align: 8 * MiB });
  t.equal(c.iova % (8 * MiB), 0, 'alignment above the chunk size gets its own chunk');
  t.throws(() => pool.alloc(4096, { align: 3000 }), DmaArgumentError);
  pool.close();
});

t.test('free unmaps an empty chunk; close unmaps everything, idempotently', async (t) => {
  const fn = recorder();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  const a = pool.alloc(4096);
  const b = pool.alloc(4096);
  a.free();
  t.equal(fn.live.size, 1, 'chunk still mapped while b lives');
  b.free();
  t.equal(fn.live.size, 0, 'last free unmaps the chunk');
  t.same(pool.stats(), { chunks: 0, mappedBytes: 0, buffers: 0, pinnedMappings: 0, pendingFrees: 0 });
  const c = pool.alloc(10 * MiB);
  const d = pool.alloc(1);
  const io = pool.mapForIo(Buffer.alloc(100));
  t.equal(fn.live.size, 3);
  pool.close();
  pool.close();
  t.equal(fn.live.size, 0, 'no mapping left after close');
  const maps = fn.calls.filter((x) => x.op === 'map').length;
  const unmaps = fn.calls.filter((x) => x.op === 'unmap').length;
  t.equal(maps, unmaps, 'every map has its unmap');
  t.throws(() => c.bytes, { code: 'PHYR_DMA_CLOSED' });
  t.throws(() => d.toPhyr(0, 1), DmaStateError);
  t.throws(() => c.free(), { code: 'PHYR_DMA_CLOSED' });
  t.throws(() => io.release(), { code: 'PHYR_DMA_RELEASED' });
  t.throws(() => pool.alloc(1), { code: 'PHYR_DMA_CLOSED' });
  t.throws(() => pool.mapForIo(Buffer.alloc(1)), { code: 'PHYR_DMA_CLOSED' });
});

t.test('bad input and use after free are typed errors', async (t) => {
  const pool = new DmaPool(recorder(), { hugepages: 'off' });
  for (const size of [0, -1, 1.5, NaN, Infinity, 2 ** 60, 2 ** 45, '4096' as unknown as number]) {
    t.throws(() => pool.alloc(size), DmaArgumentError, `size ${String(size)}`);
  }
  const b = pool.alloc(8192);
  t.throws(() => b.toPhyr(-1, 1), { code: 'PHYR_DMA_BAD_ARGUMENT', message: /offset -1 is outside the 8192-byte buffer/ });
  t.throws(() => b.toPhyr(8192, 1), /outside the 8192-byte buffer/);
  t.throws(() => b.toPhyr(0, 0), /length 0 at offset 0 does not fit/);
  t.throws(() => b.toPhyr(8000, 193), /valid: 1 \.\. 192/);
  t.throws(() => b.toPhyr(0.5, 1), DmaArgumentError);
  t.throws(() => b.iovaAt(8192), DmaArgumentError);
  t.throws(() => b.iovaAt(-1), DmaArgumentError);
  b.free();
  t.throws(() => b.free(), { code: 'PHYR_DMA_FREED', message: /already freed/ });
  t.throws(() => b.bytes, { code: 'PHYR_DMA_FREED' });
  t.throws(() => b.iovaAt(0), { code: 'PHYR_DMA_FREED' });
  t.throws(() => b.toPhyr(0, 1), { code: 'PHYR_DMA_FREED' });
  t.throws(() => new DmaPool(recorder(), { hugepages: 'yes' as 'auto' }), /hugepages must be 'auto', 'require' or 'off'/);
  t.throws(() => new DmaPool(null as unknown as RecordingFunction), /needs a PciFunction/);
  t.throws(() => pool.mapForIo(Buffer.alloc(0)), /non-empty/);
  t.throws(() => pool.mapForIo([1, 2] as unknown as Uint8Array), DmaArgumentError);
  t.throws(() => pool.mapForIo(new Uint8Array(new SharedArrayBuffer(16))), /SharedArrayBuffer/);
  pool.close();
});

t.test('mapForIo: congruent IOVA, PINNED_FOR_IO, release unmaps, memory kept alive', async (t) => {
  const fn = recorder();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  const big = Buffer.alloc(3 * 4096);
  const view = big.subarray(4095, 4095 + 4099); // crosses two page boundaries
  view.fill(0xab);
  const io = pool.mapForIo(view);
  t.equal(io.phyr.length, 1);
  const e = io.phyr.toArray()[0];
  t.equal(e.len, 4099);
  t.equal(e.flags, PhyrFlags.PINNED_FOR_IO);
  t.equal(e.addr % 4096, native.pageOffset(view.buffer as ArrayBuffer, view.byteOffset), 'IOVA keeps the host page offset');
  t.ok(fn.read(e.addr, e.len).every((x) => x === 0xab), 'the device sees the caller bytes');
  io.release();
  t.equal(fn.live.size, 0, 'release unmaps');
  t.throws(() => io.release(), { code: 'PHYR_DMA_RELEASED' });
  // Appending to a caller's array.
  const out = new PhyrArray();
  const io2 = pool.mapForIo(new Uint8Array(10), out);
  t.equal(io2.phyr, out);
  io2.release();
  pool.close();
});

t.test('mapForIo of pool memory translates without a new mapping and pins the chunk', async (t) => {
  const fn = recorder();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  const b = pool.alloc(8192);
  const io = pool.mapForIo(b.bytes.subarray(100, 200));
  t.same(io.phyr.toArray(), [{ addr: b.iova + 100, len: 100, flags: 0 }]);
  t.equal(fn.calls.length, 1, 'no extra dmaMap');
  b.free();
  t.equal(fn.live.size, 1, 'the chunk stays mapped while the IO mapping lives');
  io.release();
  t.equal(fn.live.size, 0, 'and is unmapped after release');
  pool.close();
});

t.test('map failures leave nothing behind; unmap failures in close still unmap the rest', async (t) => {
  const fn = recorder();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  fn.failNextMap = new Error('boom');
  t.throws(() => pool.alloc(4096), /boom/);
  fn.failNextMap = new Error('boom2');
  t.throws(() => pool.mapForIo(Buffer.alloc(8)), /boom2/);
  t.same(pool.stats(), { chunks: 0, mappedBytes: 0, buffers: 0, pinnedMappings: 0, pendingFrees: 0 });
  const a = pool.alloc(4096);
  t.equal(a.iova, 4096 * 512, 'the IOVA of the failed chunk was returned and is reused');
  pool.alloc(4 * MiB);
  fn.failUnmap = new Error('unmap failed');
  t.throws(() => pool.close(), /unmap failed/);
  t.equal(fn.calls.filter((c) => c.op === 'unmap').length, 2, 'both chunks were attempted');
});

t.test('IOVA exhaustion in the pool is typed and says what is left', async (t) => {
  const fn = recorder([{ start: 0, end: 8 * MiB - 1 }]);
  const pool = new DmaPool(fn, { hugepages: 'off' });
  const a = pool.alloc(2 * MiB);
  pool.alloc(2 * MiB);
  pool.alloc(2 * MiB);
  const err = t.throws(() => pool.alloc(4 * MiB)) as IovaExhaustedError;
  t.type(err, IovaExhaustedError);
  t.equal(err.requested, 4 * MiB);
  t.equal(err.largestFree, 2 * MiB - 4096, 'the first page is never handed out');
  t.match(err.message, /no free IOVA range for 4194304 bytes/);
  a.free();
  t.ok(pool.alloc(2 * MiB), 'freed IOVA space is reusable');
  t.throws(() => pool.mapForIo(Buffer.alloc(4 * MiB)), IovaExhaustedError);
  pool.close();
  t.equal(fn.live.size, 0);
});
