// Native memory is freed by the ArrayBuffer finalizer, and only once nothing refers to it:
// not while the pool maps it, not while the caller still holds a view.
import t from 'tap';
import { DmaPool } from '../../lib/dma';
import { memoryNative } from '../../lib/dma/native';
import { collect } from './fixtures/gc';
import { RecordingFunction } from './fixtures/recording-function';

const native = memoryNative();
const live = (): number => native.stats().liveRegions;

t.test('a mapped chunk is kept alive by the pool, a view by its holder', async (t) => {
  await collect();
  const base = live();
  const fn = new RecordingFunction();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  let buf: ReturnType<DmaPool['alloc']> | null = pool.alloc(4096);
  buf.bytes[0] = 42;
  const ref = new WeakRef(buf);
  buf = null;
  await collect();
  t.equal(live(), base + 1, 'still allocated while mapped, though no buffer object is held');
  t.equal(fn.live.size, 1);
  // The pool keeps the buffer object too (it must be able to unmap and invalidate it).
  let again = ref.deref();
  t.ok(again, 'the pool holds its live buffers');
  let view: Uint8Array | null = again!.bytes;
  again!.free();
  again = undefined;
  t.equal(fn.live.size, 0, 'unmapped');
  await collect();
  t.equal(live(), base + 1, 'the caller still holds a view: memory stays');
  t.equal(view[0], 42);
  view = null;
  await collect();
  t.equal(live(), base, 'freed by the finalizer once nothing refers to it');
  pool.close();
});

t.test('close unmaps; memory goes when the last view goes', async (t) => {
  await collect();
  const base = live();
  const fn = new RecordingFunction();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  let keep: Uint8Array | null = pool.alloc(3 * 1024 * 1024).bytes;
  pool.alloc(2 * 1024 * 1024); // does not fit the 1 MiB left in the first 4 MiB chunk
  t.equal(live(), base + 2);
  pool.close();
  t.equal(fn.live.size, 0);
  await collect();
  t.equal(live(), base + 1, 'the chunk with a live view stays');
  keep[0] = 1;
  keep = null;
  await collect();
  t.equal(live(), base);
});

t.test('a caller buffer mapped for IO stays alive until release', async (t) => {
  const fn = new RecordingFunction();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  let mem: Uint8Array | null = new Uint8Array(64);
  mem.fill(7);
  const weak = new WeakRef(mem.buffer);
  const io = pool.mapForIo(mem);
  mem = null;
  await collect();
  t.ok(weak.deref(), 'the mapping holds the memory');
  t.equal(fn.read(io.phyr.addrAt(0), 64)[63], 7);
  io.release();
  pool.close();
});
