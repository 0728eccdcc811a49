// Data pointers and IO command checks (NVMe 1.4 §4.3 PRP, §6): PRP alignment and list
// rules, MDTS, LBA range, namespace id, opcode, IOMMU faults on data and lists.
import { NVME } from '../../spec/nvme';
import { Checker, finish, generic, unmappedIova, type CaseBodyResult, type RawCase, type RawContext } from '../check';
import { readDeviceInfo, type DeviceInfo } from '../device-info';
import type { RawQueue, SqeFields } from '../raw-queue';

/** Quirk: the device completes a command whose data DMA faulted with success (QEMU 7.2). */
export const QUIRK_SILENT_DMA_FAULT = 'silent-dma-fault';

interface IoSetup {
  info: DeviceInfo;
  q: RawQueue;
}

async function ioSetup(ctx: RawContext): Promise<IoSetup> {
  const info = await readDeviceInfo(ctx.raw);
  await ctx.raw.setNumberOfQueues(1, 1);
  const q = await ctx.raw.createIoQueuePair(1, 32);
  return { info, q };
}

function rw(opcode: number, slba: number, blocks: number, dptr1: number, dptr2 = 0, nsid = 1): SqeFields {
  return { opcode, nsid, dptr1, dptr2, cdw10: slba % 2 ** 32, cdw11: Math.floor(slba / 2 ** 32), cdw12: blocks - 1 };
}

function ioCase(id: string, purpose: string, spec: string, body: (ctx: RawContext, check: Checker, io: IoSetup) => Promise<CaseBodyResult>, destructive = false): RawCase {
  return {
    id,
    suite: 'dptr',
    purpose,
    spec,
    destructive,
    async run(ctx) {
      const check = new Checker(ctx);
      return finish(check, await body(ctx, check, await ioSetup(ctx)));
    },
  };
}

/** Bytes of the memory page the cases use (CC.MPS = 0). */
const PAGE = 4096;

/** A transfer whose PRP2 must be a list with at least `entries` entries. */
interface ListTransfer {
  bytes: number;
  /** Byte offset of PRP1 in its page (dword aligned). */
  offset: number;
  /** PRP list entries the transfer needs (pages after PRP1's). */
  entries: number;
}

/**
 * The transfer a PRP-list case sends, sized within MDTS: `pages` whole pages from a page
 * boundary when MDTS allows, otherwise two pages starting mid-page, which still span
 * three pages and so need a list of two entries (NVMe 1.4 §4.3: PRP2 is a list pointer
 * when the data crosses more than one page boundary). Undefined when MDTS is below two
 * pages (no PRP list can be within it).
 */
function listTransfer(info: DeviceInfo, pages: number): ListTransfer | undefined {
  const limit = info.maxTransfer || Infinity;
  if (pages * PAGE <= limit) return { bytes: pages * PAGE, offset: 0, entries: pages - 1 };
  if (2 * PAGE > limit || 2 * PAGE < info.lbaSize) return undefined;
  return { bytes: 2 * PAGE, offset: PAGE / 2, entries: 2 };
}

/** The not-applicable outcome when MDTS leaves no room for a PRP list. */
function noListRoom(info: DeviceInfo): CaseBodyResult {
  return { status: 'not-applicable', reason: `MDTS allows ${info.maxTransfer} bytes per command: too few for a PRP list (more than two pages)` };
}

async function expectIo(check: Checker, q: RawQueue, sqe: SqeFields, want: number, label: string, excuse?: { quirk: string; status: number }): Promise<void> {
  check.status(await q.run(sqe), want, label, sqe, excuse);
}

export const dptrCases: RawCase[] = [
  ioCase('dptr.prp.prp1-not-dword-aligned', 'PRP1 with bits 1:0 set: PRP Offset Invalid', 'NVMe 1.4 §4.3', async (ctx, check, { info, q }) => {
    const buf = ctx.raw.alloc(4096);
    await expectIo(check, q, rw(NVME.IO_READ, 0, 1, buf.iova + 2), generic(NVME.SC_PRP_OFFSET_INVALID), 'Read with PRP1 offset 2');
    void info;
  }),
  ioCase('dptr.prp.prp2-data-not-page-aligned', 'A transfer crossing one page boundary with PRP2 not page-aligned: PRP Offset Invalid', 'NVMe 1.4 §4.3', async (ctx, check, { info, q }) => {
    const buf = ctx.raw.alloc(3 * 4096);
    const blocks = 8192 / info.lbaSize;
    await expectIo(check, q, rw(NVME.IO_READ, 0, blocks, buf.iova, buf.iovaAt(4096) + 512), generic(NVME.SC_PRP_OFFSET_INVALID), 'Read 8 KiB, PRP2 offset 512');
  }),
  ioCase('dptr.prp.list-entry-not-page-aligned', 'A PRP list entry with a page offset: PRP Offset Invalid', 'NVMe 1.4 §4.3', async (ctx, check, { info, q }) => {
    const t = listTransfer(info, 3);
    if (!t) return noListRoom(info);
    const data = ctx.raw.alloc(4 * PAGE);
    const list = ctx.raw.alloc(PAGE);
    const v = new DataView(list.bytes.buffer, list.bytes.byteOffset, PAGE);
    // Only PRP1 may carry an offset; entry 1 of the list gets one.
    v.setUint32(0, data.iovaAt(PAGE), true);
    v.setUint32(8, data.iovaAt(2 * PAGE) + 16, true);
    const blocks = t.bytes / info.lbaSize;
    await expectIo(check, q, rw(NVME.IO_READ, 0, blocks, data.iova + t.offset, list.iova), generic(NVME.SC_PRP_OFFSET_INVALID), `Read ${t.bytes / 1024} KiB (PRP1 offset ${t.offset}), list entry 1 offset 16`);
  }),
  ioCase('dptr.prp.list-chaining', 'A PRP list that starts near the end of a page chains to the next list page; data lands right', 'NVMe 1.4 §4.3 (Figure 108)', async (ctx, check, { info, q }) => {
    const t = listTransfer(info, 4);
    if (!t) return noListRoom(info);
    const src = ctx.raw.alloc(4 * PAGE);
    const dst = ctx.raw.alloc(4 * PAGE);
    for (let i = 0; i < src.size; i++) src.bytes[i] = (i * 13 + 5) & 0xff;
    const lists = ctx.raw.alloc(2 * PAGE);
    // The list starts so that the last slot of its first page is reached before the last
    // entry: that slot must be the pointer to the next list page. With three entries the
    // first page holds one entry and the chain pointer; with two, only the pointer.
    const inFirst = t.entries >= 3 ? 1 : 0;
    const start = PAGE - 8 * (inFirst + 1);
    const build = (buf: typeof src): number => {
      const v = new DataView(lists.bytes.buffer, lists.bytes.byteOffset, lists.size);
      const write64 = (off: number, x: number): void => {
        v.setUint32(off, x % 2 ** 32, true);
        v.setUint32(off + 4, Math.floor(x / 2 ** 32), true);
      };
      for (let e = 0; e < t.entries; e++) {
        const slot = e < inFirst ? start + 8 * e : PAGE + 8 * (e - inFirst);
        write64(slot, buf.iovaAt(PAGE * (e + 1)));
      }
      write64(PAGE - 8, lists.iovaAt(PAGE));
      return lists.iovaAt(start);
    };
    const blocks = t.bytes / info.lbaSize;
    const label = `${t.bytes / 1024} KiB (PRP1 offset ${t.offset}) through a chained list`;
    await expectIo(check, q, rw(NVME.IO_WRITE, 8, blocks, src.iova + t.offset, build(src)), 0, `Write ${label}`);
    await expectIo(check, q, rw(NVME.IO_READ, 8, blocks, dst.iova + t.offset, build(dst)), 0, `Read ${label}`);
    const a = Buffer.from(src.bytes.subarray(t.offset, t.offset + t.bytes));
    const b = Buffer.from(dst.bytes.subarray(t.offset, t.offset + t.bytes));
    check.ok(Buffer.compare(a, b) === 0, 'read data equals written data', 'data differs');
  }, true),
  ioCase('dptr.prp.offset-roundtrip', 'PRP1 with a dword offset, PRP2 as a list: write then read returns the data', 'NVMe 1.4 §4.3', async (ctx, check, { info, q }) => {
    const src = ctx.raw.alloc(4 * 4096);
    const dst = ctx.raw.alloc(4 * 4096);
    const bytes = 2 * 4096;
    const off = info.lbaSize === 512 ? 1024 : 0;
    for (let i = 0; i < bytes; i++) src.bytes[off + i] = (i * 7 + 1) & 0xff;
    const listFor = (buf: typeof src): number => {
      const list = ctx.raw.alloc(4096);
      const v = new DataView(list.bytes.buffer, list.bytes.byteOffset, 4096);
      v.setUint32(0, buf.iovaAt(4096), true);
      v.setUint32(8, buf.iovaAt(8192), true);
      return list.iova;
    };
    const blocks = bytes / info.lbaSize;
    const second = off ? listFor(src) : src.iovaAt(4096);
    await expectIo(check, q, rw(NVME.IO_WRITE, 64, blocks, src.iova + off, second), 0, 'Write with PRP1 offset');
    const secondDst = off ? listFor(dst) : dst.iovaAt(4096);
    await expectIo(check, q, rw(NVME.IO_READ, 64, blocks, dst.iova + off, secondDst), 0, 'Read with PRP1 offset');
    check.ok(Buffer.compare(Buffer.from(src.bytes.subarray(off, off + bytes)), Buffer.from(dst.bytes.subarray(off, off + bytes))) === 0, 'data round-trips', 'data differs');
  }, true),
  ioCase('dptr.mdts.exceeded', 'A transfer larger than MDTS: Invalid Field in Command', 'NVMe 1.4 §5.15.2.1 (MDTS)', async (ctx, check, { info, q }) => {
    if (!info.maxTransfer) return { status: 'not-applicable', reason: 'MDTS = 0: the controller sets no transfer limit' };
    const buf = ctx.raw.alloc(4096);
    const blocks = info.maxTransfer / info.lbaSize + 1;
    if (blocks > 65536) return { status: 'not-applicable', reason: `MDTS (${info.maxTransfer} bytes) is above what one command's NLB field can name` };
    await expectIo(check, q, rw(NVME.IO_READ, 0, blocks, buf.iova, buf.iova), generic(NVME.SC_INVALID_FIELD), `Read of ${blocks} blocks (MDTS ${info.maxTransfer} bytes)`);
  }),
  ioCase('dptr.lba.out-of-range', 'Reads past the end of the namespace: LBA Out of Range', 'NVMe 1.4 §6.9', async (ctx, check, { info, q }) => {
    const buf = ctx.raw.alloc(8192);
    await expectIo(check, q, rw(NVME.IO_READ, info.blocks, 1, buf.iova), generic(NVME.SC_LBA_OUT_OF_RANGE), 'SLBA = NSZE');
    const two = 4096 / info.lbaSize + 1;
    await expectIo(check, q, rw(NVME.IO_READ, info.blocks - 1, two, buf.iova, buf.iovaAt(4096)), generic(NVME.SC_LBA_OUT_OF_RANGE), 'range ending past NSZE');
    await expectIo(check, q, rw(NVME.IO_READ, info.blocks - 1, 1, buf.iova), 0, 'the last block reads fine');
  }),
  ioCase('dptr.nsid.invalid', 'Read with NSID 0 or NN+1: Invalid Namespace or Format', 'NVMe 1.4 §6.9, §4.6.1.2.1', async (ctx, check, { info, q }) => {
    const buf = ctx.raw.alloc(4096);
    await expectIo(check, q, rw(NVME.IO_READ, 0, 1, buf.iova, 0, 0), generic(NVME.SC_INVALID_NAMESPACE), 'NSID 0');
    await expectIo(check, q, rw(NVME.IO_READ, 0, 1, buf.iova, 0, info.namespaces + 1), generic(NVME.SC_INVALID_NAMESPACE), `NSID ${info.namespaces + 1}`);
  }),
  ioCase('dptr.io.invalid-opcode', 'An undefined IO opcode (7Eh): Invalid Command Opcode', 'NVMe 1.4 §4.6.1.2.1', async (_ctx, check, { q }) => {
    await expectIo(check, q, { opcode: 0x7e, nsid: 1 }, generic(NVME.SC_INVALID_OPCODE), 'opcode 7Eh');
  }),
  ioCase('dptr.psdt.sgl-unsupported', 'With SGLS=0, a command with PSDT=01b: Invalid Field in Command', 'NVMe 1.4 §4.2 (PSDT), §5.15.2.1 (SGLS)', async (ctx, check, { info, q }) => {
    if (info.sgls & NVME.SGLS_SUPPORT_MASK) return { status: 'not-applicable', reason: 'SGLS reports SGL support: the dptr.sgl cases check it' };
    const buf = ctx.raw.alloc(4096);
    await expectIo(check, q, { ...rw(NVME.IO_READ, 0, 1, buf.iova), psdt: NVME.PSDT_SGL_MPTR_CONTIG }, generic(NVME.SC_INVALID_FIELD), 'Read with PSDT=01b');
  }),
  ioCase('dptr.iommu.data-unmapped', 'A data pointer to an unmapped IOVA: the DMA faults and the command fails with Data Transfer Error', 'NVMe 1.4 §4.6.1.2.1 (04h); IOMMU', async (ctx, check, { q }) => {
    const bad = unmappedIova(ctx);
    await expectIo(check, q, rw(NVME.IO_READ, 0, 1, bad), generic(NVME.SC_DATA_TRANSFER_ERROR), 'Read into an unmapped IOVA', { quirk: QUIRK_SILENT_DMA_FAULT, status: 0 });
  }),
  ioCase('dptr.iommu.prp-list-unmapped', 'A PRP list pointer to an unmapped IOVA: Data Transfer Error', 'NVMe 1.4 §4.3; IOMMU', async (ctx, check, { info, q }) => {
    const t = listTransfer(info, 3);
    if (!t) return noListRoom(info);
    const data = ctx.raw.alloc(PAGE);
    const blocks = t.bytes / info.lbaSize;
    await expectIo(check, q, rw(NVME.IO_READ, 0, blocks, data.iova + t.offset, unmappedIova(ctx)), generic(NVME.SC_DATA_TRANSFER_ERROR), `Read ${t.bytes / 1024} KiB (PRP1 offset ${t.offset}) with the PRP list unmapped`, { quirk: QUIRK_SILENT_DMA_FAULT, status: 0 });
  }),
  ioCase('dptr.flush.broadcast', 'Flush with NSID FFFFFFFFh succeeds; NSID NN+1 is invalid', 'NVMe 1.4 §6.8', async (_ctx, check, { info, q }) => {
    await expectIo(check, q, { opcode: NVME.IO_FLUSH, nsid: 0xffffffff }, 0, 'Flush all namespaces');
    await expectIo(check, q, { opcode: NVME.IO_FLUSH, nsid: info.namespaces + 1 }, generic(NVME.SC_INVALID_NAMESPACE), `Flush NSID ${info.namespaces + 1}`);
  }),
];
