// Raw command access to an NVMe controller through any PciFunction: registers through
// lib/mmio, queues in DMA memory, SQEs built byte by byte. No driver code is involved, so a
// conformance case checks the device, not the driver. Works with lib/dma's DmaPool (or any
// allocator of IOVA-mapped memory with the same shape).
import { PhyrError } from '../lib/errors';
import { read32, read64, write32, write64 } from '../lib/mmio';
import type { PciFunction } from '../lib/pci/function';
import { NVME } from '../spec/nvme';
import { PCI } from '../spec/pci';

/** DMA memory as raw queues need it (lib/dma's DmaBuffer satisfies it). */
export interface RawDmaBuffer {
  /** CPU view of exactly `size` bytes. */
  readonly bytes: Uint8Array;
  readonly size: number;
  /** Device address of bytes[0]. */
  readonly iova: number;
  iovaAt(offset: number): number;
  free(): void;
}

/** An allocator of page-aligned, IOVA-mapped memory (lib/dma's DmaPool satisfies it). */
export interface RawDmaAllocator {
  alloc(size: number, options?: { align?: number }): RawDmaBuffer;
}

/** The fields of a submission queue entry; absent fields are 0. The CID is assigned. */
export interface SqeFields {
  opcode: number;
  nsid?: number;
  /** FUSE, CDW0 bits 9:8. */
  fuse?: number;
  /** PSDT, CDW0 bits 15:14 (NVME.PSDT_*). */
  psdt?: number;
  cdw2?: number;
  cdw3?: number;
  mptr?: number;
  /** PRP1, or SGL1 bytes 0..7. */
  dptr1?: number;
  /** PRP2, or SGL1 bytes 8..15. */
  dptr2?: number;
  /** SGL1 as a descriptor (overrides dptr1/dptr2). */
  sgl1?: SglDescriptor;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  cdw13?: number;
  cdw14?: number;
  cdw15?: number;
}

/** An SGL descriptor (NVMe 1.4 §4.4): 16 bytes, type in bits 7:4 of byte 15. */
export interface SglDescriptor {
  addr: number;
  len: number;
  /** NVME.SGL_TYPE_* */
  type: number;
  /** NVME.SGL_SUBTYPE_* (default address). */
  subtype?: number;
}

/** Writes `d` as 16 bytes at `off` of `view`. */
export function writeSglDescriptor(view: DataView, off: number, d: SglDescriptor): void {
  put64(view, off, d.addr);
  view.setUint32(off + 8, d.len, true);
  view.setUint8(off + 12, 0);
  view.setUint16(off + 13, 0, true);
  view.setUint8(off + 15, ((d.type & 0xf) << 4) | ((d.subtype ?? 0) & 0xf));
}

/** A completion queue entry, decoded. */
export interface RawCompletion {
  dw0: number;
  dw1: number;
  sqHead: number;
  sqId: number;
  cid: number;
  /** The 15-bit status field (SC 7:0, SCT 10:8, CRD 12:11, M 13, DNR 14). */
  status: number;
  sc: number;
  sct: number;
  dnr: boolean;
}

/** No completion arrived in time, or the controller reported a fatal status. */
export class RawQueueError extends PhyrError {
  constructor(message: string) {
    super('PHYR_RAW_QUEUE', message);
  }
}

/** Builds the 15-bit status field (for comparisons with RawCompletion.status). */
export function statusField(sct: number, sc: number, dnr = true): number {
  return (sc & NVME.STATUS_SC_MASK) | ((sct & NVME.STATUS_SCT_MASK) << NVME.STATUS_SCT_SHIFT) | (dnr ? NVME.STATUS_DNR : 0);
}

/** '0x4002 (SCT 0 SC 02h, DNR)' — how cases print a status. */
export function formatStatus(status: number): string {
  const sc = status & NVME.STATUS_SC_MASK;
  const sct = (status >> NVME.STATUS_SCT_SHIFT) & NVME.STATUS_SCT_MASK;
  const dnr = status & NVME.STATUS_DNR;
  return `0x${status.toString(16).padStart(4, '0')} (SCT ${sct} SC ${sc.toString(16).padStart(2, '0')}h${dnr ? ', DNR' : ''})`;
}

const TWO_32 = 2 ** 32;

function put64(view: DataView, off: number, value: number): void {
  view.setUint32(off, value % TWO_32, true);
  view.setUint32(off + 4, Math.floor(value / TWO_32), true);
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One submission/completion queue pair driven by hand. */
export class RawQueue {
  private tail = 0;
  private head = 0;
  private phase = 1;
  private nextCid = 0;
  private readonly sqView: DataView;
  private readonly cqView: DataView;

  constructor(
    private readonly ctrl: RawController,
    /** Queue id (0 = admin). */
    readonly qid: number,
    /** Entries in each ring. */
    readonly entries: number,
    /** The submission ring (entries x 64 bytes). */
    readonly sq: RawDmaBuffer,
    /** The completion ring (entries x 16 bytes). */
    readonly cq: RawDmaBuffer,
  ) {
    this.sqView = new DataView(sq.bytes.buffer, sq.bytes.byteOffset, sq.size);
    this.cqView = new DataView(cq.bytes.buffer, cq.bytes.byteOffset, cq.size);
  }

  /** Writes an SQE at the tail; rings the doorbell unless `ring` is false. Returns the CID. */
  submit(f: SqeFields, ring = true): number {
    const cid = this.nextCid;
    this.nextCid = (this.nextCid + 1) & 0xffff;
    const v = this.sqView;
    const o = this.tail * NVME.SQE_SIZE;
    for (let i = 0; i < NVME.SQE_SIZE; i += 4) v.setUint32(o + i, 0, true);
    v.setUint32(o, (f.opcode & 0xff) | ((f.fuse ?? 0) << 8) | ((f.psdt ?? 0) << NVME.PSDT_SHIFT) | (cid << 16), true);
    v.setUint32(o + 4, f.nsid ?? 0, true);
    v.setUint32(o + 8, f.cdw2 ?? 0, true);
    v.setUint32(o + 12, f.cdw3 ?? 0, true);
    put64(v, o + 16, f.mptr ?? 0);
    put64(v, o + 24, f.dptr1 ?? 0);
    put64(v, o + 32, f.dptr2 ?? 0);
    if (f.sgl1) writeSglDescriptor(v, o + 24, f.sgl1);
    const cdws = [f.cdw10, f.cdw11, f.cdw12, f.cdw13, f.cdw14, f.cdw15];
    cdws.forEach((d, i) => v.setUint32(o + 40 + 4 * i, (d ?? 0) >>> 0, true));
    this.tail = (this.tail + 1) % this.entries;
    if (ring) this.ring();
    return cid;
  }

  /** Writes the SQ tail doorbell (release: after the SQE stores). */
  ring(): void {
    this.ctrl.writeReg32(this.ctrl.sqDoorbell(this.qid), this.tail);
  }

  /** The SQ tail the next submit() uses (for tests that write doorbells by hand). */
  get sqTail(): number {
    return this.tail;
  }

  /** True when the next CQE's phase bit says it is new (acquire load of DW3). */
  completionReady(): boolean {
    const dw3 = read32(this.cq.bytes.buffer as ArrayBuffer, this.cq.bytes.byteOffset + this.head * NVME.CQE_SIZE + 12);
    return ((dw3 >>> NVME.CQE_PHASE_BIT) & 1) === this.phase;
  }

  /** Waits for the next CQE, consumes it and writes the CQ head doorbell. */
  async reap(timeoutMs = this.ctrl.timeoutMs): Promise<RawCompletion> {
    const deadline = Date.now() + timeoutMs;
    while (!this.completionReady()) {
      this.ctrl.checkFatal(`waiting for a completion on queue ${this.qid}`);
      if (Date.now() > deadline) throw new RawQueueError(`no completion on queue ${this.qid} within ${timeoutMs} ms`);
      await tick();
    }
    const o = this.head * NVME.CQE_SIZE;
    const v = this.cqView;
    const dw3 = v.getUint32(o + 12, true);
    const status = dw3 >>> NVME.CQE_SC_SHIFT;
    const c: RawCompletion = {
      dw0: v.getUint32(o, true),
      dw1: v.getUint32(o + 4, true),
      sqHead: v.getUint16(o + 8, true),
      sqId: v.getUint16(o + 10, true),
      cid: dw3 & 0xffff,
      status,
      sc: status & NVME.STATUS_SC_MASK,
      sct: (status >> NVME.STATUS_SCT_SHIFT) & NVME.STATUS_SCT_MASK,
      dnr: (status & NVME.STATUS_DNR) !== 0,
    };
    this.head = (this.head + 1) % this.entries;
    if (this.head === 0) this.phase ^= 1;
    this.ctrl.writeReg32(this.ctrl.cqDoorbell(this.qid), this.head);
    return c;
  }

  /** True when no completion arrives within `ms` (for dropped-completion checks). */
  async noCompletionWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.completionReady()) return false;
      await tick();
    }
    return !this.completionReady();
  }

  /** Submits one command and waits for its completion. */
  async run(f: SqeFields, timeoutMs?: number): Promise<RawCompletion> {
    const cid = this.submit(f);
    const c = await this.reap(timeoutMs);
    if (c.cid !== cid) throw new RawQueueError(`queue ${this.qid}: completion for CID ${c.cid}, expected ${cid}`);
    return c;
  }
}

/** Options of RawController.enable(). */
export interface RawEnableOptions {
  /** Admin queue entries (default 32). */
  adminEntries?: number;
  /** CC.MPS (default 0: 4 KiB pages). */
  mps?: number;
  /** Extra CC bits / replacements: the CC value written is (computed & ~clear) | set. */
  ccSet?: number;
  ccClear?: number;
  /** AQA value to write instead of the computed one. */
  aqa?: number;
  /** ASQ/ACQ to write instead of the allocated rings' IOVAs. */
  asq?: number;
  acq?: number;
}

/** A controller driven with raw registers and queues. */
export class RawController {
  /** BAR0. */
  readonly bar: ArrayBuffer;
  /** Default completion timeout. */
  readonly timeoutMs: number;
  /** The admin queue pair (after enable()). */
  admin: RawQueue | undefined;
  private readonly owned: RawDmaBuffer[] = [];
  private dstrd = 0;

  constructor(
    readonly fn: PciFunction,
    readonly mem: RawDmaAllocator,
    options: { timeoutMs?: number } = {},
  ) {
    this.bar = fn.bar(0);
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  reg32(off: number): number {
    return read32(this.bar, off);
  }
  /** 64-bit register as a number (control-plane values stay below 2^53). */
  reg64(off: number): number {
    return Number(read64(this.bar, off));
  }
  writeReg32(off: number, v: number): void {
    write32(this.bar, off, v >>> 0);
  }
  writeReg64(off: number, v: number): void {
    write64(this.bar, off, v);
  }
  sqDoorbell(qid: number): number {
    return NVME.REG_DOORBELLS + 2 * qid * (4 << this.dstrd);
  }
  cqDoorbell(qid: number): number {
    return NVME.REG_DOORBELLS + (2 * qid + 1) * (4 << this.dstrd);
  }

  /** Allocates DMA memory released by close(). */
  alloc(size: number): RawDmaBuffer {
    const b = this.mem.alloc(size, { align: 4096 });
    b.bytes.fill(0);
    this.owned.push(b);
    return b;
  }

  /** Throws when CSTS.CFS is set. */
  checkFatal(what: string): void {
    if (this.reg32(NVME.REG_CSTS) & NVME.CSTS_CFS) throw new RawQueueError(`controller fatal status (CSTS.CFS) while ${what}`);
  }

  /** Waits until (CSTS & mask) === value; returns false on timeout (CAP.TO bounded). */
  async waitCsts(mask: number, value: number, timeoutMs?: number): Promise<boolean> {
    const to = timeoutMs ?? ((this.reg64(NVME.REG_CAP) / 2 ** NVME.CAP_TO_SHIFT) & 0xff) * NVME.CAP_TO_UNIT_MS + 100;
    const deadline = Date.now() + to;
    while ((this.reg32(NVME.REG_CSTS) & mask) !== value) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
    return true;
  }

  /** Waits until any bit of `mask` is set in CSTS; returns false after CAP.TO. */
  async waitCstsAny(mask: number): Promise<boolean> {
    const deadline = Date.now() + ((this.reg64(NVME.REG_CAP) / 2 ** NVME.CAP_TO_SHIFT) & 0xff) * NVME.CAP_TO_UNIT_MS + 100;
    while (!(this.reg32(NVME.REG_CSTS) & mask)) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
    return true;
  }

  /** Turns Bus Master Enable (and memory space) on or off in config space. */
  busMaster(on: boolean): void {
    const cmd = this.fn.configRead(PCI.CFG_COMMAND, 2);
    this.fn.configWrite(PCI.CFG_COMMAND, 2, on ? cmd | PCI.COMMAND_MEMORY | PCI.COMMAND_BUS_MASTER : cmd & ~PCI.COMMAND_BUS_MASTER);
  }

  /** CC.EN = 0 and wait for CSTS.RDY = 0. */
  async disable(): Promise<void> {
    const fatal = (this.reg32(NVME.REG_CSTS) & NVME.CSTS_CFS) !== 0;
    this.writeReg32(NVME.REG_CC, 0);
    if (!(await this.waitCsts(NVME.CSTS_RDY, 0))) throw new RawQueueError('CSTS.RDY did not clear after CC.EN=0');
    // A controller in fatal status has RDY=0 already; its reset shows as CFS clearing. Wait
    // for that (briefly: not every device clears CFS), so an immediate CC.EN=1 is seen as a
    // new enable by a device that samples CC.
    if (fatal) await this.waitCsts(NVME.CSTS_CFS, 0, 500);
    this.admin = undefined;
  }

  /** The CC value enable() writes for the given options. */
  ccValue(o: RawEnableOptions = {}): number {
    const cc =
      NVME.CC_EN |
      ((o.mps ?? 0) << NVME.CC_MPS_SHIFT) |
      (NVME.IOSQES << NVME.CC_IOSQES_SHIFT) |
      (NVME.IOCQES << NVME.CC_IOCQES_SHIFT);
    return ((cc & ~(o.ccClear ?? 0)) | (o.ccSet ?? 0)) >>> 0;
  }

  /**
   * Resets the controller, sets up the admin queue and enables it. Resolves 'ready', or
   * 'fatal' when the controller set CSTS.CFS instead (for cases that expect it).
   */
  async enable(o: RawEnableOptions = {}): Promise<'ready' | 'fatal'> {
    if (this.reg32(NVME.REG_CC) & NVME.CC_EN || this.reg32(NVME.REG_CSTS) & NVME.CSTS_RDY) await this.disable();
    const cap = this.reg64(NVME.REG_CAP);
    this.dstrd = Math.floor(cap / 2 ** NVME.CAP_DSTRD_SHIFT) & 0xf;
    const n = o.adminEntries ?? 32;
    const sq = this.alloc(n * NVME.SQE_SIZE);
    const cq = this.alloc(n * NVME.CQE_SIZE);
    this.writeReg32(NVME.REG_AQA, o.aqa ?? ((n - 1) | ((n - 1) << NVME.AQA_ACQS_SHIFT)));
    this.writeReg64(NVME.REG_ASQ, o.asq ?? sq.iova);
    this.writeReg64(NVME.REG_ACQ, o.acq ?? cq.iova);
    this.busMaster(true);
    this.writeReg32(NVME.REG_CC, this.ccValue(o));
    // Either outcome ends the wait: RDY (enabled) or CFS (the controller refused the
    // parameters, NVMe 1.4 §3.1.6); only neither within CAP.TO is a timeout.
    if (!(await this.waitCstsAny(NVME.CSTS_RDY | NVME.CSTS_CFS))) throw new RawQueueError('CSTS.RDY did not become 1 within CAP.TO after CC.EN=1');
    if (this.reg32(NVME.REG_CSTS) & NVME.CSTS_CFS) return 'fatal';
    this.admin = new RawQueue(this, 0, n, sq, cq);
    return 'ready';
  }

  /** Runs one admin command. */
  async adminCommand(f: SqeFields, timeoutMs?: number): Promise<RawCompletion> {
    if (!this.admin) throw new RawQueueError('the controller is not enabled (call enable() first)');
    return this.admin.run(f, timeoutMs);
  }

  /** Identify into a fresh 4 KiB buffer; returns the completion and the data. */
  async identify(cns: number, nsid = 0): Promise<{ completion: RawCompletion; data: Uint8Array }> {
    const buf = this.alloc(4096);
    const completion = await this.adminCommand({ opcode: NVME.ADMIN_IDENTIFY, nsid, dptr1: buf.iova, cdw10: cns });
    return { completion, data: buf.bytes };
  }

  /** Set Features Number of Queues; returns the completion (dw0: allocated, 0's based). */
  async setNumberOfQueues(sq: number, cq: number): Promise<RawCompletion> {
    return this.adminCommand({ opcode: NVME.ADMIN_SET_FEATURES, cdw10: NVME.FEAT_NUMBER_OF_QUEUES, cdw11: ((sq - 1) | ((cq - 1) << 16)) >>> 0 });
  }

  /**
   * Creates IO CQ and SQ `qid` (CQ first, as the spec requires); throws with the status when
   * either is refused.
   */
  async createIoQueuePair(qid: number, entries: number, o: { interrupts?: boolean; vector?: number } = {}): Promise<RawQueue> {
    const sq = this.alloc(entries * NVME.SQE_SIZE);
    const cq = this.alloc(entries * NVME.CQE_SIZE);
    const ien = o.interrupts ? 2 : 0;
    const c1 = await this.adminCommand({
      opcode: NVME.ADMIN_CREATE_CQ,
      dptr1: cq.iova,
      cdw10: (qid | ((entries - 1) << 16)) >>> 0,
      cdw11: (1 | ien | ((o.vector ?? (o.interrupts ? qid : 0)) << 16)) >>> 0,
    });
    if (c1.status) throw new RawQueueError(`Create IO CQ ${qid} failed: ${formatStatus(c1.status)}`);
    const c2 = await this.adminCommand({
      opcode: NVME.ADMIN_CREATE_SQ,
      dptr1: sq.iova,
      cdw10: (qid | ((entries - 1) << 16)) >>> 0,
      cdw11: (1 | (qid << 16)) >>> 0,
    });
    if (c2.status) throw new RawQueueError(`Create IO SQ ${qid} failed: ${formatStatus(c2.status)}`);
    return new RawQueue(this, qid, entries, sq, cq);
  }

  /** Deletes IO SQ then CQ `qid`. */
  async deleteIoQueuePair(qid: number): Promise<void> {
    const a = await this.adminCommand({ opcode: NVME.ADMIN_DELETE_SQ, cdw10: qid });
    const b = await this.adminCommand({ opcode: NVME.ADMIN_DELETE_CQ, cdw10: qid });
    if (a.status || b.status) throw new RawQueueError(`deleting queue pair ${qid}: ${formatStatus(a.status)} / ${formatStatus(b.status)}`);
  }

  /** Disables the controller (best effort) and frees the memory it allocated. */
  async close(): Promise<void> {
    try {
      this.writeReg32(NVME.REG_CC, 0);
      await this.waitCsts(NVME.CSTS_RDY, 0, 1000);
    } finally {
      for (const b of this.owned.splice(0)) b.free();
    }
  }
}
