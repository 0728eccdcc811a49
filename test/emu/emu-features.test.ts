// Emulator-only behaviour: file backend persistence, timing model, fault injection (at
// creation and at run time), Abort of queued and held commands, queue deletion with held
// commands, peer-to-peer into a second function's CMB, the SGL descriptor limit.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EmuArena, openEmu, type EmuFunction } from '../../emu';
import { NVME } from '../../spec/nvme';
import { RawController, statusField, writeSglDescriptor, type RawQueue } from '../../conformance/raw-queue';

interface Rig {
  fn: EmuFunction;
  raw: RawController;
  q: RawQueue;
  close(): Promise<void>;
}

async function rig(target: string): Promise<Rig> {
  const fn = openEmu(target);
  const arena = new EmuArena(fn);
  const raw = new RawController(fn, arena);
  await raw.enable();
  await raw.setNumberOfQueues(1, 1);
  const q = await raw.createIoQueuePair(1, 32);
  return {
    fn,
    raw,
    q,
    close: async () => {
      await raw.close();
      arena.close();
      fn.close();
    },
  };
}

const read = (buf: { iova: number }, lba: number): { opcode: number; nsid: number; dptr1: number; cdw10: number } => ({ opcode: NVME.IO_READ, nsid: 1, dptr1: buf.iova, cdw10: lba });

t.test('file backend: data survives closing and reopening; flush is fdatasync', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-emu-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'ns.img');
  const target = `emu:backend=file:${file},size=1M,ns=2`;
  let r = await rig(target);
  t.equal(fs.statSync(file).size, 2 * 2 ** 20, 'the file holds both namespaces');
  const buf = r.raw.alloc(4096);
  for (let i = 0; i < 512; i++) buf.bytes[i] = (i * 3) & 0xff;
  t.equal((await r.q.run({ opcode: NVME.IO_WRITE, nsid: 2, dptr1: buf.iova, cdw10: 9 })).status, 0, 'write (no flush)');
  t.equal((await r.q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: buf.iova, cdw10: 1 })).status, 0, 'second write');
  t.equal((await r.q.run({ opcode: NVME.IO_FLUSH, nsid: 1 })).status, 0, 'flush');
  await r.close();
  // A completed write is in the file as soon as it completes (page cache), flushed or not.
  const raw = fs.readFileSync(file);
  t.same(raw.subarray(2 ** 20 + 9 * 512, 2 ** 20 + 10 * 512), Buffer.from(buf.bytes.subarray(0, 512)), 'namespace 2 block 9 is in the file at its offset');
  r = await rig(target);
  const back = r.raw.alloc(4096);
  t.equal((await r.q.run({ opcode: NVME.IO_READ, nsid: 2, dptr1: back.iova, cdw10: 9 })).status, 0);
  t.same(Buffer.from(back.bytes.subarray(0, 512)), Buffer.from(buf.bytes.subarray(0, 512)), 'the reopened controller reads what was written');
  await r.close();
  t.throws(() => openEmu(`emu:backend=file:${dir}`), { code: 'PHYR_EMU_BACKEND', message: /is a directory; backend=file takes a regular file/ });
});

t.test('timing model: fixed latency, in-device cap, iops cap', async (t) => {
  const r = await rig('emu:latency=3ms,inflight=2');
  t.teardown(() => r.close());
  const buf = r.raw.alloc(4096);
  let t0 = process.hrtime.bigint();
  await r.q.run(read(buf, 0));
  const one = Number(process.hrtime.bigint() - t0) / 1e6;
  t.ok(one >= 3, `one read takes >= 3 ms (${one.toFixed(2)} ms)`);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 6; i++) r.q.submit(read(buf, i));
  for (let i = 0; i < 6; i++) t.equal((await r.q.reap()).status, 0);
  const six = Number(process.hrtime.bigint() - t0) / 1e6;
  t.ok(six >= 9, `6 reads with 2 in the device take >= 3 x 3 ms (${six.toFixed(2)} ms)`);
  const r2 = await rig('emu:iops=2000');
  t.teardown(() => r2.close());
  const b2 = r2.raw.alloc(4096);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) r2.q.submit(read(b2, i));
  for (let i = 0; i < 20; i++) await r2.q.reap();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  t.ok(ms >= 9, `20 reads at 2000 IOPS take >= 9.5 ms (${ms.toFixed(2)} ms)`);
});

t.test('fault injection at creation: fail every Nth, fail an LBA, drop, delay', async (t) => {
  const r = await rig('emu:faults=fail:nth=3:op=read:status=0x281+fail:lba=100:status=0x4280');
  t.teardown(() => r.close());
  const buf = r.raw.alloc(4096);
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await r.q.run(read(buf, i))).status);
  t.same(statuses, [0, 0, 0x281, 0, 0, 0x281], 'every third read fails with Unrecovered Read Error');
  t.equal((await r.q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: buf.iova, cdw10: 98, cdw12: 3 })).status, 0x4280, 'a write covering LBA 100 fails');
  t.equal((await r.q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: buf.iova, cdw10: 101 })).status, 0, 'LBA 101 is fine');
  const d = await rig('emu:faults=drop:nth=2+delay:time=4ms:op=flush');
  t.teardown(() => d.close());
  t.equal((await d.q.run(read(buf, 0))).status, 0);
  d.q.submit(read(buf, 0));
  t.ok(await d.q.noCompletionWithin(30), 'the second completion is dropped');
  const t0 = process.hrtime.bigint();
  const f = await d.q.run({ opcode: NVME.IO_FLUSH, nsid: 1 });
  t.equal(f.status, 0);
  t.ok(Number(process.hrtime.bigint() - t0) / 1e6 >= 4, 'a delayed flush takes >= 4 ms');
});

t.test('run-time injection: stop fetching, Abort of a queued command, resume, CFS', async (t) => {
  const r = await rig('emu');
  t.teardown(() => r.close());
  const buf = r.raw.alloc(4096);
  r.fn.inject('stop:qid=1');
  await new Promise((res) => setTimeout(res, 5));
  const cid = r.q.submit(read(buf, 0));
  t.ok(await r.q.noCompletionWithin(20), 'a stopped queue is not fetched');
  const a = await r.raw.adminCommand({ opcode: NVME.ADMIN_ABORT, cdw10: (1 | (cid << 16)) >>> 0 });
  t.equal(a.status, 0);
  t.equal(a.dw0 & 1, 0, 'Abort says aborted');
  r.fn.inject('resume:qid=1');
  const c = await r.q.reap();
  t.equal(c.cid, cid);
  t.equal(c.status, statusField(NVME.SCT_GENERIC, NVME.SC_ABORTED_BY_REQUEST, false), 'the queued command completes as aborted');
  t.equal((await r.q.run(read(buf, 0))).status, 0, 'the queue works again');
  r.fn.inject('cfs');
  t.ok(await r.raw.waitCsts(NVME.CSTS_CFS, NVME.CSTS_CFS, 1000), 'CSTS.CFS raised');
  t.throws(() => r.fn.inject('stop'), /stop needs qid=Q/);
});

t.test('Abort of a command held by the timing model; SQ deletion completes held commands', async (t) => {
  const r = await rig('emu:latency=300ms');
  t.teardown(() => r.close());
  const buf = r.raw.alloc(4096);
  const cid = r.q.submit(read(buf, 0));
  await new Promise((res) => setTimeout(res, 10));
  t.equal(r.fn.pendingCompletions(), 1, 'the device holds the completion');
  const t0 = Date.now();
  const a = await r.raw.adminCommand({ opcode: NVME.ADMIN_ABORT, cdw10: (1 | (cid << 16)) >>> 0 });
  t.equal(a.dw0 & 1, 0, 'aborted');
  const c = await r.q.reap();
  t.equal(c.status, statusField(NVME.SCT_GENERIC, NVME.SC_ABORTED_BY_REQUEST, false));
  t.ok(Date.now() - t0 < 250, 'long before the latency elapsed');
  r.q.submit(read(buf, 1));
  r.q.submit(read(buf, 2));
  await new Promise((res) => setTimeout(res, 10));
  t.equal((await r.raw.adminCommand({ opcode: NVME.ADMIN_DELETE_SQ, cdw10: 1 })).status, 0);
  const s1 = await r.q.reap();
  const s2 = await r.q.reap();
  t.same([s1.status, s2.status], [8, 8].map((sc) => statusField(NVME.SCT_GENERIC, sc, false)), 'both complete as aborted by SQ deletion');
  t.equal(r.fn.pendingCompletions(), 0);
});

t.test('peer-to-peer: one function DMAs into a second function CMB through the shared IOMMU', async (t) => {
  const r = await rig('emu');
  const peer = r.fn.attachPeer('emu:cmb=1M,serial=PEER1');
  t.teardown(async () => {
    peer.close();
    await r.close();
  });
  const cmb = peer.bar(2);
  t.equal(cmb.byteLength, 2 ** 20);
  const p2pIova = 0x4000_0000;
  r.fn.dmaMap(cmb, 0, cmb.byteLength, p2pIova, { read: true, write: true });
  const src = r.raw.alloc(4096);
  src.bytes.fill(0xc3, 0, 512);
  t.equal((await r.q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: src.iova, cdw10: 50 })).status, 0);
  t.equal((await r.q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: p2pIova + 4096, cdw10: 50 })).status, 0, 'read into the peer BAR');
  const view = new Uint8Array(cmb, 4096, 512);
  t.ok(view.every((b) => b === 0xc3), 'the data is in the peer CMB');
  t.equal(peer.mappingCount(), r.fn.mappingCount(), 'one table');
  r.fn.dmaUnmap(p2pIova, cmb.byteLength);
});

t.test('SGL descriptor limit: more than 4096 descriptors -> Invalid Number of SGL Descriptors', async (t) => {
  const r = await rig('emu:sgl=on');
  t.teardown(() => r.close());
  const segBuf = r.raw.alloc(4097 * 16);
  const v = new DataView(segBuf.bytes.buffer, segBuf.bytes.byteOffset, segBuf.size);
  for (let i = 0; i < 4097; i++) writeSglDescriptor(v, 16 * i, { addr: segBuf.iova, len: 0, type: NVME.SGL_TYPE_DATA_BLOCK });
  const c = await r.q.run({ opcode: NVME.IO_READ, nsid: 1, psdt: NVME.PSDT_SGL_MPTR_CONTIG, sgl1: { addr: segBuf.iova, len: 4097 * 16, type: NVME.SGL_TYPE_LAST_SEGMENT } });
  t.equal(c.status, statusField(NVME.SCT_GENERIC, NVME.SC_INVALID_SGL_DESCRIPTOR_COUNT));
});
