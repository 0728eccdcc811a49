// The p2p suite: the controller moves data into and out of device memory instead of host
// memory — its own controller memory buffer (addressed through CMBMSC.CBA) and a peer
// device's BAR mapped into the same IOMMU domain — and the result is checked through the
// CPU's own BAR mapping, not through the controller. Cases are not-applicable when the
// device lacks what they need and skipped when no peer was given.
import { NVME } from '../../../spec/nvme';
import { formatStatus, type RawController, type RawQueue } from '../../../conformance/raw-queue';
import { fillBlocks, verifyBlock } from '../pattern';
import type { CaseOutcome, ValidateCase, ValidateContext } from '../types';
import { barRegisters, cmbInfo, enableCmb, firstDifference, iovaAtTop, rawIoSetup, readBar, writeBar, type CmbInfo, type RawIo } from './raw-io';

/** Bytes moved by each p2p command: one 4 KiB page (PRP1 alone describes it). */
const XFER = 4096;

function rw(io: RawIo, opcode: number, lba: number, dptr: number): Parameters<RawQueue['run']>[0] {
  return { opcode, nsid: io.nsid, dptr1: dptr, cdw10: lba % 2 ** 32, cdw11: Math.floor(lba / 2 ** 32), cdw12: XFER / io.lbaSize - 1 };
}

function describeCmd(what: string, io: RawIo, lba: number, dptr: number): string {
  return `${what} nsid=${io.nsid} slba=${lba} nlb=${XFER / io.lbaSize - 1} (0's based) PRP1=0x${dptr.toString(16)}`;
}

/** A marker byte that differs from every byte of `data` at position 0 (so a no-op DMA shows). */
function markerFor(data: Uint8Array): Uint8Array {
  const fill = data.every((b) => b === 0xa5) ? 0x5a : 0xa5;
  return new Uint8Array(data.length).fill(fill);
}

interface CmbSetup {
  raw: RawController;
  io: RawIo;
  cmb: CmbInfo;
  cba: number;
  bar: ArrayBuffer;
}

/** Locates the CMB, enables it at a CBA the pool never uses, and enables the controller. */
async function ownCmb(ctx: ValidateContext, need: 'rds' | 'wds'): Promise<CmbSetup | CaseOutcome> {
  const raw = ctx.raw as RawController;
  const cmb = await cmbInfo(raw);
  if (!cmb) return { status: 'not-applicable', reason: 'the controller has no controller memory buffer (CAP.CMBS = 0 or CMBSZ = 0)' };
  if (!cmb[need]) return { status: 'not-applicable', reason: `CMBSZ.${need.toUpperCase()} = 0: the CMB may not hold ${need === 'rds' ? 'read' : 'write'} data` };
  if (cmb.size < XFER) return { status: 'not-applicable', reason: `the CMB holds ${cmb.size} bytes, less than one ${XFER}-byte transfer` };
  const io = await rawIoSetup(raw, ctx.nsid);
  if (io.lbaSize > XFER) return { status: 'not-applicable', reason: `LBA size ${io.lbaSize} exceeds the ${XFER}-byte transfer the case uses` };
  // The CBA is the address commands use for the CMB; with an IOMMU it is an IOVA (NVMe 1.4
  // §3.1.16). Pick one the DMA pool never hands out.
  const cba = iovaAtTop(ctx.fn.iovaRanges(), cmb.size);
  const refused = await enableCmb(raw, cba);
  if (refused) return { status: 'fail', expected: 'CMBMSC.CMSE with a CBA to enable the CMB', received: refused, sent: `CMBMSC <- 0x${(cba + 3).toString(16)}` };
  ctx.log(`CMB: BAR${cmb.bir} offset 0x${cmb.offset.toString(16)}, ${cmb.size} bytes, CBA 0x${cba.toString(16)}`);
  return { raw, io, cmb, cba, bar: ctx.fn.bar(cmb.bir) };
}

const isOutcome = (x: unknown): x is CaseOutcome => typeof (x as CaseOutcome).status === 'string';

/** Turns the CMB off again (CMBMSC = 0) so later cases' addresses are not taken for it. */
function disableCmb(raw: RawController): void {
  if (Math.floor(raw.reg64(NVME.REG_CAP) / 2 ** NVME.CAP_CMBS_SHIFT) & 1) raw.writeReg64(NVME.REG_CMBMSC, 0);
}

async function withCmb(ctx: ValidateContext, need: 'rds' | 'wds', body: (s: CmbSetup) => Promise<CaseOutcome>): Promise<CaseOutcome> {
  try {
    const s = await ownCmb(ctx, need);
    return isOutcome(s) ? s : await body(s);
  } finally {
    disableCmb(ctx.raw as RawController);
  }
}

async function cmbReadCase(ctx: ValidateContext): Promise<CaseOutcome> {
  return withCmb(ctx, 'rds', (s) => cmbRead(s));
}

async function cmbRead(s: CmbSetup): Promise<CaseOutcome> {
  const lba = 0;
  const host = s.raw.alloc(XFER);
  const c1 = await s.io.q.run(rw(s.io, NVME.IO_READ, lba, host.iova));
  if (c1.status) return { status: 'fail', sent: describeCmd('Read into host memory', s.io, lba, host.iova), expected: 'success', received: formatStatus(c1.status) };
  const expected = host.bytes.slice(0, XFER);
  writeBar(s.bar, s.cmb.offset, markerFor(expected));
  const sent = describeCmd('Read into the CMB', s.io, lba, s.cba);
  const c2 = await s.io.q.run(rw(s.io, NVME.IO_READ, lba, s.cba));
  if (c2.status) return { status: 'fail', sent, expected: 'success (CMBSZ.RDS = 1 allows read data in the CMB)', received: formatStatus(c2.status) };
  const diff = firstDifference(readBar(s.bar, s.cmb.offset, XFER), expected);
  if (diff) return { status: 'fail', sent, expected: 'the CMB, read through the BAR, to hold the same bytes as a read into host memory', received: diff };
  return { status: 'pass', detail: `${XFER} bytes of LBA ${lba} landed in the CMB at BAR${s.cmb.bir}+0x${s.cmb.offset.toString(16)}` };
}

async function cmbWriteCase(ctx: ValidateContext): Promise<CaseOutcome> {
  return withCmb(ctx, 'wds', (s) => cmbWrite(s));
}

async function cmbWrite(s: CmbSetup): Promise<CaseOutcome> {
  const n = XFER / s.io.lbaSize;
  const lba = s.io.blocks - n;
  const seed = (Date.now() ^ 0x70327032) >>> 0;
  const data = new Uint8Array(XFER);
  fillBlocks(data, 0, s.io.lbaSize, lba, n, 1, seed);
  writeBar(s.bar, s.cmb.offset, data);
  const sent = describeCmd('Write from the CMB', s.io, lba, s.cba);
  const c1 = await s.io.q.run(rw(s.io, NVME.IO_WRITE, lba, s.cba));
  if (c1.status) return { status: 'fail', sent, expected: 'success (CMBSZ.WDS = 1 allows write data in the CMB)', received: formatStatus(c1.status) };
  const host = s.raw.alloc(XFER);
  const c2 = await s.io.q.run(rw(s.io, NVME.IO_READ, lba, host.iova));
  if (c2.status) return { status: 'fail', sent: describeCmd('Read back into host memory', s.io, lba, host.iova), expected: 'success', received: formatStatus(c2.status) };
  for (let i = 0; i < n; i++) {
    const bad = verifyBlock(host.bytes, i * s.io.lbaSize, s.io.lbaSize, { lba: lba + i, sequence: 1, seed });
    if (bad) return { status: 'fail', sent, expected: 'the blocks written from the CMB to read back intact', received: bad.message };
  }
  return { status: 'pass', detail: `${n} block(s) written from the CMB to LBA ${lba} read back intact` };
}

interface PeerSetup {
  io: RawIo;
  raw: RawController;
  peerBar: ArrayBuffer;
  peerOffset: number;
  iova: number;
  unmap(): void;
}

/** Maps one page of the peer's CMB into the controller's IOMMU domain. */
async function peerWindow(ctx: ValidateContext): Promise<PeerSetup | CaseOutcome> {
  const peer = ctx.peer;
  if (!peer) return { status: 'skipped', reason: 'no peer device: give --peer TARGET (a second controller with a CMB, e.g. --peer emu:cmb=1M on the embedded controller)' };
  const cmb = await cmbInfo(barRegisters(peer.bar(0)));
  if (!cmb || cmb.size < XFER) return { status: 'skipped', reason: `the peer ${peer.name} has no controller memory buffer to use as a DMA target` };
  const raw = ctx.raw as RawController;
  // The target's own CMB must be off: a controller takes addresses inside [CBA, CBA+size)
  // as its CMB without asking the IOMMU (NVMe 1.4 §3.1.16).
  disableCmb(raw);
  const io = await rawIoSetup(raw, ctx.nsid);
  if (io.lbaSize > XFER) return { status: 'not-applicable', reason: `LBA size ${io.lbaSize} exceeds the ${XFER}-byte transfer the case uses` };
  const peerBar = peer.bar(cmb.bir);
  const iova = iovaAtTop(ctx.fn.iovaRanges(), XFER);
  // The peer's BAR enters the controller's IOMMU domain like host memory does (VFIO type1
  // accepts a PFN-mapped BAR; the embedded IOMMU maps the peer's BAR memory).
  ctx.fn.dmaMap(peerBar, cmb.offset, XFER, iova, { read: true, write: true });
  ctx.log(`peer ${peer.name}: BAR${cmb.bir}+0x${cmb.offset.toString(16)} mapped at IOVA 0x${iova.toString(16)}`);
  return { io, raw, peerBar, peerOffset: cmb.offset, iova, unmap: () => ctx.fn.dmaUnmap(iova, XFER) };
}

async function peerReadCase(ctx: ValidateContext): Promise<CaseOutcome> {
  const s = await peerWindow(ctx);
  if (isOutcome(s)) return s;
  try {
    const lba = 0;
    const host = s.raw.alloc(XFER);
    const c1 = await s.io.q.run(rw(s.io, NVME.IO_READ, lba, host.iova));
    if (c1.status) return { status: 'fail', sent: describeCmd('Read into host memory', s.io, lba, host.iova), expected: 'success', received: formatStatus(c1.status) };
    const expected = host.bytes.slice(0, XFER);
    writeBar(s.peerBar, s.peerOffset, markerFor(expected));
    const sent = describeCmd("Read into the peer's BAR", s.io, lba, s.iova);
    const c2 = await s.io.q.run(rw(s.io, NVME.IO_READ, lba, s.iova));
    if (c2.status) return { status: 'fail', sent, expected: 'success', received: formatStatus(c2.status) };
    const diff = firstDifference(readBar(s.peerBar, s.peerOffset, XFER), expected);
    if (diff) return { status: 'fail', sent, expected: "the peer's BAR, read by the CPU, to hold the bytes of a read into host memory", received: diff };
    return { status: 'pass', detail: `${XFER} bytes landed in the peer's BAR` };
  } finally {
    s.unmap();
  }
}

async function peerWriteCase(ctx: ValidateContext): Promise<CaseOutcome> {
  const s = await peerWindow(ctx);
  if (isOutcome(s)) return s;
  try {
    const n = XFER / s.io.lbaSize;
    const lba = s.io.blocks - 2 * n;
    const seed = (Date.now() ^ 0x50455231) >>> 0;
    const data = new Uint8Array(XFER);
    fillBlocks(data, 0, s.io.lbaSize, lba, n, 1, seed);
    writeBar(s.peerBar, s.peerOffset, data);
    const sent = describeCmd("Write from the peer's BAR", s.io, lba, s.iova);
    const c1 = await s.io.q.run(rw(s.io, NVME.IO_WRITE, lba, s.iova));
    if (c1.status) return { status: 'fail', sent, expected: 'success', received: formatStatus(c1.status) };
    const host = s.raw.alloc(XFER);
    const c2 = await s.io.q.run(rw(s.io, NVME.IO_READ, lba, host.iova));
    if (c2.status) return { status: 'fail', sent: describeCmd('Read back into host memory', s.io, lba, host.iova), expected: 'success', received: formatStatus(c2.status) };
    for (let i = 0; i < n; i++) {
      const bad = verifyBlock(host.bytes, i * s.io.lbaSize, s.io.lbaSize, { lba: lba + i, sequence: 1, seed });
      if (bad) return { status: 'fail', sent, expected: "the blocks written from the peer's BAR to read back intact", received: bad.message };
    }
    return { status: 'pass', detail: `${n} block(s) written from the peer's BAR read back intact` };
  } finally {
    s.unmap();
  }
}

/** The p2p cases. */
export const p2pCases: ValidateCase[] = [
  { id: 'p2p.cmb.read-data', suite: 'p2p', needs: 'raw', purpose: "a Read with its data pointer in the controller's own CMB puts the data there (checked through the BAR)", spec: 'NVMe 1.4 §4.7, §3.1.16 (CMBMSC.CBA)', run: cmbReadCase },
  { id: 'p2p.cmb.write-data', suite: 'p2p', needs: 'raw', destructive: true, purpose: "a Write whose data sits in the controller's own CMB stores it intact", spec: 'NVMe 1.4 §4.7, §3.1.16 (CMBMSC.CBA)', run: cmbWriteCase },
  { id: 'p2p.peer.read-data', suite: 'p2p', needs: 'raw', purpose: "a Read into a peer device's BAR (same IOMMU domain) lands there (checked through the peer's BAR)", spec: 'NVMe 1.4 §4.3 (PRP), PCIe peer-to-peer', run: peerReadCase },
  { id: 'p2p.peer.write-data', suite: 'p2p', needs: 'raw', destructive: true, purpose: "a Write whose data sits in a peer device's BAR stores it intact", spec: 'NVMe 1.4 §4.3 (PRP), PCIe peer-to-peer', run: peerWriteCase },
];

