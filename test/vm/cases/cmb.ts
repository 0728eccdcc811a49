// Controller memory buffers as IO memory, with hand-built commands (no driver): the
// target's own CMB enabled at the IOVA phyr uses for it (CMBMSC.CBA), and the peer
// controller's CMB reached peer-to-peer through the shared container. Data is verified
// only through BAR reads of the CMB, never through a staging copy.
import * as assert from 'node:assert/strict';
import { read32, read64, write64 } from '../../../lib/mmio';
import { mapPeerBar } from '../../../lib/vfio';
import { RawController, type RawQueue } from '../../../conformance/raw-queue';
import { NVME } from '../../../spec/nvme';
import { closePool, peerFn, poolFor, targetFn } from '../fixture';
import { test } from '../harness';

const LBA = 512;

function pattern(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Reads `n` bytes of a BAR through aligned 32-bit MMIO loads. */
function barBytes(bar: ArrayBuffer, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i += 4) dv.setUint32(i, read32(bar, offset + i), true);
  return out;
}

/** Writes bytes into a BAR through 32-bit stores (CMB contents written by the CPU). */
function fillBar(bar: ArrayBuffer, offset: number, data: Uint8Array): void {
  const words = new Uint32Array(bar, offset, data.length / 4);
  words.set(new Uint32Array(data.buffer, data.byteOffset, data.length / 4));
}

/** Compares byte arrays, naming the first difference (no giant diffs). */
function sameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const zeros = got.every((b) => b === 0);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) assert.fail(`${what}: first difference at byte ${i} (got 0x${got[i].toString(16)}, want 0x${want[i].toString(16)})${zeros ? '; the whole range reads zero' : ''}`);
  }
}

async function rw(q: RawQueue, opcode: number, lba: number, blocks: number, addr: number): Promise<void> {
  // At most two pages here: PRP2 is the second page (NVMe 1.4 §4.3); addr is page-aligned.
  assert.ok(blocks * LBA <= 8192 && addr % 4096 === 0);
  const c = await q.run({ opcode, nsid: 1, dptr1: addr, dptr2: blocks * LBA > 4096 ? addr + 4096 : 0, cdw10: lba, cdw12: blocks - 1 });
  assert.equal(c.status, 0, `${opcode === NVME.IO_READ ? 'Read' : 'Write'} at LBA ${lba} into 0x${addr.toString(16)}: status 0x${c.status.toString(16)}`);
}

async function withRawTarget(body: (raw: RawController, q: RawQueue) => Promise<void>): Promise<void> {
  const raw = new RawController(targetFn(), poolFor(targetFn()), { timeoutMs: 20000 });
  try {
    assert.equal(await raw.enable(), 'ready');
    const n = await raw.setNumberOfQueues(1, 1);
    assert.equal(n.status, 0);
    const q = await raw.createIoQueuePair(1, 16);
    await body(raw, q);
  } finally {
    await raw.close();
    closePool(targetFn());
  }
}

test('cmb: IO reads into and writes from the target\'s own CMB (CBA = its IOVA), verified through BAR2', async () => {
  const fn = targetFn();
  const bar0 = fn.bar(0);
  await withRawTarget(async (raw, q) => {
    // NVMe 1.4 §3.1.12/§3.1.13: CMBLOC/CMBSZ are readable once CMBMSC.CRE is set.
    write64(bar0, NVME.REG_CMBMSC, NVME.CMBMSC_CRE);
    const loc = read32(bar0, NVME.REG_CMBLOC);
    const sz = read32(bar0, NVME.REG_CMBSZ);
    assert.equal(loc & NVME.CMBLOC_BIR_MASK, 2, 'the CMB is BAR2');
    assert.ok(sz & NVME.CMBSZ_RDS && sz & NVME.CMBSZ_WDS, `CMBSZ 0x${sz.toString(16)} allows read and write data`);
    const size = (sz >>> NVME.CMBSZ_SZ_SHIFT) * 4096 * 16 ** ((sz >>> NVME.CMBSZ_SZU_SHIFT) & 0xf);
    assert.equal(size, fn.barSize(2));
    // The controller decodes [CBA, CBA+size) itself; the same IOVA is also mapped in the
    // IOMMU (to the BAR), so nothing else in the domain can land there.
    const cmb = mapPeerBar(fn, 2, { offset: 0, length: 2 ** 20 });
    try {
      write64(bar0, NVME.REG_CMBMSC, cmb.iova + NVME.CMBMSC_CRE + NVME.CMBMSC_CMSE);
      assert.equal(Number(read64(bar0, NVME.REG_CMBMSC) & ~0xfffn), cmb.iova, 'CBA latched');
      const host = raw.alloc(8 * LBA);
      const data = pattern(1, 8 * LBA);
      host.bytes.set(data);
      await rw(q, NVME.IO_WRITE, 0, 8, host.iova);
      await rw(q, NVME.IO_READ, 0, 8, cmb.iova + 0x1000);
      sameBytes(barBytes(cmb.view, 0x1000, 8 * LBA), data, 'read data landed in the CMB');
      const fromCmb = pattern(2, 8 * LBA);
      fillBar(cmb.view, 0x3000, fromCmb);
      await rw(q, NVME.IO_WRITE, 64, 8, cmb.iova + 0x3000);
      host.bytes.fill(0);
      await rw(q, NVME.IO_READ, 64, 8, host.iova);
      sameBytes(host.bytes.subarray(0, 8 * LBA), fromCmb, 'write data came from the CMB');
    } finally {
      write64(bar0, NVME.REG_CMBMSC, 0);
      cmb.release();
    }
  });
});

test('cmb: IO into and out of the peer controller\'s CMB (peer-to-peer), verified through the peer\'s BAR', async () => {
  const peer = peerFn();
  const m = mapPeerBar(peer, 2, { offset: 0, length: 2 ** 20 });
  try {
    assert.equal(m.phyr.flagsAt(0) & 2, 2);
    await withRawTarget(async (raw, q) => {
      const host = raw.alloc(16 * LBA);
      const data = pattern(3, 16 * LBA);
      host.bytes.set(data);
      await rw(q, NVME.IO_WRITE, 128, 16, host.iova);
      await rw(q, NVME.IO_READ, 128, 16, m.iova + 0x2000);
      sameBytes(barBytes(m.view, 0x2000, 16 * LBA), data, 'the target wrote into the peer\'s CMB');
      const fromPeer = pattern(4, 16 * LBA);
      fillBar(m.view, 0x8000, fromPeer);
      await rw(q, NVME.IO_WRITE, 256, 16, m.iova + 0x8000);
      host.bytes.fill(0);
      await rw(q, NVME.IO_READ, 256, 16, host.iova);
      sameBytes(host.bytes, fromPeer, 'the target read the peer\'s CMB');
    });
  } finally {
    m.release();
  }
});
