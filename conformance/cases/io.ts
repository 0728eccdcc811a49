// Optional NVM commands and logs (NVMe 1.4 §5.14, §6): Write Zeroes, Dataset Management,
// Compare, Verify; Get Log Page 01h/02h/03h; Abort; Asynchronous Event Request; Format.
import { NVME } from '../../spec/nvme';
import { Checker, finish, type CaseBodyResult, generic, specific, u32, u64, type RawCase, type RawContext } from '../check';
import { readDeviceInfo, type DeviceInfo } from '../device-info';
import { statusField, type RawQueue } from '../raw-queue';

interface Setup {
  info: DeviceInfo;
  q: RawQueue;
  oncs: number;
}

function ioCase(id: string, suite: 'integrity' | 'admin', purpose: string, spec: string, body: (ctx: RawContext, check: Checker, s: Setup) => Promise<CaseBodyResult>, destructive = false): RawCase {
  return {
    id,
    suite,
    purpose,
    spec,
    destructive,
    async run(ctx) {
      const info = await readDeviceInfo(ctx.raw);
      const { data } = await ctx.raw.identify(NVME.CNS_CONTROLLER);
      await ctx.raw.setNumberOfQueues(1, 1);
      const q = await ctx.raw.createIoQueuePair(1, 16);
      const check = new Checker(ctx);
      return finish(check, await body(ctx, check, { info, q, oncs: data[520] | (data[521] << 8) }));
    },
  };
}

const { ONCS_COMPARE, ONCS_DSM, ONCS_WRITE_ZEROES } = NVME;
const ONCS_VERIFY = ONCS_COMPARE << 7; // ONCS bit 7 (Verify)

async function getLog(ctx: RawContext, lid: number, bytes: number, nsid = 0xffffffff): Promise<{ status: number; data: Uint8Array }> {
  const buf = ctx.raw.alloc(4096);
  const c = await ctx.raw.adminCommand({ opcode: NVME.ADMIN_GET_LOG_PAGE, nsid, dptr1: buf.iova, cdw10: (lid | ((bytes / 4 - 1) << 16)) >>> 0 });
  return { status: c.status, data: buf.bytes };
}

export const ioCases: RawCase[] = [
  ioCase('integrity.write-zeroes', 'integrity', 'Write Zeroes makes written blocks read as zeros', 'NVMe 1.4 §6.16', async (ctx, check, { info, q, oncs }) => {
    if (!(oncs & ONCS_WRITE_ZEROES)) return { status: 'not-applicable', reason: 'Identify Controller ONCS bit 3 = 0: no Write Zeroes' };
    const buf = ctx.raw.alloc(4096);
    buf.bytes.fill(0xa5);
    check.status(await q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: buf.iova, cdw10: 200 }), 0, 'Write a pattern');
    check.status(await q.run({ opcode: NVME.IO_WRITE_ZEROES, nsid: 1, cdw10: 200 }), 0, 'Write Zeroes');
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: buf.iova, cdw10: 200 }), 0, 'Read back');
    check.ok(buf.bytes.subarray(0, info.lbaSize).every((b) => b === 0), 'the block reads as zeros', 'non-zero bytes');
    check.status(await q.run({ opcode: NVME.IO_WRITE_ZEROES, nsid: 1, cdw10: info.blocks % 2 ** 32, cdw11: Math.floor(info.blocks / 2 ** 32) }), generic(NVME.SC_LBA_OUT_OF_RANGE), 'Write Zeroes at NSZE');
  }, true),
  ioCase('integrity.dsm-deallocate', 'integrity', 'Dataset Management with AD deallocates; with DLFEAT=001b the blocks read as zeros', 'NVMe 1.4 §6.7', async (ctx, check, { info, q, oncs }) => {
    if (!(oncs & ONCS_DSM)) return { status: 'not-applicable', reason: 'Identify Controller ONCS bit 2 = 0: no Dataset Management' };
    const { data } = await ctx.raw.identify(NVME.CNS_NAMESPACE, 1);
    const buf = ctx.raw.alloc(4096);
    buf.bytes.fill(0x5a);
    check.status(await q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: buf.iova, cdw10: 300 }), 0, 'Write a pattern');
    const ranges = ctx.raw.alloc(4096);
    const v = new DataView(ranges.bytes.buffer, ranges.bytes.byteOffset, 32);
    v.setUint32(4, 1, true); // length in LBAs
    v.setUint32(8, 300, true); // starting LBA
    check.status(await q.run({ opcode: NVME.IO_DATASET_MANAGEMENT, nsid: 1, dptr1: ranges.iova, cdw10: 0, cdw11: 1 << 2 }), 0, 'DSM deallocate LBA 300');
    if ((data[33] & 0x7) === 1) {
      check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: buf.iova, cdw10: 300 }), 0, 'Read back');
      check.ok(buf.bytes.subarray(0, info.lbaSize).every((b) => b === 0), 'deallocated block reads as zeros', 'non-zero bytes');
    }
    v.setUint32(8, info.blocks % 2 ** 32, true);
    v.setUint32(12, Math.floor(info.blocks / 2 ** 32), true);
    check.status(await q.run({ opcode: NVME.IO_DATASET_MANAGEMENT, nsid: 1, dptr1: ranges.iova, cdw10: 0, cdw11: 1 << 2 }), generic(NVME.SC_LBA_OUT_OF_RANGE), 'DSM range past NSZE');
  }, true),
  ioCase('integrity.compare', 'integrity', 'Compare: equal data succeeds, different data fails with Compare Failure', 'NVMe 1.4 §6.6', async (ctx, check, { info, q, oncs }) => {
    if (!(oncs & ONCS_COMPARE)) return { status: 'not-applicable', reason: 'Identify Controller ONCS bit 0 = 0: no Compare' };
    const buf = ctx.raw.alloc(4096);
    for (let i = 0; i < info.lbaSize; i++) buf.bytes[i] = i & 0xff;
    check.status(await q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: buf.iova, cdw10: 400 }), 0, 'Write a pattern');
    check.status(await q.run({ opcode: NVME.IO_COMPARE, nsid: 1, dptr1: buf.iova, cdw10: 400 }), 0, 'Compare equal data');
    buf.bytes[17] ^= 0xff;
    check.statusAnyDnr(await q.run({ opcode: NVME.IO_COMPARE, nsid: 1, dptr1: buf.iova, cdw10: 400 }), statusField(NVME.SCT_MEDIA, NVME.SC_COMPARE_FAILURE), 'Compare different data');
  }, true),
  ioCase('integrity.verify', 'integrity', 'Verify of valid blocks succeeds; past the end: LBA Out of Range', 'NVMe 1.4 §6.14', async (_ctx, check, { info, q, oncs }) => {
    if (!(oncs & ONCS_VERIFY)) return { status: 'not-applicable', reason: 'Identify Controller ONCS bit 7 = 0: no Verify' };
    check.status(await q.run({ opcode: NVME.IO_VERIFY, nsid: 1, cdw10: 0, cdw12: 7 }), 0, 'Verify 8 blocks');
    check.status(await q.run({ opcode: NVME.IO_VERIFY, nsid: 1, cdw10: info.blocks % 2 ** 32, cdw11: Math.floor(info.blocks / 2 ** 32) }), generic(NVME.SC_LBA_OUT_OF_RANGE), 'Verify at NSZE');
    // Verify itself writes nothing, but the integrity suite as a whole runs only with
    // --destructive (phyr validate), so every case in it is marked so.
  }, true),
  ioCase('admin.log.smart-counters', 'admin', 'SMART / Health log: Host Read Commands grows by the reads done', 'NVMe 1.4 §5.14.1.2', async (ctx, check, { q }) => {
    const before = await getLog(ctx, NVME.LOG_SMART, 512);
    check.status(before, 0, 'Get Log Page 02h');
    const reads0 = u64(before.data, 64);
    const buf = ctx.raw.alloc(4096);
    for (let i = 0; i < 3; i++) await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: buf.iova, cdw10: i });
    const after = await getLog(ctx, NVME.LOG_SMART, 512);
    check.ok(u64(after.data, 64) - reads0 >= 3, 'Host Read Commands +3', `${reads0} -> ${u64(after.data, 64)}`);
    check.ok(after.data[3] <= 100, 'Available Spare is a percentage', `${after.data[3]}`);
  }),
  ioCase('admin.log.error-information', 'admin', 'Error Information log: after a failed command its newest entry names it', 'NVMe 1.4 §5.14.1.1', async (ctx, check, { q }) => {
    const bad = await q.run({ opcode: 0x7e, nsid: 1 });
    const log = await getLog(ctx, NVME.LOG_ERROR, 64);
    check.status(log, 0, 'Get Log Page 01h');
    check.ok(u64(log.data, 0) >= 1, 'Error Count >= 1', `${u64(log.data, 0)}`);
    const sqid = log.data[8] | (log.data[9] << 8);
    const cid = log.data[10] | (log.data[11] << 8);
    check.ok(sqid === 1 && cid === bad.cid, 'the newest entry names SQ 1 and the failed CID', `sqid ${sqid} cid ${cid} (failed cid ${bad.cid})`);
  }),
  ioCase('admin.log.firmware-slot', 'admin', 'Firmware Slot Information log: an active slot 1..7', 'NVMe 1.4 §5.14.1.3', async (ctx, check) => {
    const log = await getLog(ctx, NVME.LOG_FIRMWARE_SLOT, 512);
    check.status(log, 0, 'Get Log Page 03h');
    const afi = log.data[0] & 0x7;
    check.ok(afi >= 1 && afi <= 7, 'AFI names slot 1..7', `AFI=${log.data[0]}`);
    check.ok(u32(log.data, 8 * afi) !== 0, 'the active slot has a revision', 'empty');
  }),
  ioCase('admin.log.invalid', 'admin', 'Get Log Page of a reserved log identifier (7Fh): Invalid Log Page', 'NVMe 1.4 §5.14', async (ctx, check) => {
    const log = await getLog(ctx, 0x7f, 64);
    check.status(log, specific(NVME.SC_INVALID_LOG_PAGE), 'LID 7Fh');
  }),
  ioCase('admin.abort.unknown-command', 'admin', 'Abort of a command that is not outstanding succeeds with DW0 bit 0 = 1 (not aborted)', 'NVMe 1.4 §5.1', async (ctx, check) => {
    const c = await ctx.raw.adminCommand({ opcode: NVME.ADMIN_ABORT, cdw10: (1 | (0x1234 << 16)) >>> 0 });
    check.status(c, 0, 'Abort SQ 1 CID 1234h');
    check.ok((c.dw0 & 1) === 1, 'DW0 bit 0 = 1', `dw0=0x${c.dw0.toString(16)}`);
  }),
  ioCase('admin.aer.invalid-doorbell', 'admin', 'An outstanding Asynchronous Event Request completes with an error event when a doorbell gets an invalid value', 'NVMe 1.4 §5.2, §4.1', async (ctx, check, { q }) => {
    const admin = ctx.raw.admin;
    if (!admin) return;
    admin.submit({ opcode: NVME.ADMIN_ASYNC_EVENT_REQUEST });
    check.ok(await admin.noCompletionWithin(20), 'the AER stays outstanding', 'completed at once');
    ctx.raw.writeReg32(ctx.raw.sqDoorbell(1), q.entries + 3); // tail beyond the queue
    const c = await admin.reap();
    check.status(c, 0, 'AER completion');
    check.ok((c.dw0 & 0x7) === 0 && ((c.dw0 >> 8) & 0xff) === 1, 'event type 0 (error), info 01h (invalid doorbell write value)', `dw0=0x${c.dw0.toString(16)}`);
    ctx.raw.writeReg32(ctx.raw.sqDoorbell(1), q.sqTail);
  }),
  ioCase('admin.aer.limit', 'admin', 'More outstanding Asynchronous Event Requests than AERL + 1: Asynchronous Event Request Limit Exceeded', 'NVMe 1.4 §5.2', async (ctx, check) => {
    const { data } = await ctx.raw.identify(NVME.CNS_CONTROLLER);
    const limit = data[259] + 1;
    const admin = ctx.raw.admin;
    if (!admin) return;
    for (let i = 0; i < limit; i++) admin.submit({ opcode: NVME.ADMIN_ASYNC_EVENT_REQUEST });
    const c = await ctx.raw.adminCommand({ opcode: NVME.ADMIN_ASYNC_EVENT_REQUEST });
    check.statusAnyDnr(c, specific(NVME.SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED), `AER number ${limit + 1}`);
  }),
  ioCase('admin.format.lbaf', 'admin', 'Format NVM to a supported LBA format succeeds and erases; an unsupported one: Invalid Format', 'NVMe 1.4 §5.23', async (ctx, check, { info, q }) => {
    const { data } = await ctx.raw.identify(NVME.CNS_NAMESPACE, 1);
    const flbas = data[26] & 0xf;
    const nlbaf = data[25] + 1;
    const buf = ctx.raw.alloc(4096);
    buf.bytes.fill(0x77);
    await q.run({ opcode: NVME.IO_WRITE, nsid: 1, dptr1: buf.iova, cdw10: 5 });
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_FORMAT_NVM, nsid: 1, cdw10: 15 }, 60000), specific(NVME.SC_INVALID_FORMAT), 'Format to LBAF 15');
    check.status(await ctx.raw.adminCommand({ opcode: NVME.ADMIN_FORMAT_NVM, nsid: 1, cdw10: flbas | (1 << 9) }, 60000), 0, `Format to the current LBAF ${flbas} with user data erase`);
    check.status(await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: buf.iova, cdw10: 5 }), 0, 'Read after format');
    check.ok(buf.bytes.subarray(0, info.lbaSize).every((b) => b === 0), 'erased data reads as zeros', 'old data');
    check.ok(nlbaf >= 1, 'NLBAF', `${nlbaf}`);
  }, true),
];
