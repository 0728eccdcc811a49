// VFIO through the kernel against QEMU's NVMe: container, regions, BAR access, DMA,
// several devices in one container, peer BAR mapping, MSI-X to eventfds.
import * as assert from 'node:assert/strict';
import { read32, read64 } from '../../../lib/mmio';
import { NVME } from '../../../spec/nvme';
import { readPciDevice } from '../../../lib/sysfs/pci';
import { detectBackend, mapPeerBar } from '../../../lib/vfio';
import { vfioNative } from '../../../lib/vfio/native';
import { asciiField, disable, enableAdmin, identifyController } from '../admin';
import { hugepage, peerFn, targetFn } from '../fixture';
import { sleep, test, waitFor } from '../harness';
import { TARGET } from '../topology';

test('vfio: backend detection reports the type1 container', () => {
  const b = detectBackend();
  assert.equal(b.using, 'type1');
  assert.equal(b.legacyContainer, true);
  assert.match(b.summary, /legacy container/);
});

test('vfio: open the target: type1v2 container, regions, MSI-X count, reset', () => {
  const fn = targetFn();
  assert.equal(fn.report.iommuType, 'type1v2');
  assert.ok(fn.barSize(0) >= 0x2000, `BAR0 is ${fn.barSize(0)} bytes`);
  assert.equal(fn.region(0).mmap, true);
  assert.equal(fn.barSize(2), 16 * 2 ** 20, 'BAR2 is the 16 MiB CMB');
  assert.ok(fn.report.msixVectors >= 1, 'MSI-X vectors offered');
  assert.ok(['done', 'unsupported'].includes(fn.report.reset), `reset: ${fn.report.reset}`);
  const cmd = fn.configRead(0x04, 2);
  assert.equal(cmd & 0x6, 0x6, 'memory space and bus mastering enabled');
  assert.equal(fn.configRead(0, 2), 0x1b36, 'QEMU vendor id through config space');
  assert.equal(fn.configRead(0x0a, 2), 0x0108, 'class: NVM controller');
});

test('vfio: IOVA ranges come from the container and avoid the PCI MMIO window', () => {
  const fn = targetFn();
  const ranges = fn.iovaRanges();
  assert.equal(ranges.length, 1);
  const bar0 = readPciDevice(TARGET)!.resources.find((r) => r.index === 0)!;
  for (const r of [...ranges, ...fn.container.iovaRanges()]) {
    assert.ok(r.end < bar0.start || r.start > bar0.end, `range 0x${r.start.toString(16)}-0x${r.end.toString(16)} avoids BAR0 at 0x${bar0.start.toString(16)}`);
    assert.ok(r.end < 0xfee00000 || r.start > 0xfeefffff, 'range avoids the MSI window');
  }
  assert.ok(ranges[0].end - ranges[0].start + 1 >= 2 ** 30, 'at least 1 GiB for the device');
});

test('vfio: CAP and VS read through the mmap\'d BAR0', () => {
  const bar = targetFn().bar(0);
  const vs = read32(bar, NVME.REG_VS);
  assert.equal(vs, 0x00010400, `VS 0x${vs.toString(16)} (QEMU 7.2 reports NVMe 1.4)`);
  const cap = read64(bar, NVME.REG_CAP);
  assert.equal(Number(cap & BigInt(NVME.CAP_MQES_MASK)), 2047, 'CAP.MQES');
  assert.equal(Number((cap >> BigInt(NVME.CAP_CMBS_SHIFT)) & 1n), 1, 'CAP.CMBS: the CMB is there');
});

test('vfio: a hugepage buffer maps and unmaps through the IOMMU', () => {
  const fn = targetFn();
  const mem = hugepage();
  const iova = fn.iovaRanges()[0].start + 2 ** 30;
  fn.dmaMap(mem, 0, mem.byteLength, iova, { read: true, write: true });
  assert.throws(() => fn.dmaMap(mem, 0, 4096, iova, { read: true, write: true }), /already mapped/);
  fn.dmaUnmap(iova, mem.byteLength);
  assert.throws(() => fn.dmaUnmap(iova, mem.byteLength), /no mapping/);
});

test('vfio: MSI-X vector 0 signals its eventfd when the admin CQ posts (Identify through DMA)', async () => {
  const fn = targetFn();
  const mem = hugepage();
  const iova = fn.iovaRanges()[0].start;
  fn.dmaMap(mem, 0, 3 * 4096, iova, { read: true, write: true });
  try {
    const [fd] = fn.enableMsix(1);
    const ring = { mem: new Uint8Array(mem, 0, 3 * 4096), iova };
    await enableAdmin(fn, ring);
    const { status, data } = await identifyController(fn, ring);
    assert.equal(status, 0, 'Identify succeeded');
    assert.equal(asciiField(data, 4, 24), 'phyr-vm-0', 'serial number came through DMA');
    let count = 0;
    await waitFor(() => (count += vfioNative().readEventfd(fd)) > 0, 5000, 'the MSI-X eventfd');
    assert.ok(count >= 1);
    await disable(fn);
    // Re-wiring replaces the set: the old fd is closed, new ones returned.
    const again = fn.enableMsix(2);
    assert.equal(again.length, 2);
    assert.throws(() => fn.enableMsix(fn.report.msixVectors + 1), /MSI-X vector count/);
    fn.enableMsix(0);
  } finally {
    fn.dmaUnmap(iova, 3 * 4096);
  }
});

test('vfio: a second controller joins the same container (one IOMMU domain)', () => {
  const a = targetFn();
  const b = peerFn();
  assert.equal(b.container, a.container);
  assert.equal(a.container.groupNumbers().length, 2);
  assert.notEqual(a.iommuGroup, b.iommuGroup);
  const [ra] = a.iovaRanges();
  const [rb] = b.iovaRanges();
  assert.ok(rb.start > ra.end || rb.end < ra.start, 'device IOVA windows do not overlap');
});

test('vfio: the peer\'s CMB (BAR2) maps for DMA in the shared container and reads back through its BAR', async () => {
  const b = peerFn();
  const m = mapPeerBar(b, 2, { offset: 0, length: 2 ** 20 });
  try {
    assert.equal(m.phyr.length, 1);
    assert.equal(m.phyr.flagsAt(0) & 2, 2, 'PEER_TO_PEER flag');
    assert.equal(m.phyr.addrAt(0), m.iova);
    // QEMU's CMB BAR is MMIO that only accepts accesses once CMBMSC.CRE is set? Writes and
    // reads of it through the BAR are the verification path peer-to-peer tests rely on.
    const words = new Uint32Array(m.view, 0, 4);
    words[0] = 0xc0ffee01;
    assert.equal(words[0], 0xc0ffee01, 'peer BAR memory round-trips through the BAR mapping');
    // The IOMMU mapping owns the BAR mapping: it is not unmapped under the device.
    assert.throws(() => vfioNative().unmapBuffer(m.view), /still DMA-mapped/);
    assert.ok(m.view.byteLength >= 2 ** 20, 'the BAR stays attached');
  } finally {
    m.release();
    m.release();
  }
  await sleep(0);
});
