// Admin commands (NVMe 1.4 §5): Identify, Set/Get Features, IO queue creation and
// deletion, each with its success and error statuses.
import { NVME } from '../../spec/nvme';
import { Checker, adminExpect, finish, generic, msixTableSize, specific, u16, u32, type CaseBodyResult, type RawCase, type RawContext } from '../check';
import { readDeviceInfo } from '../device-info';
import type { SqeFields } from '../raw-queue';

function adminCase(id: string, purpose: string, spec: string, body: (ctx: RawContext, check: Checker) => Promise<CaseBodyResult>): RawCase {
  return {
    id,
    suite: 'admin',
    purpose,
    spec,
    async run(ctx) {
      const check = new Checker(ctx);
      return finish(check, await body(ctx, check));
    },
  };
}

const createCq = (qid: number, entries: number, base: number, flags = 1, iv = 0): SqeFields => ({
  opcode: NVME.ADMIN_CREATE_CQ,
  dptr1: base,
  cdw10: (qid | ((entries - 1) << 16)) >>> 0,
  cdw11: (flags | (iv << 16)) >>> 0,
});
const createSq = (qid: number, entries: number, base: number, cqid: number, flags = 1): SqeFields => ({
  opcode: NVME.ADMIN_CREATE_SQ,
  dptr1: base,
  cdw10: (qid | ((entries - 1) << 16)) >>> 0,
  cdw11: (flags | (cqid << 16)) >>> 0,
});

export const adminCases: RawCase[] = [
  adminCase('admin.identify.controller', 'Identify Controller succeeds; SQES=66h, CQES=44h, NN >= 1', 'NVMe 1.4 §5.15.2.1', async (ctx, check) => {
    await ctx.raw.enable();
    const { completion, data } = await ctx.raw.identify(NVME.CNS_CONTROLLER);
    check.status(completion, 0, 'Identify CNS 01h');
    check.ok(data[512] === 0x66, 'SQES = 66h', `SQES=0x${data[512].toString(16)}`);
    check.ok(data[513] === 0x44, 'CQES = 44h', `CQES=0x${data[513].toString(16)}`);
    check.ok(u32(data, 516) >= 1, 'NN >= 1', `NN=${u32(data, 516)}`);
    check.ok(u16(data, 0) !== 0, 'VID set', 'VID=0');
  }),
  adminCase('admin.identify.namespace', 'Identify Namespace 1: NSZE > 0, LBA data size 512 B..4 KiB', 'NVMe 1.4 §5.15.2.2', async (ctx, check) => {
    const info = await readDeviceInfo(ctx.raw);
    check.ok(info.blocks > 0, 'NSZE > 0', `NSZE=${info.blocks}`);
    check.ok(info.lbaSize >= 512 && info.lbaSize <= 4096, 'LBADS 9..12', `LBA size ${info.lbaSize}`);
  }),
  adminCase('admin.identify.invalid-namespace', 'Identify Namespace for NSID NN+1 and 0: Invalid Namespace or Format', 'NVMe 1.4 §5.15.2.2', async (ctx, check) => {
    const info = await readDeviceInfo(ctx.raw);
    const c = await ctx.raw.identify(NVME.CNS_NAMESPACE, info.namespaces + 1);
    check.status(c.completion, generic(NVME.SC_INVALID_NAMESPACE), `CNS 00h NSID ${info.namespaces + 1}`);
    const z = await ctx.raw.identify(NVME.CNS_NAMESPACE, 0);
    check.status(z.completion, generic(NVME.SC_INVALID_NAMESPACE), 'CNS 00h NSID 0');
  }),
  adminCase('admin.identify.active-ns-list', 'Active namespace list from NSID 0 starts with 1 and ascends', 'NVMe 1.4 §5.15.2.2 (CNS 02h)', async (ctx, check) => {
    await ctx.raw.enable();
    const { completion, data } = await ctx.raw.identify(NVME.CNS_ACTIVE_NS_LIST, 0);
    check.status(completion, 0, 'Identify CNS 02h');
    check.ok(u32(data, 0) === 1, 'first id is 1', `first id ${u32(data, 0)}`);
    let ascending = true;
    for (let i = 1; i < 1024 && u32(data, 4 * i) !== 0; i++) ascending &&= u32(data, 4 * i) > u32(data, 4 * i - 4);
    check.ok(ascending, 'ids ascend', 'not ascending');
    const bad = await ctx.raw.identify(NVME.CNS_ACTIVE_NS_LIST, 0xfffffffe);
    check.status(bad.completion, generic(NVME.SC_INVALID_NAMESPACE), 'CNS 02h NSID FFFFFFFEh');
  }),
  adminCase('admin.identify.ns-descriptors', 'Namespace identification descriptors for NSID 1 are well formed', 'NVMe 1.4 §5.15.2.3 (CNS 03h)', async (ctx, check) => {
    await ctx.raw.enable();
    const { completion, data } = await ctx.raw.identify(NVME.CNS_NS_DESCRIPTORS, 1);
    check.status(completion, 0, 'Identify CNS 03h');
    // NIDT 04h (Command Set Identifier, NIDL 1) is NVMe 2.0's; a 1.4 host may see it.
    const lengths: Record<number, number> = { [NVME.NIDT_EUI64]: 8, [NVME.NIDT_NGUID]: 16, [NVME.NIDT_UUID]: 16, [NVME.NIDT_CSI]: 1 };
    let off = 0;
    let count = 0;
    while (off < 4096 && data[off] !== 0) {
      check.ok(lengths[data[off]] === data[off + 1], `descriptor type ${data[off]} has its defined length`, `NIDL=${data[off + 1]}`);
      off += 4 + data[off + 1];
      count++;
    }
    check.ok(count >= 1, 'at least one descriptor', 'none');
  }),
  adminCase('admin.identify.invalid-cns', 'Identify with an undefined CNS (55h): Invalid Field in Command', 'NVMe 1.4 §5.15', async (ctx, check) => {
    await ctx.raw.enable();
    const c = await ctx.raw.identify(0x55, 0);
    check.status(c.completion, generic(NVME.SC_INVALID_FIELD), 'CNS 55h');
  }),
  adminCase('admin.invalid-opcode', 'An undefined admin opcode (7Fh): Invalid Command Opcode', 'NVMe 1.4 §4.6.1.2.1', async (ctx, check) => {
    await ctx.raw.enable();
    await adminExpect(ctx, check, { opcode: 0x7f }, generic(NVME.SC_INVALID_OPCODE), 'opcode 7Fh');
  }),
  adminCase('admin.psdt-sgl-refused', 'An admin command with PSDT=01b (SGL): Invalid Field in Command', 'NVMe 1.4 §4.2 (PSDT)', async (ctx, check) => {
    await ctx.raw.enable();
    const buf = ctx.raw.alloc(4096);
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_IDENTIFY, psdt: NVME.PSDT_SGL_MPTR_CONTIG, dptr1: buf.iova, cdw10: NVME.CNS_CONTROLLER }, generic(NVME.SC_INVALID_FIELD), 'Identify with PSDT=01b');
  }),
  adminCase('admin.features.number-of-queues', 'Set Features 07h answers the allocated counts; Get Features returns them; FFFFh is invalid', 'NVMe 1.4 §5.21.1.7', async (ctx, check) => {
    await ctx.raw.enable();
    // The controller may allocate fewer queues than requested (one of each is legal,
    // NVMe 1.4 §5.21.1.7), so the count is reported, not judged; what must hold is that
    // Get Features answers the allocation Set Features reported.
    const set = await ctx.raw.setNumberOfQueues(2, 2);
    check.status(set, 0, 'Set Features 07h (2 SQs, 2 CQs requested)');
    const get = await adminExpect(ctx, check, { opcode: NVME.ADMIN_GET_FEATURES, cdw10: NVME.FEAT_NUMBER_OF_QUEUES }, 0, 'Get Features 07h');
    check.ok(get.dw0 === set.dw0, 'Get returns what Set allocated', `get 0x${get.dw0.toString(16)} set 0x${set.dw0.toString(16)}`);
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_SET_FEATURES, cdw10: NVME.FEAT_NUMBER_OF_QUEUES, cdw11: 0xffff }, generic(NVME.SC_INVALID_FIELD), 'NSQR=FFFFh');
    return `${check.count} checks; ${(set.dw0 & 0xffff) + 1} SQ(s) and ${(set.dw0 >>> 16) + 1} CQ(s) allocated of 2 requested`;
  }),
  adminCase('admin.features.number-of-queues-after-create', 'Set Features 07h after IO queues exist: Command Sequence Error', 'NVMe 1.4 §5.21.1.7', async (ctx, check) => {
    await ctx.raw.enable();
    await ctx.raw.setNumberOfQueues(1, 1);
    await ctx.raw.createIoQueuePair(1, 8);
    const c = await ctx.raw.setNumberOfQueues(1, 1);
    check.status(c, generic(NVME.SC_COMMAND_SEQUENCE_ERROR), 'Set Features 07h after Create IO SQ');
  }),
  adminCase('admin.features.volatile-write-cache', 'Volatile Write Cache: Set WCE=0 then Get returns 0', 'NVMe 1.4 §5.21.1.6', async (ctx, check) => {
    await ctx.raw.enable();
    const { data } = await ctx.raw.identify(NVME.CNS_CONTROLLER);
    if (!(data[525] & 1)) {
      await adminExpect(ctx, check, { opcode: NVME.ADMIN_GET_FEATURES, cdw10: NVME.FEAT_VOLATILE_WRITE_CACHE }, generic(NVME.SC_INVALID_FIELD), 'no VWC: Get 06h');
      return;
    }
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_SET_FEATURES, cdw10: NVME.FEAT_VOLATILE_WRITE_CACHE, cdw11: 0 }, 0, 'Set 06h WCE=0');
    const g = await adminExpect(ctx, check, { opcode: NVME.ADMIN_GET_FEATURES, cdw10: NVME.FEAT_VOLATILE_WRITE_CACHE }, 0, 'Get 06h');
    check.ok((g.dw0 & 1) === 0, 'WCE reads 0', `dw0=0x${g.dw0.toString(16)}`);
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_SET_FEATURES, cdw10: NVME.FEAT_VOLATILE_WRITE_CACHE, cdw11: 1 }, 0, 'Set 06h WCE=1');
  }),
  adminCase('admin.features.not-saveable', 'Set Features with SV=1 on a feature that cannot be saved: Feature Identifier Not Saveable', 'NVMe 1.4 §5.21', async (ctx, check) => {
    await ctx.raw.enable();
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_SET_FEATURES, cdw10: (NVME.FEAT_NUMBER_OF_QUEUES | 0x80000000) >>> 0, cdw11: 0 }, specific(NVME.SC_FEATURE_NOT_SAVEABLE), 'Set 07h SV=1');
  }),
  adminCase('admin.features.unknown', 'Get Features of an undefined feature (7Eh): Invalid Field in Command', 'NVMe 1.4 §5.15', async (ctx, check) => {
    await ctx.raw.enable();
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_GET_FEATURES, cdw10: 0x7e }, generic(NVME.SC_INVALID_FIELD), 'Get 7Eh');
  }),
  adminCase('admin.create-cq.checks', 'Create IO CQ: bad queue id, size 1 or above MQES, PC=0, bad interrupt vector; each with its status', 'NVMe 1.4 §5.3', async (ctx, check) => {
    const info = await readDeviceInfo(ctx.raw);
    const set = await ctx.raw.setNumberOfQueues(1, 1);
    const ncqa = (set.dw0 >>> 16) + 1;
    const cq = ctx.raw.alloc(65536);
    await adminExpect(ctx, check, createCq(0, 8, cq.iova), specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), 'QID 0');
    await adminExpect(ctx, check, createCq(ncqa + 1, 8, cq.iova), specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), `QID ${ncqa + 1} > allocated`);
    await adminExpect(ctx, check, createCq(1, 1, cq.iova), specific(NVME.SC_INVALID_QUEUE_SIZE), 'QSIZE 0 (one entry)');
    if (info.maxQueueEntries < 65536) {
      await adminExpect(ctx, check, createCq(1, info.maxQueueEntries + 1, cq.iova), specific(NVME.SC_INVALID_QUEUE_SIZE), 'QSIZE > MQES');
    }
    await adminExpect(ctx, check, createCq(1, 8, cq.iova, 1 | 2, 0x7ff), specific(NVME.SC_INVALID_INTERRUPT_VECTOR), 'IV 7FFh');
    // The first vector past the function's MSI-X table (PCI 3.0 §6.8.2.3) is one the
    // controller cannot signal: Invalid Interrupt Vector (NVMe 1.4 §5.3). With a single
    // vector, that is IV 1.
    const vectors = msixTableSize(ctx.fn);
    if (vectors > 0 && vectors < 0x7ff) await adminExpect(ctx, check, createCq(1, 8, cq.iova, 1 | 2, vectors), specific(NVME.SC_INVALID_INTERRUPT_VECTOR), `IV ${vectors} (the MSI-X table has ${vectors} vector(s))`);
    if (info.contiguousRequired) await adminExpect(ctx, check, createCq(1, 8, cq.iova, 0), generic(NVME.SC_INVALID_FIELD), 'PC=0 with CAP.CQR=1');
    await adminExpect(ctx, check, createCq(1, 8, cq.iova), 0, 'a valid Create IO CQ');
    await adminExpect(ctx, check, createCq(1, 8, cq.iova), specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), 'QID 1 again');
  }),
  adminCase('admin.create-sq.checks', 'Create IO SQ: bad queue id, missing CQ, bad size, PC=0; each with its status', 'NVMe 1.4 §5.4', async (ctx, check) => {
    const info = await readDeviceInfo(ctx.raw);
    await ctx.raw.setNumberOfQueues(1, 1);
    const cq = ctx.raw.alloc(4096);
    const sq = ctx.raw.alloc(65536);
    await adminExpect(ctx, check, createSq(1, 8, sq.iova, 1), specific(NVME.SC_COMPLETION_QUEUE_INVALID), 'CQ 1 does not exist');
    await adminExpect(ctx, check, createCq(1, 8, cq.iova), 0, 'Create IO CQ 1');
    await adminExpect(ctx, check, createSq(1, 8, sq.iova, 0), specific(NVME.SC_COMPLETION_QUEUE_INVALID), 'CQID 0 (admin CQ)');
    await adminExpect(ctx, check, createSq(0, 8, sq.iova, 1), specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), 'QID 0');
    await adminExpect(ctx, check, createSq(1, 1, sq.iova, 1), specific(NVME.SC_INVALID_QUEUE_SIZE), 'QSIZE 0');
    if (info.maxQueueEntries < 65536) {
      await adminExpect(ctx, check, createSq(1, info.maxQueueEntries + 1, sq.iova, 1), specific(NVME.SC_INVALID_QUEUE_SIZE), 'QSIZE > MQES');
    }
    if (info.contiguousRequired) await adminExpect(ctx, check, createSq(1, 8, sq.iova, 1, 0), generic(NVME.SC_INVALID_FIELD), 'PC=0 with CAP.CQR=1');
    await adminExpect(ctx, check, createSq(1, 8, sq.iova, 1), 0, 'a valid Create IO SQ');
  }),
  adminCase('admin.delete-queues.checks', 'Delete IO CQ with an SQ on it: Invalid Queue Deletion; deleting a missing queue: Invalid Queue Identifier', 'NVMe 1.4 §5.6, §5.7', async (ctx, check) => {
    await ctx.raw.enable();
    await ctx.raw.setNumberOfQueues(1, 1);
    await ctx.raw.createIoQueuePair(1, 8);
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_DELETE_CQ, cdw10: 1 }, specific(NVME.SC_INVALID_QUEUE_DELETION), 'Delete CQ 1 with SQ 1 on it');
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_DELETE_SQ, cdw10: 0 }, specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), 'Delete SQ 0');
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_DELETE_SQ, cdw10: 2 }, specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), 'Delete SQ 2 (never created)');
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_DELETE_SQ, cdw10: 1 }, 0, 'Delete SQ 1');
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_DELETE_CQ, cdw10: 1 }, 0, 'Delete CQ 1');
    await adminExpect(ctx, check, { opcode: NVME.ADMIN_DELETE_CQ, cdw10: 1 }, specific(NVME.SC_INVALID_QUEUE_IDENTIFIER), 'Delete CQ 1 again');
  }),
];
