// Small helpers for validate's own raw-queue cases (p2p): bring a controller up with one IO
// queue pair, learn the namespace's geometry, and locate and enable a controller memory
// buffer. The raw queues themselves come from conformance/raw-queue.ts.
import { read32, read64, write32, write64 } from '../../../lib/mmio';
import type { IovaRange } from '../../../lib/pci/function';
import { formatInUse, parseIdentifyNamespace } from '../../../drivers/nvme';
import { NVME } from '../../../spec/nvme';
import { formatStatus, type RawController, type RawQueue } from '../../../conformance/raw-queue';

/** A controller enabled with IO queue 1 and the namespace under test. */
export interface RawIo {
  q: RawQueue;
  nsid: number;
  lbaSize: number;
  blocks: number;
}

/** Thrown when setup fails; the message says which step. */
export class RawSetupError extends Error {
  override name = 'RawSetupError';
}

/** Enables the controller, creates IO queue pair 1 and reads namespace `nsid`'s geometry. */
export async function rawIoSetup(raw: RawController, nsid: number): Promise<RawIo> {
  if ((await raw.enable()) !== 'ready') throw new RawSetupError('the controller set CSTS.CFS on enable');
  const idns = await raw.identify(NVME.CNS_NAMESPACE, nsid);
  if (idns.completion.status) throw new RawSetupError(`Identify Namespace ${nsid} failed: ${formatStatus(idns.completion.status)}`);
  const ns = parseIdentifyNamespace(idns.data);
  const blocks = ns.nsze;
  if (!blocks) throw new RawSetupError(`namespace ${nsid} is not active (NSZE = 0)`);
  const lbaSize = 2 ** ns.lbafs[formatInUse(ns)].ds;
  const nq = await raw.setNumberOfQueues(1, 1);
  if (nq.status) throw new RawSetupError(`Set Features Number of Queues failed: ${formatStatus(nq.status)}`);
  const q = await raw.createIoQueuePair(1, 16);
  return { q, nsid, lbaSize, blocks };
}

/** Register access of a controller (RawController satisfies it; barRegisters() builds one). */
export interface RegisterAccess {
  reg32(off: number): number;
  reg64(off: number): number;
  writeReg64(off: number, v: number): void;
}

/** Register access over a BAR0 mapping (for a peer controller nobody drives). */
export function barRegisters(bar0: ArrayBuffer): RegisterAccess {
  return {
    reg32: (off) => read32(bar0, off),
    reg64: (off) => Number(read64(bar0, off)),
    writeReg64: (off, v) => write64(bar0, off, v),
  };
}

/** A controller memory buffer as CMBLOC/CMBSZ describe it. */
export interface CmbInfo {
  /** BAR holding it. */
  bir: number;
  /** Byte offset of the CMB inside that BAR. */
  offset: number;
  /** Bytes. */
  size: number;
  /** CMBSZ support bits. */
  sqs: boolean;
  lists: boolean;
  rds: boolean;
  wds: boolean;
}

/** How long a register write may take to show (the embedded controller applies writes on its own thread). */
const REGISTER_SETTLE_MS = 200;

async function settle(done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + REGISTER_SETTLE_MS;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
  return true;
}

/**
 * Reads CAP.CMBS and, when set, turns on CMBMSC.CRE so CMBLOC/CMBSZ become readable
 * (NVMe 1.4 §3.1.12, §3.1.13, §3.1.16). Returns undefined when the controller has no CMB.
 */
export async function cmbInfo(raw: RegisterAccess): Promise<CmbInfo | undefined> {
  const cap = raw.reg64(NVME.REG_CAP);
  const cmbs = Math.floor(cap / 2 ** NVME.CAP_CMBS_SHIFT) & 1;
  if (!cmbs) return undefined;
  raw.writeReg64(NVME.REG_CMBMSC, NVME.CMBMSC_CRE);
  await settle(() => raw.reg32(NVME.REG_CMBSZ) !== 0);
  const loc = raw.reg32(NVME.REG_CMBLOC);
  const sz = raw.reg32(NVME.REG_CMBSZ);
  if (!sz) return undefined;
  const unit = 4096 * 16 ** ((sz >>> NVME.CMBSZ_SZU_SHIFT) & 0xf);
  return {
    bir: loc & NVME.CMBLOC_BIR_MASK,
    offset: (loc >>> NVME.CMBLOC_OFST_SHIFT) * unit,
    size: (sz >>> NVME.CMBSZ_SZ_SHIFT) * unit,
    sqs: !!(sz & NVME.CMBSZ_SQS),
    lists: !!(sz & NVME.CMBSZ_LISTS),
    rds: !!(sz & NVME.CMBSZ_RDS),
    wds: !!(sz & NVME.CMBSZ_WDS),
  };
}

/**
 * Enables the CMB at controller base address `cba` (CMBMSC.CMSE with CBA, NVMe 1.4
 * §3.1.16); returns an error sentence when the controller refused it (CMBSTS.CBAI).
 */
export async function enableCmb(raw: RegisterAccess, cba: number): Promise<string | undefined> {
  raw.writeReg64(NVME.REG_CMBMSC, cba + NVME.CMBMSC_CMSE + NVME.CMBMSC_CRE);
  await settle(() => (raw.reg32(NVME.REG_CMBSTS) & NVME.CMBSTS_CBAI) !== 0 || raw.reg64(NVME.REG_CMBMSC) === cba + NVME.CMBMSC_CMSE + NVME.CMBMSC_CRE);
  if (raw.reg32(NVME.REG_CMBSTS) & NVME.CMBSTS_CBAI) return `CMBSTS.CBAI: the controller rejected CBA 0x${cba.toString(16)}`;
  const back = raw.reg64(NVME.REG_CMBMSC);
  if (!(back & NVME.CMBMSC_CMSE)) return `CMBMSC read back 0x${back.toString(16)}: CMSE did not stick`;
  return undefined;
}

/**
 * A device address for `size` bytes that the DMA pool will not hand out: the top of the
 * highest IOVA range, aligned to `size` (the pool allocates first-fit from the bottom).
 */
export function iovaAtTop(ranges: readonly IovaRange[], size: number): number {
  const align = 2 ** Math.ceil(Math.log2(Math.max(size, 4096)));
  const top = [...ranges].sort((a, b) => b.end - a.end).find((r) => Math.floor((r.end + 1 - size) / align) * align >= r.start);
  if (!top) throw new RawSetupError(`no IOVA range holds ${size} bytes`);
  return Math.floor((top.end + 1 - size) / align) * align;
}

/** Reads `length` bytes of a BAR with aligned 32-bit MMIO loads (the CPU's view of device memory). */
export function readBar(bar: ArrayBuffer, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const v = new DataView(out.buffer);
  for (let i = 0; i < length; i += 4) v.setUint32(i, read32(bar, offset + i), true);
  return out;
}

/** Offset and values of the first difference of two byte arrays, or undefined. */
export function firstDifference(a: Uint8Array, b: Uint8Array): string | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `first difference at byte ${i}: expected 0x${b[i].toString(16).padStart(2, '0')}, got 0x${a[i].toString(16).padStart(2, '0')}`;
  }
  return a.length === b.length ? undefined : `lengths differ (${a.length} vs ${b.length})`;
}

/** Writes bytes into a BAR with aligned 32-bit MMIO stores. */
export function writeBar(bar: ArrayBuffer, offset: number, data: Uint8Array): void {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < data.length; i += 4) write32(bar, offset + i, v.getUint32(i, true));
}
