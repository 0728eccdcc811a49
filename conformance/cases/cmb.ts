// Controller memory buffer (NVMe 1.4 §3.1.12-3.1.16, §4.7): register gating by CMBMSC.CRE,
// data, lists and queues in the CMB, and the rule against mixing CMB and host memory (12h).
// Each case derives from the CMBSZ support bits (§3.1.13): a use whose bit is set must work;
// a use whose bit is clear is refused with Invalid Use of Controller Memory Buffer (§4.7).
import { NVME } from '../../spec/nvme';
import { Checker, finish, type CaseBodyResult, generic, unmappedIova, type RawCase, type RawContext } from '../check';
import { readDeviceInfo, type DeviceInfo } from '../device-info';
import type { RawQueue } from '../raw-queue';

interface Cmb {
  /** CPU view of the CMB (through its BAR). */
  bytes: Uint8Array;
  /** The controller base address the commands use (CMBMSC.CBA). */
  cba: number;
  size: number;
  sz: number;
}

const hex = (sz: number): string => `CMBSZ = 0x${sz.toString(16)}`;

const hasCmb = (ctx: RawContext): boolean => (Math.floor(ctx.raw.reg64(NVME.REG_CAP) / 2 ** NVME.CAP_CMBS_SHIFT) & 1) === 1;

/** Enables the CMB: CRE, read CMBLOC/CMBSZ, then CMSE with a CBA clear of host mappings. */
async function enableCmb(ctx: RawContext): Promise<Cmb> {
  ctx.raw.writeReg64(NVME.REG_CMBMSC, NVME.CMBMSC_CRE);
  // A device model that samples its registers may take a moment to publish CMBSZ.
  const deadline = Date.now() + 1000;
  while (ctx.raw.reg32(NVME.REG_CMBSZ) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const loc = ctx.raw.reg32(NVME.REG_CMBLOC);
  const sz = ctx.raw.reg32(NVME.REG_CMBSZ);
  const unit = 4096 * 16 ** ((sz >>> NVME.CMBSZ_SZU_SHIFT) & 0xf);
  const size = (sz >>> NVME.CMBSZ_SZ_SHIFT) * unit;
  const bar = ctx.fn.bar(loc & NVME.CMBLOC_BIR_MASK);
  const offset = (loc >>> NVME.CMBLOC_OFST_SHIFT) * unit;
  // A CBA below the top-of-range scratch IOVA, aligned to the CMB size.
  const cba = Math.floor((unmappedIova(ctx) - size) / size) * size;
  ctx.raw.writeReg64(NVME.REG_CMBMSC, cba + NVME.CMBMSC_CRE + NVME.CMBMSC_CMSE);
  return { bytes: new Uint8Array(bar, offset, size), cba, size, sz };
}

function cmbCase(id: string, purpose: string, spec: string, body: (ctx: RawContext, check: Checker, cmb: Cmb, info: DeviceInfo, q: RawQueue | undefined) => Promise<CaseBodyResult>, o: { destructive?: boolean; queue?: boolean } = {}): RawCase {
  return {
    id,
    suite: 'dptr',
    purpose,
    spec,
    destructive: o.destructive,
    async run(ctx) {
      if (!hasCmb(ctx)) return { status: 'not-applicable', reason: 'no controller memory buffer (CAP.CMBS = 0)' };
      const info = await readDeviceInfo(ctx.raw);
      const cmb = await enableCmb(ctx);
      let q: RawQueue | undefined;
      if (o.queue !== false) {
        await ctx.raw.setNumberOfQueues(2, 2);
        q = await ctx.raw.createIoQueuePair(1, 16);
      }
      const check = new Checker(ctx);
      try {
        return finish(check, await body(ctx, check, cmb, info, q));
      } finally {
        ctx.raw.writeReg64(NVME.REG_CMBMSC, 0);
      }
    },
  };
}

export const cmbCases: RawCase[] = [
  {
    id: 'registers.cmb.cre-gates-registers',
    suite: 'registers',
    purpose: 'CMBLOC and CMBSZ read 0 until CMBMSC.CRE is set, then describe the CMB',
    spec: 'NVMe 1.4 §3.1.12, §3.1.13, §3.1.16',
    async run(ctx) {
      if (!hasCmb(ctx)) return { status: 'not-applicable', reason: 'no controller memory buffer (CAP.CMBS = 0)' };
      const check = new Checker(ctx);
      ctx.raw.writeReg64(NVME.REG_CMBMSC, 0);
      await new Promise((r) => setTimeout(r, 5));
      check.ok(ctx.raw.reg32(NVME.REG_CMBSZ) === 0, 'CMBSZ = 0 before CRE', `CMBSZ=0x${ctx.raw.reg32(NVME.REG_CMBSZ).toString(16)}`);
      ctx.raw.writeReg64(NVME.REG_CMBMSC, NVME.CMBMSC_CRE);
      const deadline = Date.now() + 1000;
      while (ctx.raw.reg32(NVME.REG_CMBSZ) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      const sz = ctx.raw.reg32(NVME.REG_CMBSZ);
      check.ok(sz >>> NVME.CMBSZ_SZ_SHIFT > 0, 'CMBSZ.SZ > 0 after CRE', `CMBSZ=0x${sz.toString(16)}`);
      const bir = ctx.raw.reg32(NVME.REG_CMBLOC) & NVME.CMBLOC_BIR_MASK;
      check.ok(ctx.fn.barSize(bir) > 0, 'CMBLOC.BIR names a present BAR', `BIR=${bir}`);
      ctx.raw.writeReg64(NVME.REG_CMBMSC, 0);
      return check.outcome();
    },
  },
  cmbCase('dptr.cmb.data-roundtrip', 'Write data from the CMB, read it back into the CMB at CBA-relative addresses', 'NVMe 1.4 §4.7', async (ctx, check, cmb, info, q) => {
    if (!q || !(cmb.sz & NVME.CMBSZ_WDS) || !(cmb.sz & NVME.CMBSZ_RDS)) return { status: 'not-applicable', reason: `CMBSZ = 0x${cmb.sz.toString(16)}: the CMB does not hold both write (WDS) and read (RDS) data` };
    const n = info.lbaSize;
    for (let i = 0; i < n; i++) cmb.bytes[i] = (i * 5 + 3) & 0xff;
    check.status(await q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: cmb.cba, cdw10: 100 }), 0, 'Write from the CMB');
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: cmb.cba + 8192, cdw10: 100 }), 0, 'Read into the CMB');
    check.ok(Buffer.compare(Buffer.from(cmb.bytes.subarray(0, n)), Buffer.from(cmb.bytes.subarray(8192, 8192 + n))) === 0, 'data round-trips through the CMB', 'data differs');
  }, { destructive: true }),
  cmbCase('dptr.cmb.mixing', 'PRP1 in the CMB with PRP2 in host memory, and a CMB PRP list naming host pages: Invalid Use of Controller Memory Buffer', 'NVMe 1.4 §4.7', async (ctx, check, cmb, info, q) => {
    if (!q) return;
    // Probed with Reads: with RDS = 0 a Read into the CMB is refused for that alone.
    if (!(cmb.sz & NVME.CMBSZ_RDS)) return { status: 'not-applicable', reason: `${hex(cmb.sz)}: RDS = 0, a Read into the CMB is refused whatever the mix (dptr.cmb.read-data-refused checks that)` };
    const listsNote = cmb.sz & NVME.CMBSZ_LISTS ? '' : ' (LISTS = 0: refused for the list alone too)';
    const host = ctx.raw.alloc(3 * 4096);
    const blocks = 8192 / info.lbaSize;
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: cmb.cba, dptr2: host.iova, cdw12: blocks - 1 }), generic(NVME.SC_INVALID_CMB_USE), 'PRP1 CMB, PRP2 host');
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: host.iova, dptr2: cmb.cba, cdw12: blocks - 1 }), generic(NVME.SC_INVALID_CMB_USE), 'PRP1 host, PRP2 CMB');
    // PRP list in the CMB (offset 4096) listing host pages.
    const v = new DataView(cmb.bytes.buffer, cmb.bytes.byteOffset + 4096, 16);
    v.setUint32(0, host.iovaAt(4096), true);
    v.setUint32(8, host.iovaAt(8192), true);
    // Three pages need a list; within an 8 KiB MDTS, two pages from mid-page span three.
    const whole = !info.maxTransfer || info.maxTransfer >= 12288;
    const bytes = whole ? 12288 : 8192;
    const offset = whole ? 0 : 2048;
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: cmb.cba + 8192 + offset, dptr2: cmb.cba + 4096, cdw12: bytes / info.lbaSize - 1 }), generic(NVME.SC_INVALID_CMB_USE), `CMB data (${bytes / 1024} KiB, offset ${offset}) + CMB list naming host pages${listsNote}`);
  }),
  cmbCase('dptr.cmb.prp-list', 'A PRP list in the CMB naming CMB pages: read data lands where it says with CMBSZ.LISTS = 1, Invalid Use of Controller Memory Buffer with LISTS = 0', 'NVMe 1.4 §3.1.13, §4.3, §4.7', async (ctx, check, cmb, info, q) => {
    if (!q) return;
    if (!(cmb.sz & NVME.CMBSZ_RDS)) return { status: 'not-applicable', reason: `${hex(cmb.sz)}: RDS = 0, the CMB may not hold read data, so a list there cannot describe any` };
    // Three pages of data need a list; within an 8 KiB MDTS, two pages from mid-page span three.
    const whole = !info.maxTransfer || info.maxTransfer >= 12288;
    const bytes = whole ? 12288 : 8192;
    const offset = whole ? 0 : 2048;
    if (cmb.size < 8 * 4096) return { status: 'not-applicable', reason: `the CMB holds ${cmb.size} bytes, less than the 32 KiB the case lays out` };
    const list = new DataView(cmb.bytes.buffer, cmb.bytes.byteOffset + 4096, 16);
    list.setBigUint64(0, BigInt(cmb.cba + 3 * 4096), true);
    list.setBigUint64(8, BigInt(cmb.cba + 4 * 4096), true);
    const data = cmb.bytes.subarray(2 * 4096 + offset, 2 * 4096 + offset + bytes);
    data.fill(0xa5);
    const blocks = bytes / info.lbaSize;
    const c = await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: cmb.cba + 2 * 4096 + offset, dptr2: cmb.cba + 4096, cdw12: blocks - 1 });
    const what = `Read of ${bytes / 1024} KiB into CMB pages 2-4 (offset ${offset}) through a PRP list at CMB page 1`;
    if (!(cmb.sz & NVME.CMBSZ_LISTS)) {
      check.status(c, generic(NVME.SC_INVALID_CMB_USE), `${what}, LISTS = 0`);
      return;
    }
    check.status(c, 0, `${what}, LISTS = 1`);
    if (c.status !== 0) return;
    // Compare with the same blocks read into host memory.
    const host = ctx.raw.alloc(4 * 4096);
    const hostList = new DataView(host.bytes.buffer, host.bytes.byteOffset + 3 * 4096, 16);
    hostList.setBigUint64(0, BigInt(host.iovaAt(4096)), true);
    hostList.setBigUint64(8, BigInt(host.iovaAt(8192)), true);
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: host.iova, dptr2: whole ? host.iovaAt(3 * 4096) : host.iovaAt(4096), cdw12: blocks - 1 }), 0, 'the same blocks read into host memory');
    check.ok(Buffer.compare(Buffer.from(data), Buffer.from(host.bytes.subarray(0, bytes))) === 0, 'the CMB pages the list names hold the blocks', 'the CMB data differs from a host read');
  }),
  cmbCase('dptr.cmb.read-data-refused', 'With CMBSZ.RDS = 0, a Read into the CMB: Invalid Use of Controller Memory Buffer', 'NVMe 1.4 §3.1.13, §4.7', async (_ctx, check, cmb, _info, q) => {
    if (!q) return;
    if (cmb.sz & NVME.CMBSZ_RDS) return { status: 'not-applicable', reason: `${hex(cmb.sz)}: RDS = 1, read data may live in the CMB` };
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: cmb.cba, cdw10: 100 }), generic(NVME.SC_INVALID_CMB_USE), 'Read of one block into the CMB');
  }),
  cmbCase('dptr.cmb.write-data-refused', 'With CMBSZ.WDS = 0, a Write from the CMB: Invalid Use of Controller Memory Buffer', 'NVMe 1.4 §3.1.13, §4.7', async (_ctx, check, cmb, _info, q) => {
    if (!q) return;
    if (cmb.sz & NVME.CMBSZ_WDS) return { status: 'not-applicable', reason: `${hex(cmb.sz)}: WDS = 1, write data may live in the CMB` };
    check.status(await q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: cmb.cba, cdw10: 100 }), generic(NVME.SC_INVALID_CMB_USE), 'Write of one block from the CMB');
  }, { destructive: true }),
  cmbCase('admin.cmb.sq-in-cmb', 'An IO submission queue in the CMB: commands written through the BAR execute', 'NVMe 1.4 §4.7, §5.4', async (ctx, check, cmb, _info, _q) => {
    if (!(cmb.sz & NVME.CMBSZ_SQS)) return { status: 'not-applicable', reason: `CMBSZ = 0x${cmb.sz.toString(16)}: SQS = 0, submission queues may not live in the CMB` };
    await ctx.raw.setNumberOfQueues(1, 1);
    const cq = ctx.raw.alloc(4096);
    const sqOffset = cmb.size - 4096;
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_CREATE_CQ, dptr1: cq.iova, cdw10: 1 | (7 << 16), cdw11: 1 }), 0, 'Create IO CQ 1 (host memory)');
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_CREATE_SQ, dptr1: cmb.cba + sqOffset, cdw10: 1 | (7 << 16), cdw11: 1 | (1 << 16) }), 0, 'Create IO SQ 1 in the CMB');
    // The SQE is written through the BAR mapping, then the doorbell.
    const sqe = new DataView(cmb.bytes.buffer, cmb.bytes.byteOffset + sqOffset, 64);
    for (let i = 0; i < 64; i += 4) sqe.setUint32(i, 0, true);
    sqe.setUint32(0, NVME.IO_FLUSH | (0x55 << 16), true);
    sqe.setUint32(4, 1, true);
    ctx.raw.writeReg32(ctx.raw.sqDoorbell(1), 1);
    const cqv = new DataView(cq.bytes.buffer, cq.bytes.byteOffset, 16);
    const deadline = Date.now() + 3000;
    while (((cqv.getUint32(12, true) >>> NVME.CQE_PHASE_BIT) & 1) === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const dw3 = cqv.getUint32(12, true);
    check.ok((dw3 & 0xffff) === 0x55 && dw3 >>> NVME.CQE_SC_SHIFT === 0, 'the Flush from the CMB SQ completes with success', `dw3=0x${dw3.toString(16)}`);
    ctx.raw.writeReg32(ctx.raw.cqDoorbell(1), 1);
  }, { queue: false }),
  cmbCase('admin.cmb.sq-in-cmb-refused', 'With CMBSZ.SQS = 0, an IO submission queue in the CMB: Invalid Use of Controller Memory Buffer', 'NVMe 1.4 §3.1.13, §4.7, §5.4', async (ctx, check, cmb) => {
    if (cmb.sz & NVME.CMBSZ_SQS) return { status: 'not-applicable', reason: `${hex(cmb.sz)}: SQS = 1, submission queues may live in the CMB` };
    await ctx.raw.setNumberOfQueues(1, 1);
    const cq = ctx.raw.alloc(4096);
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_CREATE_CQ, dptr1: cq.iova, cdw10: 1 | (7 << 16), cdw11: 1 }), 0, 'Create IO CQ 1 (host memory)');
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_CREATE_SQ, dptr1: cmb.cba + cmb.size - 4096, cdw10: 1 | (7 << 16), cdw11: 1 | (1 << 16) }), generic(NVME.SC_INVALID_CMB_USE), 'Create IO SQ 1 in the CMB');
  }, { queue: false }),
  cmbCase('admin.cmb.cq-in-cmb', 'An IO completion queue in the CMB: completions are read through the BAR', 'NVMe 1.4 §3.1.13, §4.7, §5.3', async (ctx, check, cmb) => {
    if (!(cmb.sz & NVME.CMBSZ_CQS)) return { status: 'not-applicable', reason: `${hex(cmb.sz)}: CQS = 0, completion queues may not live in the CMB (admin.cmb.cq-in-cmb-refused checks the refusal)` };
    await ctx.raw.setNumberOfQueues(1, 1);
    const cqOffset = cmb.size - 4096;
    const cqv = new DataView(cmb.bytes.buffer, cmb.bytes.byteOffset + cqOffset, 4096);
    for (let i = 0; i < 4096; i += 4) cqv.setUint32(i, 0, true);
    const sq = ctx.raw.alloc(4096);
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_CREATE_CQ, dptr1: cmb.cba + cqOffset, cdw10: 1 | (7 << 16), cdw11: 1 }), 0, 'Create IO CQ 1 in the CMB');
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_CREATE_SQ, dptr1: sq.iova, cdw10: 1 | (7 << 16), cdw11: 1 | (1 << 16) }), 0, 'Create IO SQ 1 (host memory)');
    const sqe = new DataView(sq.bytes.buffer, sq.bytes.byteOffset, 64);
    for (let i = 0; i < 64; i += 4) sqe.setUint32(i, 0, true);
    sqe.setUint32(0, NVME.IO_FLUSH | (0x66 << 16), true);
    sqe.setUint32(4, 1, true);
    ctx.raw.writeReg32(ctx.raw.sqDoorbell(1), 1);
    const deadline = Date.now() + 3000;
    while (((cqv.getUint32(12, true) >>> NVME.CQE_PHASE_BIT) & 1) === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const dw3 = cqv.getUint32(12, true);
    check.ok((dw3 & 0xffff) === 0x66 && dw3 >>> NVME.CQE_SC_SHIFT === 0, 'the Flush completes with success into the CMB CQ', `dw3=0x${dw3.toString(16)}`);
    ctx.raw.writeReg32(ctx.raw.cqDoorbell(1), 1);
  }, { queue: false }),
  cmbCase('admin.cmb.cq-in-cmb-refused', 'With CMBSZ.CQS = 0, an IO completion queue in the CMB: Invalid Use of Controller Memory Buffer', 'NVMe 1.4 §4.7, §5.3', async (ctx, check, cmb) => {
    if (cmb.sz & NVME.CMBSZ_CQS) return { status: 'not-applicable', reason: `CMBSZ = 0x${cmb.sz.toString(16)}: CQS = 1, completion queues may live in the CMB` };
    await ctx.raw.setNumberOfQueues(1, 1);
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_CREATE_CQ, dptr1: cmb.cba, cdw10: 1 | (7 << 16), cdw11: 1 }), generic(NVME.SC_INVALID_CMB_USE), 'Create IO CQ in the CMB');
  }, { queue: false }),
];
