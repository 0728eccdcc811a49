// Register behaviour (NVMe 1.4 §3.1, §7.3, §7.6): CAP fields, enable, disable, shutdown,
// fatal status on bad enable parameters, and IOMMU faults on queue accesses.
import { NVME } from '../../spec/nvme';
import { Checker, specific, unmappedIova, type RawCase } from '../check';
import type { RawEnableOptions } from '../raw-queue';

const capField = (cap: number, shift: number, mask: number): number => Math.floor(cap / 2 ** shift) & mask;

// Enabling with one bad parameter must raise CSTS.CFS and never RDY.
function badEnableCase(id: string, purpose: string, spec: string, opts: (iova: number) => RawEnableOptions): RawCase {
  return {
    id,
    suite: 'registers',
    purpose,
    spec,
    async run(ctx) {
      const check = new Checker(ctx);
      const page = ctx.raw.alloc(8192);
      const result = await ctx.raw.enable(opts(page.iova));
      check.ok(result === 'fatal', 'CSTS.CFS=1 and RDY=0 after CC.EN=1', `enable() gave '${result}', CSTS=0x${ctx.raw.reg32(NVME.REG_CSTS).toString(16)}`);
      ctx.raw.writeReg32(NVME.REG_CC, 0);
      await ctx.raw.waitCsts(NVME.CSTS_CFS | NVME.CSTS_RDY, 0, 1000);
      const csts = ctx.raw.reg32(NVME.REG_CSTS);
      check.ok((csts & (NVME.CSTS_CFS | NVME.CSTS_RDY)) === 0, 'CC.EN=0 clears CSTS.CFS', `CSTS=0x${csts.toString(16)}`);
      check.ok((await ctx.raw.enable()) === 'ready', 'a correct enable works afterwards', 'not ready');
      return check.outcome();
    },
  };
}

export const registerCases: RawCase[] = [
  {
    id: 'registers.cap.fields',
    suite: 'registers',
    purpose: 'CAP: MQES >= 1, CSS has the NVM command set, MPSMIN <= MPSMAX, TO > 0',
    spec: 'NVMe 1.4 §3.1.1',
    async run(ctx) {
      const check = new Checker(ctx);
      const cap = ctx.raw.reg64(NVME.REG_CAP);
      check.ok((cap % 65536) >= 1, 'MQES >= 1 (queues of at least 2 entries)', `MQES=${cap % 65536}`);
      check.ok((capField(cap, NVME.CAP_CSS_SHIFT, 0xff) & NVME.CAP_CSS_NVM) !== 0, 'CAP.CSS bit 0 (NVM command set)', `CSS=0x${capField(cap, NVME.CAP_CSS_SHIFT, 0xff).toString(16)}`);
      check.ok(capField(cap, NVME.CAP_MPSMIN_SHIFT, 0xf) <= capField(cap, NVME.CAP_MPSMAX_SHIFT, 0xf), 'MPSMIN <= MPSMAX', `cap=0x${cap.toString(16)}`);
      check.ok(capField(cap, NVME.CAP_TO_SHIFT, 0xff) > 0, 'CAP.TO > 0', 'TO=0');
      const vs = ctx.raw.reg32(NVME.REG_VS);
      check.ok(vs >>> 16 >= 1, 'VS major version >= 1', `VS=0x${vs.toString(16)}`);
      return check.outcome();
    },
  },
  {
    id: 'registers.enable.ready',
    suite: 'registers',
    purpose: 'CC.EN=1 with valid admin queues sets CSTS.RDY=1 within CAP.TO; CC.EN=0 clears it',
    spec: 'NVMe 1.4 §3.1.5, §7.6.1',
    async run(ctx) {
      const check = new Checker(ctx);
      check.ok((await ctx.raw.enable()) === 'ready', 'CSTS.RDY=1', `CSTS=0x${ctx.raw.reg32(NVME.REG_CSTS).toString(16)}`);
      ctx.raw.writeReg32(NVME.REG_CC, 0);
      check.ok(await ctx.raw.waitCsts(NVME.CSTS_RDY, 0), 'CSTS.RDY=0 after CC.EN=0', `CSTS=0x${ctx.raw.reg32(NVME.REG_CSTS).toString(16)}`);
      return check.outcome();
    },
  },
  {
    id: 'registers.disable.drops-io-queues',
    suite: 'registers',
    purpose: 'a controller reset (CC.EN 1->0) deletes every IO queue',
    spec: 'NVMe 1.4 §7.3.2',
    async run(ctx) {
      const check = new Checker(ctx);
      await ctx.raw.enable();
      await ctx.raw.setNumberOfQueues(1, 1);
      await ctx.raw.createIoQueuePair(1, 8);
      await ctx.raw.enable(); // disables first
      await ctx.raw.setNumberOfQueues(1, 1);
      const c = await ctx.raw.adminCommand({ opcode: NVME.ADMIN_DELETE_SQ, cdw10: 1 });
      check.status(c, specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), 'Delete IO SQ 1 after reset');
      return check.outcome();
    },
  },
  {
    id: 'registers.shutdown.shst',
    suite: 'registers',
    purpose: 'CC.SHN=01b leads to CSTS.SHST=10b (shutdown complete)',
    spec: 'NVMe 1.4 §3.1.5, §7.6.2',
    async run(ctx) {
      const check = new Checker(ctx);
      await ctx.raw.enable();
      ctx.raw.writeReg32(NVME.REG_CC, ctx.raw.reg32(NVME.REG_CC) | (NVME.CC_SHN_NORMAL << NVME.CC_SHN_SHIFT));
      const done = await ctx.raw.waitCsts(NVME.CSTS_SHST_MASK, NVME.SHST_COMPLETE << NVME.CSTS_SHST_SHIFT);
      check.ok(done, 'CSTS.SHST=10b', `CSTS=0x${ctx.raw.reg32(NVME.REG_CSTS).toString(16)}`);
      await ctx.raw.disable();
      return check.outcome();
    },
  },
  badEnableCase('registers.enable.bad-aqa', 'ASQS=0 (a one-entry admin SQ) at enable: CSTS.CFS', 'NVMe 1.4 §3.1.8, §7.6.1', () => ({ aqa: 0x001f0000 })),
  badEnableCase('registers.enable.bad-asq-alignment', 'an ASQ that is not page-aligned at enable: CSTS.CFS', 'NVMe 1.4 §3.1.9', (iova) => ({ asq: iova + 64 })),
  badEnableCase('registers.enable.bad-iosqes', 'CC.IOSQES other than 6 (64-byte SQEs) at enable: CSTS.CFS', 'NVMe 1.4 §3.1.5', () => ({ ccClear: 0xf << NVME.CC_IOSQES_SHIFT, ccSet: 5 << NVME.CC_IOSQES_SHIFT })),
  badEnableCase('registers.enable.bad-iocqes', 'CC.IOCQES other than 4 (16-byte CQEs) at enable: CSTS.CFS', 'NVMe 1.4 §3.1.5', () => ({ ccClear: 0xf << NVME.CC_IOCQES_SHIFT, ccSet: 3 << NVME.CC_IOCQES_SHIFT })),
  badEnableCase('registers.enable.bad-mps', 'CC.MPS above CAP.MPSMAX at enable: CSTS.CFS', 'NVMe 1.4 §3.1.5', () => ({ mps: 15 })),
  {
    id: 'registers.iommu.sq-fetch-fault',
    suite: 'errors',
    purpose: 'an admin SQ at an unmapped IOVA: the fetch faults and the controller sets CSTS.CFS',
    spec: 'NVMe 1.4 §3.1.6 (CFS); PCIe IOMMU translation',
    async run(ctx) {
      const check = new Checker(ctx);
      const result = await ctx.raw.enable({ asq: unmappedIova(ctx) });
      check.ok(result === 'ready', 'the controller becomes ready (ASQ is not read at enable)', result);
      ctx.raw.writeReg32(ctx.raw.sqDoorbell(0), 1);
      check.ok(await ctx.raw.waitCsts(NVME.CSTS_CFS, NVME.CSTS_CFS, 2000), 'CSTS.CFS=1 after the doorbell', `CSTS=0x${ctx.raw.reg32(NVME.REG_CSTS).toString(16)}`);
      await ctx.raw.disable();
      return check.outcome();
    },
  },
  {
    id: 'registers.iommu.cq-post-fault',
    suite: 'errors',
    purpose: 'an admin CQ at an unmapped IOVA: posting faults and the controller sets CSTS.CFS',
    spec: 'NVMe 1.4 §3.1.6 (CFS); PCIe IOMMU translation',
    async run(ctx) {
      const check = new Checker(ctx);
      await ctx.raw.enable({ acq: unmappedIova(ctx) });
      ctx.raw.admin?.submit({ opcode: NVME.ADMIN_GET_FEATURES, cdw10: NVME.FEAT_NUMBER_OF_QUEUES });
      check.ok(await ctx.raw.waitCsts(NVME.CSTS_CFS, NVME.CSTS_CFS, 2000), 'CSTS.CFS=1 after the command', `CSTS=0x${ctx.raw.reg32(NVME.REG_CSTS).toString(16)}`);
      await ctx.raw.disable();
      return check.outcome();
    },
  },
  {
    id: 'registers.bus-master.gates-dma',
    suite: 'registers',
    purpose: 'with Bus Master Enable clear the controller does no DMA; commands run once it is set',
    spec: 'PCI 3.0 §6.2.2 (Command register)',
    async run(ctx) {
      const check = new Checker(ctx);
      await ctx.raw.enable();
      ctx.raw.busMaster(false);
      const q = ctx.raw.admin;
      if (!q) return { status: 'fail', expected: 'admin queue', received: 'none' };
      q.submit({ opcode: NVME.ADMIN_GET_FEATURES, cdw10: NVME.FEAT_NUMBER_OF_QUEUES });
      check.ok(await q.noCompletionWithin(50), 'no completion while BME=0', 'a completion was posted');
      ctx.raw.busMaster(true);
      const c = await q.reap();
      check.status(c, 0, 'the command completes after BME=1');
      return check.outcome();
    },
  },
];
