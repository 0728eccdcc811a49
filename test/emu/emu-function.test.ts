// The embedded controller as a PciFunction: BAR, config space, IOMMU map/unmap, MSI-X
// eventfds, lifecycle, and a first admin/IO exchange through raw queues.
import t from 'tap';
import * as fs from 'fs';
import { EmuArena, EmuTargetError, openEmu } from '../../emu';
import { read32, read64 } from '../../lib/mmio';
import { openPciFunction } from '../../targets';
import { NVME } from '../../spec/nvme';
import { RawController, statusField } from '../../conformance/raw-queue';
import { addonRoom } from '../../lib/native';

const alignedBuffer = addonRoom<{ alignedBuffer(n: number): ArrayBuffer }>('emu').alignedBuffer;

t.test('open, registers, config space, close', async (t) => {
  const fn = openPciFunction('emu:qsize=256,queues=4');
  t.teardown(() => fn.close());
  t.equal(fn.kind, 'emu');
  t.equal(fn.name, 'emu:qsize=256,queues=4');
  t.equal(fn.barSize(0), 8192);
  t.equal(fn.barSize(2), 0);
  t.throws(() => fn.bar(2), /BAR 2 is absent/);
  const bar = fn.bar(0);
  t.equal(fn.bar(0), bar, 'the BAR ArrayBuffer is cached');
  // The device thread publishes CAP/VS on creation.
  const cap = read64(bar, NVME.REG_CAP);
  t.equal(Number(cap & 0xffffn), 255);
  t.equal(read32(bar, NVME.REG_VS), 0x10400);
  t.equal(fn.configRead(0, 2), 0x1234);
  t.equal(fn.configRead(0x0a, 2), 0x0108);
  t.equal(fn.configRead(0x04, 2) & 0x4, 0, 'bus mastering is off after creation');
  fn.configWrite(0x04, 2, 0x6);
  t.equal(fn.configRead(0x04, 2), 0x6);
  fn.configWrite(0x00, 2, 0xdead);
  t.equal(fn.configRead(0x00, 2), 0x1234, 'vendor id is read-only');
  t.throws(() => fn.configRead(1, 2), /naturally aligned/);
  t.throws(() => fn.configRead(4096, 1), /config offset/);
  t.same(fn.iovaRanges(), [{ start: 0x100000, end: 2 ** 48 - 1 }]);
  const fds = fn.enableMsix(5);
  t.equal(fds.length, 5);
  for (const fd of fds) t.ok(fs.fstatSync(fd), `fd ${fd} is open`);
  t.throws(() => fn.enableMsix(6), /1..5 vectors/);
  fn.close();
  fn.close();
  t.throws(() => fn.bar(0), /closed/);
  t.throws(() => fn.configRead(0, 4), /closed/);
});

t.test('dmaMap / dmaUnmap validation', async (t) => {
  const fn = openEmu();
  t.teardown(() => fn.close());
  const mem = alignedBuffer(65536);
  const rw = { read: true, write: true };
  t.throws(() => fn.dmaMap(mem, 0, 0, 0x200000, rw), /non-empty range/);
  t.throws(() => fn.dmaMap(mem, 0, 65537, 0x200000, rw), /length/);
  t.throws(() => fn.dmaMap(mem, 4096, 65536, 0x200000, rw), /inside the 65536-byte buffer/);
  t.throws(() => fn.dmaMap(mem, 0, 4096, 0x1000, rw), /outside the IOMMU's range/);
  t.throws(() => fn.dmaMap(mem, 0, 4096, 0x200008, rw), /same offset within a 4 KiB page/);
  t.throws(() => fn.dmaMap(mem, 0, 4096, 0x200000, { read: false, write: false }), /neither read nor write/);
  t.throws(() => fn.dmaMap(mem, 0, 4096, -1, rw), /iova must be an integer/);
  fn.dmaMap(mem, 0, 8192, 0x200000, rw);
  fn.dmaMap(mem, 8192, 8192, 0x202000, { read: true, write: false });
  t.equal(fn.mappingCount(), 2);
  t.throws(() => fn.dmaMap(mem, 0, 4096, 0x201000, rw), /overlaps/);
  t.throws(() => fn.dmaUnmap(0x201000, 4096), /split/);
  t.throws(() => fn.dmaUnmap(0x300000, 4096), /nothing is mapped/);
  fn.dmaUnmap(0x200000, 0x4000);
  t.equal(fn.mappingCount(), 0);
});

t.test('every target key opens a device', async (t) => {
  const fn = openEmu('emu:sgl=dword,cmb=64K,latency=10us-20us,iops=100000,bw=1G,inflight=8,faults=delay:time=1us+fail:lba=5:status=0x281');
  t.teardown(() => fn.close());
  t.equal(fn.barSize(2), 65536);
  t.equal(fn.options.inflight, 8);
  t.throws(() => openEmu('emu:nope=1'), EmuTargetError);
  t.throws(() => openEmu('emu:faults=explode'), /unknown kind 'explode'/);
  t.throws(() => fn.inject('fail'), /fail needs nth=N or lba=L/);
  fn.inject('clear');
});

t.test('raw admin and IO commands through the IOMMU', async (t) => {
  const fn = openEmu('emu:ns=2,lbads=12,size=16M,mdts=4');
  const arena = new EmuArena(fn);
  const raw = new RawController(fn, arena);
  t.teardown(async () => {
    await raw.close();
    arena.close();
    fn.close();
  });
  t.equal(await raw.enable(), 'ready');
  const idc = await raw.identify(NVME.CNS_CONTROLLER);
  t.equal(idc.completion.status, 0);
  t.equal(idc.data[77], 4, 'MDTS');
  t.equal(new DataView(idc.data.buffer, idc.data.byteOffset).getUint32(516, true), 2, 'NN');
  const nq = await raw.setNumberOfQueues(2, 2);
  t.equal(nq.dw0, 0x00010001);
  const fds = fn.enableMsix(3);
  t.equal(fds.length, 3);
  const q = await raw.createIoQueuePair(1, 16, { interrupts: true });
  const buf = raw.alloc(8192);
  buf.bytes.forEach((_, i) => (buf.bytes[i] = i & 0xff));
  const w = await q.run({ opcode: NVME.IO_WRITE, nsid: 2, dptr1: buf.iova, dptr2: buf.iovaAt(4096), cdw10: 7, cdw12: 1 });
  t.equal(w.status, 0);
  t.equal(w.sqId, 1);
  const back = raw.alloc(8192);
  const r = await q.run({ opcode: NVME.IO_READ, nsid: 2, dptr1: back.iova, dptr2: back.iovaAt(4096), cdw10: 7, cdw12: 1 });
  t.equal(r.status, 0);
  t.same(Buffer.from(back.bytes), Buffer.from(buf.bytes));
  const bad = await q.run({ opcode: NVME.IO_READ, nsid: 2, dptr1: 0x7000000, cdw10: 7 });
  t.equal(bad.status, statusField(NVME.SCT_GENERIC, NVME.SC_DATA_TRANSFER_ERROR));
  t.equal(fn.faultCount(), 1);
  t.match(fn.faultLog(), [{ iova: 0x7000000, length: 4096, access: 'write', site: 'data', sqid: 1, opcode: NVME.IO_READ }]);
  fn.clearFaults();
  t.equal(fn.faultCount(), 0);
  const s = fn.stats();
  t.equal(s.ioCommands, 3);
  t.equal(s.bytesWritten, 8192);
  t.equal(s.ioOpcodes[String(NVME.IO_READ)], 2);
  t.ok(s.interrupts >= 1, 'the IO CQ raised interrupts');
  await raw.deleteIoQueuePair(1);
});

t.test('a peer shares the IOMMU table', async (t) => {
  const a = openEmu();
  const b = a.attachPeer('emu:serial=PEER');
  t.teardown(() => {
    a.close();
    b.close();
  });
  const mem = alignedBuffer(4096);
  a.dmaMap(mem, 0, 4096, 0x400000, { read: true, write: true });
  t.equal(b.mappingCount(), 1);
  b.dmaUnmap(0x400000, 4096);
  t.equal(a.mappingCount(), 0);
  t.equal(b.options.serial, 'PEER');
});
