// Memory safety and ownership of addresses through the namespace API and the batch API:
// buffers transferred or detached while their IO is queued or in flight (caller buffers,
// pool buffers, phyr arrays), free() with IO in flight, a pool buffer of another
// controller, data pointers aimed at the driver's own queues, and a phyr array changed
// after the call. Nothing may crash, and no IO may land anywhere but its own memory.
import t from 'tap';
import * as v8 from 'v8';
import * as vm from 'vm';
import * as phyr from '../../index';
import type { EmuFunction } from '../../emu';
import type { DmaBuffer } from '../../lib/dma';
import { memoryNative } from '../../lib/dma/native';
import { PhyrArray } from '../../lib/phyr';

v8.setFlagsFromString('--expose-gc');
v8.setFlagsFromString('--allow-natives-syntax');
const gc = vm.runInNewContext('gc') as () => void;
// Detaches an ArrayBuffer the way a transfer does, for memory Node will not transfer
// (external buffers are copied by structuredClone in Node 20; later Node versions detach
// them with ArrayBuffer.prototype.transfer()).
const detach = new Function('ab', '%ArrayBufferDetach(ab)') as (ab: ArrayBuffer) => void;
const transfer = (b: Uint8Array): void => {
  structuredClone(b, { transfer: [b.buffer as ArrayBuffer] });
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Collects garbage and lets deferred finalizers (region frees) run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await tick();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Settles every promise, counting outcomes by error code ('ok' for success). */
async function outcomes(ps: Promise<void>[]): Promise<Record<string, number>> {
  const r = await Promise.all(ps.map((p) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e))));
  const m: Record<string, number> = {};
  for (const x of r) m[x] = (m[x] ?? 0) + 1;
  return m;
}

async function withCtrl(target: string, body: (ctrl: phyr.Controller, fn: EmuFunction) => Promise<void>, options: phyr.OpenOptions = {}): Promise<void> {
  const ctrl = await phyr.open(target, { timeoutMs: 3000, ...options });
  try {
    await body(ctrl, ctrl.fn as EmuFunction);
  } finally {
    await ctrl.close();
  }
}

/** The driver's own memory of the namespace API's IO queue (SQ, CQ, list pages). */
function ioQueueMemory(ctrl: phyr.Controller): { sq: DmaBuffer; cq: DmaBuffer; lists: DmaBuffer } {
  const io = (ctrl as unknown as { io: { buffers: DmaBuffer[] } }).io;
  return { sq: io.buffers[0], cq: io.buffers[1], lists: io.buffers[2] };
}

t.test('caller buffers transferred while 128 reads of 1 MiB are in flight (emu:size=256M,iops=2000)', async (t) => {
  await withCtrl('emu:size=256M,iops=2000', async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    const mappings = fn.mappingCount();
    const bufs: Uint8Array[] = [];
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 128; i++) {
      const b = new Uint8Array(1 << 20);
      bufs.push(b);
      ps.push(ns.read(i * 256, b));
    }
    const settled = outcomes(ps);
    for (const b of bufs) transfer(b);
    bufs.length = 0;
    await collect();
    // Reuse the heap the transferred buffers lived in while the device still writes.
    const junk: Buffer[] = [];
    for (let i = 0; i < 200; i++) junk.push(Buffer.alloc(1 << 20, 0x5a));
    const r = await settled;
    t.same(r, { PHYR_BUFFER_DETACHED: 128 }, 'every read rejects: the view it was to fill is gone');
    t.ok(junk.every((j) => j[0] === 0x5a && j[j.length - 1] === 0x5a), 'the device wrote nowhere else');
    t.equal(fn.mappingCount(), mappings, 'every IO mapping was removed');
    t.equal(ctrl.pool.stats().pinnedMappings, 0);
    t.equal(fn.faultCount(), 0, 'no IOMMU fault: the memory stayed mapped for the whole IO');
  });
});

t.test('caller buffers transferred while queued (SQ stopped): reads reject, writes complete', async (t) => {
  await withCtrl('emu:size=64M', async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    const data = Buffer.alloc(1 << 20, 0xc3);
    await ns.write(0, data);
    fn.inject('stop:qid=1');
    const reads: Uint8Array[] = [];
    const writes: Uint8Array[] = [];
    const ps: Promise<void>[] = [];
    const ws: Promise<void>[] = [];
    for (let i = 0; i < 32; i++) {
      const r = new Uint8Array(1 << 20);
      reads.push(r);
      ps.push(ns.read(0, r));
      const w = new Uint8Array(1 << 20).fill(i);
      writes.push(w);
      ws.push(ns.write(4096 + i * 2048, w));
    }
    const readsSettled = outcomes(ps);
    const writesSettled = outcomes(ws);
    await tick();
    for (const b of [...reads, ...writes]) transfer(b);
    reads.length = 0;
    writes.length = 0;
    await collect();
    const junk: Buffer[] = [];
    for (let i = 0; i < 100; i++) junk.push(Buffer.alloc(1 << 20, 0x11));
    fn.inject('resume:qid=1');
    t.same(await readsSettled, { PHYR_BUFFER_DETACHED: 32 });
    t.same(await writesSettled, { ok: 32 }, 'writes complete: the driver kept their memory alive');
    // The written data is what the buffers held at submission.
    const back = Buffer.alloc(1 << 20);
    await ns.read(4096 + 7 * 2048, back);
    t.ok(back.every((x) => x === 7), 'write 7 reached the medium intact');
    t.ok(junk.every((j) => j[0] === 0x11 && j[j.length - 1] === 0x11));
    t.equal(fn.faultCount(), 0);
  });
});

t.test('a buffer detached before the call is refused up front', async (t) => {
  await withCtrl('emu:size=16M', async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    const before = fn.stats().ioCommands;
    const b = new Uint8Array(4096);
    transfer(b);
    await t.rejects(ns.read(0, b), { code: 'PHYR_BUFFER_DETACHED', message: /detached/ });
    await t.rejects(ns.write(0, b), { code: 'PHYR_BUFFER_DETACHED' });
    await t.rejects(ns.readBytes(3, b), { code: 'PHYR_BUFFER_DETACHED' });
    const p = new PhyrArray();
    const d = ctrl.pool.alloc(4096);
    d.toPhyr(0, 4096, p);
    detach(p.buffer);
    await t.rejects(ns.read(0, p), { code: 'PHYR_BUFFER_DETACHED', message: /phyr array/ });
    t.throws(() => ns.explain(p), { code: 'PHYR_BUFFER_DETACHED' });
    t.equal(fn.stats().ioCommands, before, 'nothing reached the controller');
    d.free();
  });
});

t.test('pool chunks detached with IO in flight: memory stays alive while mapped, freed after unmap', async (t) => {
  const liveRegions = (): number => memoryNative().stats().liveRegions;
  await withCtrl('emu:size=256M', async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    await collect();
    const regions0 = liveRegions();
    fn.inject('stop:qid=1');
    let bufs: DmaBuffer[] | undefined = [];
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) {
      const b = ctrl.pool.alloc(1 << 20);
      bufs.push(b);
      ps.push(ns.read(i * 256, b));
    }
    const settled = outcomes(ps);
    await tick();
    const regions1 = liveRegions();
    t.ok(regions1 >= regions0 + 31, `64 MiB of pool buffers live in new regions (${regions1 - regions0})`);
    // Structured clone copies external memory instead of moving it:
    const view = bufs[0].bytes;
    structuredClone(view, { transfer: [view.buffer as ArrayBuffer] });
    t.equal(bufs[0].bytes.byteLength, 1 << 20, 'a transfer of pool memory copies it; the buffer still works');
    // A real detach (as ArrayBuffer.prototype.transfer() does): the chunks' memory loses its last JS owner.
    const seen = new Set<ArrayBuffer>();
    for (const b of bufs) seen.add(b.bytes.buffer as ArrayBuffer);
    for (const ab of seen) detach(ab);
    seen.clear();
    await collect();
    t.equal(liveRegions(), regions1, 'no region was freed: the IOMMU mappings own them');
    const junk: Buffer[] = [];
    for (let i = 0; i < 100; i++) junk.push(Buffer.alloc(1 << 20, 0x22));
    fn.inject('resume:qid=1');
    t.same(await settled, { PHYR_BUFFER_DETACHED: 64 }, 'reads reject: their buffers have no CPU view left');
    t.throws(() => bufs?.[0].bytes, { code: 'PHYR_BUFFER_DETACHED' });
    await t.rejects(ns.write(0, bufs[1]), { code: 'PHYR_BUFFER_DETACHED' });
    // A new buffer never comes from a detached chunk (a helper, so no reference to it stays).
    await (async () => {
      const fresh = ctrl.pool.alloc(4096);
      fresh.bytes.fill(9);
      await ns.write(0, fresh);
      fresh.free();
    })();
    t.equal(fn.faultCount(), 0);
    for (const b of bufs) b.free();
    bufs = undefined;
    await collect();
    t.equal(liveRegions(), regions0, 'after free() unmapped the chunks, every region was freed (no leak)');
    t.ok(junk.every((j) => j[0] === 0x22));
  });
});

t.test('pool regions are freed once the pool unmaps them (no leak)', async (t) => {
  const liveRegions = (): number => memoryNative().stats().liveRegions;
  await collect();
  const before = liveRegions();
  await withCtrl('emu:size=16M', async (ctrl) => {
    const ns = ctrl.namespace(1);
    let b: DmaBuffer | undefined = ctrl.pool.alloc(8 << 20);
    await ns.write(0, b);
    await ns.read(0, b);
    b.free();
    b = undefined;
  });
  await collect();
  t.equal(liveRegions(), before, 'every region of the closed controller was freed');
});

t.test('free() with a read in flight defers the release: the next alloc is never overwritten', async (t) => {
  await withCtrl('emu:size=16M', async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    await ns.write(0, Buffer.alloc(1 << 20, 0xee));
    const a = ctrl.pool.alloc(1 << 20);
    fn.inject('stop:qid=1');
    const read = ns.read(0, a);
    await tick();
    a.free();
    t.throws(() => a.bytes, { code: 'PHYR_DMA_FREED' }, 'dead for the caller at once');
    t.equal(ctrl.pool.stats().pendingFrees, 1, 'held back while the read runs');
    const b = ctrl.pool.alloc(1 << 20);
    t.not(b.iova, a.iova, 'the next allocation does not get the busy IOVAs');
    b.bytes.fill(0x77);
    fn.inject('resume:qid=1');
    await t.rejects(read, { code: 'PHYR_DMA_FREED', message: /freed while the read was in flight/ });
    t.ok(b.bytes.every((x) => x === 0x77), 'the new buffer was not overwritten by the old read');
    t.equal(ctrl.pool.stats().pendingFrees, 0, 'released once the read settled');
    // Writes with free() in flight complete (their data was taken from kept memory).
    const w = ctrl.pool.alloc(4096);
    w.bytes.fill(0x31);
    fn.inject('stop:qid=1');
    const wp = ns.write(100, w);
    await tick();
    w.free();
    fn.inject('resume:qid=1');
    await wp;
    const back = Buffer.alloc(4096);
    await ns.read(100, back);
    t.ok(back.every((x) => x === 0x31));
    // A phyr array over a pool buffer pins that buffer too.
    const c = ctrl.pool.alloc(8192);
    const p = c.toPhyr(0, 8192);
    fn.inject('stop:qid=1');
    const pr = ns.read(0, p);
    await tick();
    c.free();
    const d = ctrl.pool.alloc(8192);
    t.not(d.iova, c.iova);
    fn.inject('resume:qid=1');
    await t.rejects(pr, { code: 'PHYR_DMA_FREED' });
    // A caller's own mapForIo mapping released while an IO into it is queued: the unmap
    // waits for the IO, which completes into the caller's buffer.
    const mine = Buffer.alloc(4096);
    const m = ctrl.pool.mapForIo(mine);
    fn.inject('stop:qid=1');
    const mr = ns.read(0, m.phyr);
    await tick();
    m.release();
    t.equal(ctrl.pool.stats().pinnedMappings, 1, 'still mapped while the read runs');
    fn.inject('resume:qid=1');
    await mr;
    t.ok(mine.every((x) => x === 0xee), 'the read landed in the caller buffer');
    t.equal(ctrl.pool.stats().pinnedMappings, 0, 'unmapped once it settled');
    b.free();
    d.free();
    t.equal(fn.faultCount(), 0);
  });
});

t.test("a pool buffer of another controller is refused; B's medium keeps its data", async (t) => {
  const a = await phyr.open('emu:size=16M');
  const b = await phyr.open('emu:size=16M');
  try {
    const nsB = b.namespace(1);
    await nsB.write(0, Buffer.alloc(4096, 0x42));
    const bufA = a.pool.alloc(4096);
    bufA.bytes.fill(0x99);
    await t.rejects(nsB.write(0, bufA), { code: 'PHYR_DMA_FOREIGN_BUFFER', message: /another controller/ });
    await t.rejects(nsB.read(0, bufA), { code: 'PHYR_DMA_FOREIGN_BUFFER' });
    await t.rejects(nsB.readBytes(1, bufA), { code: 'PHYR_DMA_FOREIGN_BUFFER' });
    t.throws(() => nsB.explain(bufA), { code: 'PHYR_DMA_FOREIGN_BUFFER' });
    const back = Buffer.alloc(4096);
    await nsB.read(0, back);
    t.ok(back.every((x) => x === 0x42), "B's medium is unchanged (no zeros)");
    // A look-alike object is no DmaBuffer either.
    const fake = { iova: bufA.iova, size: 4096, bytes: bufA.bytes, hugepageBacked: false, toPhyr: bufA.toPhyr.bind(bufA), iovaAt: (o: number) => bufA.iova + o, free: () => undefined };
    await t.rejects(a.namespace(1).write(0, fake), { code: 'PHYR_DMA_FOREIGN_BUFFER', message: /not a DmaBuffer/ });
    bufA.free();
  } finally {
    await a.close();
    await b.close();
  }
});

t.test("data pointers at the driver's own queue memory are refused before submission", async (t) => {
  await withCtrl('emu:size=16M', async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    const { sq, cq, lists } = ioQueueMemory(ctrl);
    const before = fn.stats().ioCommands;
    for (const [name, m] of [['CQ', cq], ['SQ', sq], ['list pages', lists]] as const) {
      const p = PhyrArray.from([{ addr: m.iova, len: 4096 }]);
      await t.rejects(ns.read(0, p), { code: 'PHYR_DMA_NOT_DATA', kind: 'driver-internal', index: 0, message: /entry 0 .*queue or PRP\/SGL list memory/ }, `read into the ${name}`);
      await t.rejects(ns.write(0, p), { code: 'PHYR_DMA_NOT_DATA' }, `write from the ${name}`);
    }
    // The second entry is the bad one: the error names it.
    const good = ctrl.pool.alloc(4096);
    const mixed = good.toPhyr(0, 4096);
    mixed.push(cq.iova + 4096, 4096);
    await t.rejects(ns.read(0, mixed), { code: 'PHYR_DMA_NOT_DATA', index: 1 });
    // Unmapped and free pool space.
    await t.rejects(ns.read(0, PhyrArray.from([{ addr: 0x7000_0000_0000, len: 4096 }])), { code: 'PHYR_DMA_NOT_DATA', kind: 'unmapped' });
    await t.rejects(ns.read(0, PhyrArray.from([{ addr: good.iova + 4096 * 200, len: 4096 }])), { code: 'PHYR_DMA_NOT_DATA' }, 'free pool space');
    // A range that starts in a data buffer and runs past it.
    await t.rejects(ns.read(0, PhyrArray.from([{ addr: good.iova, len: 8192 }])), { code: 'PHYR_DMA_NOT_DATA' });
    // A duck-typed buffer pointing at the CQ, and a CPU view over the CQ's chunk.
    const duck = { iova: cq.iova, size: 4096, toPhyr: (o: number, l: number) => PhyrArray.from([{ addr: cq.iova + o, len: l }]) };
    await t.rejects(ns.read(0, duck as unknown as DmaBuffer), { code: 'PHYR_DMA_FOREIGN_BUFFER' });
    const cqView = new Uint8Array(cq.bytes.buffer, cq.bytes.byteOffset, 4096);
    await t.rejects(ns.read(0, cqView), { code: 'PHYR_DMA_NOT_DATA', kind: 'driver-internal' });
    t.throws(() => ns.explain(cq), { code: 'PHYR_DMA_NOT_DATA' });
    t.equal(fn.stats().ioCommands, before, 'nothing reached the controller');
    // The queue still works (nothing overwrote its completions).
    await ns.write(0, good);
    await ns.read(0, good);
    good.free();
    t.equal(fn.faultCount(), 0);
  });
});

t.test('batch API: setEntry refuses queue memory and unmapped ranges, accepts data buffers', async (t) => {
  await withCtrl('emu:size=16M', async (ctrl) => {
    const qp = await ctrl.createQueuePair({ size: 16 });
    const ns = ctrl.namespace(1);
    const { cq } = ioQueueMemory(ctrl);
    const own = (ctrl as unknown as { userQueues: Set<{ qp: phyr.QueuePair; buffers: DmaBuffer[] }> }).userQueues;
    const mine = [...own].find((r) => r.qp === qp)?.buffers ?? [];
    t.equal(mine.length, 3);
    for (const m of [cq, ...mine]) t.throws(() => qp.setEntry(0, m.iova, 4096), { code: 'PHYR_DMA_NOT_DATA', kind: 'driver-internal' });
    t.throws(() => qp.setEntry(0, 0x7000_0000_0000, 4096), { code: 'PHYR_DMA_NOT_DATA', kind: 'unmapped' });
    const buf = ctrl.pool.alloc(8192);
    buf.bytes.fill(0x5c);
    qp.setEntry(0, buf.iova, 4096);
    qp.setEntry(1, buf.iovaAt(4096), 4096);
    qp.setIo(0, phyr.NVME.IO_WRITE, ns.nsid, 0, 8192 / ns.lbaSize, ns.lbaSize, 0, 2, 7);
    t.equal(qp.submitBatch(0, 1), 1);
    let n = 0;
    for (let i = 0; i < 1000 && n === 0; i++) {
      n = qp.reap();
      if (n === 0) await new Promise((r) => setTimeout(r, 1));
    }
    t.equal(n, 1, 'the write completed');
    const back = Buffer.alloc(8192);
    await ns.read(0, back);
    t.ok(back.every((x) => x === 0x5c));
    buf.free();
    t.throws(() => qp.setEntry(0, buf.iova, 4096), { code: 'PHYR_DMA_NOT_DATA' }, 'a freed buffer is no data memory');
    await qp.close();
  });
});

t.test('a phyr array changed after read() returned does not move the DMA target', async (t) => {
  await withCtrl('emu:size=16M', async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    await ns.write(0, Buffer.alloc(4096, 0xab));
    const a = ctrl.pool.alloc(4096);
    const b = ctrl.pool.alloc(4096);
    b.bytes.fill(0x01);
    const p = a.toPhyr(0, 4096);
    const read = ns.read(0, p);
    // Before the microtask flush: retarget the array at b.
    p.clear();
    b.toPhyr(0, 4096, p);
    await read;
    t.ok(a.bytes.every((x) => x === 0xab), 'the data went where the array pointed at call time');
    t.ok(b.bytes.every((x) => x === 0x01), 'the later target was not touched');
    // Detaching the array's memory after the call is harmless too.
    const q = a.toPhyr(0, 4096);
    a.bytes.fill(0);
    const r2 = ns.read(0, q);
    detach(q.buffer);
    await r2;
    t.ok(a.bytes.every((x) => x === 0xab));
    a.free();
    b.free();
    t.equal(fn.faultCount(), 0);
  });
});

