// A minimal hand-built admin queue for the VFIO cases (no driver code): enable the
// controller with a one-page admin SQ/CQ in DMA memory, submit one Identify Controller
// and reap its completion. Enough to prove BAR access, DMA through the IOMMU and MSI-X
// delivery to an eventfd; the driver and the conformance raw queue do the real work.
import { read32, read64, write32, write64 } from '../../lib/mmio';
import type { PciFunction } from '../../lib/pci/function';
import { NVME } from '../../spec/nvme';
import { waitFor } from './harness';

/** Where the queues and the data page live: 3 pages of `mem` mapped at `iova`. */
export interface AdminRing {
  mem: Uint8Array;
  iova: number;
}

const QSIZE = 8;

async function waitReady(bar: ArrayBuffer, ready: boolean): Promise<void> {
  const cap = read64(bar, NVME.REG_CAP);
  const timeoutMs = Number((cap >> BigInt(NVME.CAP_TO_SHIFT)) & 0xffn) * NVME.CAP_TO_UNIT_MS || 5000;
  await waitFor(() => ((read32(bar, NVME.REG_CSTS) & NVME.CSTS_RDY) !== 0) === ready, timeoutMs, `CSTS.RDY=${ready ? 1 : 0}`);
}

/** Disables, programs the admin queue registers and enables the controller (NVMe 1.4 §7.6.1). */
export async function enableAdmin(fn: PciFunction, ring: AdminRing): Promise<void> {
  const bar = fn.bar(0);
  write32(bar, NVME.REG_CC, 0);
  await waitReady(bar, false);
  ring.mem.fill(0, 0, 3 * 4096);
  write32(bar, NVME.REG_AQA, ((QSIZE - 1) << 16) | (QSIZE - 1));
  write64(bar, NVME.REG_ASQ, ring.iova);
  write64(bar, NVME.REG_ACQ, ring.iova + 4096);
  write32(bar, NVME.REG_CC, NVME.CC_EN | (NVME.IOSQES << NVME.CC_IOSQES_SHIFT) | (NVME.IOCQES << NVME.CC_IOCQES_SHIFT));
  await waitReady(bar, true);
}

/** Disables the controller. */
export async function disable(fn: PciFunction): Promise<void> {
  write32(fn.bar(0), NVME.REG_CC, 0);
  await waitReady(fn.bar(0), false);
}

/** Submits Identify Controller as the first admin command and returns (status, data page). */
export async function identifyController(fn: PciFunction, ring: AdminRing): Promise<{ status: number; data: Uint8Array }> {
  const bar = fn.bar(0);
  const sqe = new DataView(ring.mem.buffer, ring.mem.byteOffset, NVME.SQE_SIZE);
  sqe.setUint32(0, NVME.ADMIN_IDENTIFY | (0x42 << 16), true); // CID 0x42
  sqe.setBigUint64(24, BigInt(ring.iova + 2 * 4096), true); // PRP1: the data page
  sqe.setUint32(40, NVME.CNS_CONTROLLER, true); // CDW10
  const dstrd = Number((read64(bar, NVME.REG_CAP) >> BigInt(NVME.CAP_DSTRD_SHIFT)) & 0xfn);
  write32(bar, NVME.REG_DOORBELLS, 1); // SQ 0 tail = 1 (release: the SQE is written first)
  const cqe = new DataView(ring.mem.buffer, ring.mem.byteOffset + 4096, NVME.CQE_SIZE);
  await waitFor(() => ((cqe.getUint32(12, true) >>> NVME.CQE_PHASE_BIT) & 1) === 1, 10000, 'the Identify completion');
  const dw3 = cqe.getUint32(12, true);
  write32(bar, NVME.REG_DOORBELLS + (4 << dstrd), 1); // CQ 0 head = 1
  if ((dw3 & 0xffff) !== 0x42) throw new Error(`completion CID ${dw3 & 0xffff}, expected 0x42`);
  return { status: (dw3 >>> NVME.CQE_SC_SHIFT) & 0x7fff, data: ring.mem.subarray(2 * 4096, 3 * 4096) };
}

/** The ASCII field [from, to) of an identify page, trimmed. */
export const asciiField = (data: Uint8Array, from: number, to: number): string => Buffer.from(data.subarray(from, to)).toString('latin1').trim();
