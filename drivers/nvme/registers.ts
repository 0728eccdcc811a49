// Controller registers (NVMe 1.4 §3.1) and the enable / disable / shutdown sequences.
import { read32, read64, write32, write64 } from '../../lib/mmio';
import { ControllerFatalError, DeviceGoneError } from './errors';
import { NVME } from '../../spec/nvme';
import { PCI } from '../../spec/pci';

const N = NVME;

/** Decoded CAP register (§3.1.1). */
export interface ControllerCap {
  /** Maximum queue entries (1's based: MQES + 1). */
  maxQueueEntries: number;
  contiguousQueuesRequired: boolean;
  /** Worst-case time to become ready, in ms (CAP.TO × 500). */
  timeoutMs: number;
  /** Doorbell stride exponent: stride = 4 << dstrd bytes. */
  dstrd: number;
  nssrs: boolean;
  css: number;
  /** Smallest / largest memory page size in bytes. */
  mpsMin: number;
  mpsMax: number;
  cmbs: boolean;
}

/** Reads and decodes CAP. */
export function readCap(bar: ArrayBuffer): ControllerCap {
  const cap = read64(bar, N.REG_CAP);
  if (cap === 0xffff_ffff_ffff_ffffn) throw new DeviceGoneError('CAP reads all ones');
  const bits = (shift: number, width: number): number => Number((cap >> BigInt(shift)) & ((1n << BigInt(width)) - 1n));
  return {
    maxQueueEntries: bits(0, 16) + 1,
    contiguousQueuesRequired: bits(N.CAP_CQR_SHIFT, 1) === 1,
    timeoutMs: Math.max(1, bits(N.CAP_TO_SHIFT, 8)) * N.CAP_TO_UNIT_MS,
    dstrd: bits(N.CAP_DSTRD_SHIFT, 4),
    nssrs: bits(N.CAP_NSSRS_SHIFT, 1) === 1,
    css: bits(N.CAP_CSS_SHIFT, 8),
    mpsMin: 2 ** (12 + bits(N.CAP_MPSMIN_SHIFT, 4)),
    mpsMax: 2 ** (12 + bits(N.CAP_MPSMAX_SHIFT, 4)),
    cmbs: bits(N.CAP_CMBS_SHIFT, 1) === 1,
  };
}

/** Reads CSTS, throwing DeviceGoneError when the device no longer answers. */
export function readCsts(bar: ArrayBuffer): number {
  const csts = read32(bar, N.REG_CSTS);
  if (csts === 0xffffffff) throw new DeviceGoneError('CSTS reads all ones');
  return csts;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until CSTS.RDY equals `ready`, within `timeoutMs`. */
export async function waitReady(bar: ArrayBuffer, ready: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let spin = 0; ; spin++) {
    const csts = readCsts(bar);
    if (((csts & N.CSTS_RDY) !== 0) === ready) return;
    // Enabling while CFS is set cannot succeed; disabling must still wait for RDY=0.
    if (ready && (csts & N.CSTS_CFS) !== 0) throw new ControllerFatalError('CSTS.CFS set while enabling');
    if (Date.now() > deadline) {
      throw new ControllerFatalError(`CSTS.RDY did not become ${ready ? 1 : 0} within CAP.TO (${timeoutMs} ms)`);
    }
    await sleep(spin < 20 ? 0 : 1);
  }
}

/** CC.EN = 0, then waits for RDY = 0 (§3.1.5, §7.6.1). */
export async function disable(bar: ArrayBuffer, cap: ControllerCap): Promise<void> {
  const cc = read32(bar, N.REG_CC);
  if ((cc & N.CC_EN) !== 0) write32(bar, N.REG_CC, cc & ~N.CC_EN);
  await waitReady(bar, false, cap.timeoutMs);
}

/** Programs the admin queue registers (AQA, ASQ, ACQ). */
export function setAdminQueue(bar: ArrayBuffer, size: number, sqIova: number, cqIova: number): void {
  write32(bar, N.REG_AQA, ((size - 1) | ((size - 1) << N.AQA_ACQS_SHIFT)) >>> 0);
  write64(bar, N.REG_ASQ, sqIova);
  write64(bar, N.REG_ACQ, cqIova);
}

/** Writes CC with the NVM command set, page size, entry sizes and EN = 1, then waits RDY = 1. */
export async function enable(bar: ArrayBuffer, cap: ControllerCap, pageSize: number): Promise<void> {
  const mps = Math.log2(pageSize) - 12;
  const cc =
    (0 << N.CC_CSS_SHIFT) |
    (mps << N.CC_MPS_SHIFT) |
    (0 << N.CC_AMS_SHIFT) |
    (N.IOSQES << N.CC_IOSQES_SHIFT) |
    (N.IOCQES << N.CC_IOCQES_SHIFT) |
    N.CC_EN;
  write32(bar, N.REG_CC, cc >>> 0);
  await waitReady(bar, true, cap.timeoutMs);
}

/** Normal shutdown: CC.SHN = 01b, wait for CSTS.SHST = 10b (§7.6.2). Returns false on timeout. */
export async function shutdown(bar: ArrayBuffer, timeoutMs: number): Promise<boolean> {
  const cc = read32(bar, N.REG_CC);
  write32(bar, N.REG_CC, ((cc & ~(3 << N.CC_SHN_SHIFT)) | (N.CC_SHN_NORMAL << N.CC_SHN_SHIFT)) >>> 0);
  const deadline = Date.now() + timeoutMs;
  for (let spin = 0; ; spin++) {
    const shst = (readCsts(bar) & N.CSTS_SHST_MASK) >> N.CSTS_SHST_SHIFT;
    if (shst === N.SHST_COMPLETE) return true;
    if (Date.now() > deadline) return false;
    await sleep(spin < 20 ? 0 : 1);
  }
}


/** Minimal config-space access (a PciFunction satisfies it). */
export interface ConfigSpace {
  configRead(offset: number, size: 1 | 2 | 4): number;
  configWrite(offset: number, size: 1 | 2 | 4, value: number): void;
}

/** Turns on memory decoding and bus mastering (without it the device may not DMA). */
export function enableBusMaster(fn: ConfigSpace): void {
  const cmd = fn.configRead(PCI.CFG_COMMAND, 2);
  const want = cmd | PCI.COMMAND_MEMORY | PCI.COMMAND_BUS_MASTER;
  if (want !== cmd) fn.configWrite(PCI.CFG_COMMAND, 2, want);
}

/** MSI-X vectors the function offers (table size + 1), or 0 without an MSI-X capability. */
export function msixVectorCount(fn: ConfigSpace): number {
  // PCI 3.0 §6.7: a chain of dword-aligned pointers. At most 48 capabilities fit after the
  // 64-byte header, so more hops mean a looping (malformed) list.
  let ptr = fn.configRead(PCI.CFG_CAPABILITY_LIST, 1) & PCI.CAP_PTR_MASK;
  for (let hops = 0; ptr !== 0 && hops < 48; hops++) {
    if (fn.configRead(ptr + PCI.CAP_ID, 1) === PCI.CAP_ID_MSIX) return (fn.configRead(ptr + PCI.MSIX_CTRL, 2) & PCI.MSIX_CTRL_TABLE_SIZE_MASK) + 1;
    ptr = fn.configRead(ptr + PCI.CAP_NEXT, 1) & PCI.CAP_PTR_MASK;
  }
  return 0;
}
