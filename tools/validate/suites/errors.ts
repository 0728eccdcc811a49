// The errors suite's driver-level cases: commands the driver's Namespace API refuses to
// send (it checks LBA ranges and namespaces itself) are sent through the driver's batch
// queue pair, so the controller's answer is what is checked; and what a read of
// deallocated blocks returns is compared with what the controller says it returns.
import { statusName } from '../../../drivers/nvme';
import type { QueuePair } from '../../../drivers/nvme';
import { NVME } from '../../../spec/nvme';
import type { Namespace } from '../../../drivers/nvme';
import type { DmaBuffer } from '../../../lib/dma/pool';
import { fillBlocks, verifyBlock } from '../pattern';
import { commandFailure } from './integrity';
import type { CaseOutcome, ValidateCase, ValidateContext } from '../types';
import { driverOf } from './driver-access';
import { runOne, type QueuedOp } from './qp-io';

/** Completion timeout of one error command. */
const TIMEOUT_MS = 30_000;

/** A status as reports print it: '0x4080 LBA Out of Range (SCT 0, SC 80h, DNR)'. */
export function describeStatus(status: number): string {
  if (status < 0) return 'no completion';
  const sc = status & NVME.STATUS_SC_MASK;
  const sct = (status >> NVME.STATUS_SCT_SHIFT) & NVME.STATUS_SCT_MASK;
  const dnr = status & NVME.STATUS_DNR;
  return `0x${status.toString(16).padStart(4, '0')} ${status ? statusName(sct, sc) : 'Successful Completion'} (SCT ${sct}, SC ${sc.toString(16).padStart(2, '0')}h${dnr ? ', DNR' : ''})`;
}

function opName(op: Omit<QueuedOp, 'after'>): string {
  const name = op.opcode === NVME.IO_READ ? 'Read' : op.opcode === NVME.IO_WRITE ? 'Write' : `opcode ${op.opcode.toString(16).padStart(2, '0')}h`;
  return op.kind === 'io' ? `${name} nsid=${op.nsid} slba=${op.lba} blocks=${op.blocks}` : `${name} nsid=${op.nsid} cdw10=0x${(op.cdw10 ?? 0).toString(16)}`;
}

/** True when `err` is the driver's "every granted IO queue pair is in use". */
function noQueuesLeft(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'PHYR_NO_QUEUES';
}

/** Judges a completion status against the expected SCT/SC. */
function judge(status: number, sct: number, sc: number, why: string, sent: string, note = ''): CaseOutcome {
  const got = { sct: (status >> NVME.STATUS_SCT_SHIFT) & NVME.STATUS_SCT_MASK, sc: status & NVME.STATUS_SC_MASK };
  const expected = `${describeStatus((sct << NVME.STATUS_SCT_SHIFT) | sc).replace(/^0x[0-9a-f]+ /, '')}: ${why}`;
  if (got.sct !== sct || got.sc !== sc) return { status: 'fail', sent, expected, received: describeStatus(status) };
  const dnr = status & NVME.STATUS_DNR;
  return { status: 'pass', detail: `${describeStatus(status)}${dnr ? '' : ' (DNR clear: the controller says a retry might succeed)'}${note}` };
}

/**
 * Sends `op` on a raw IO queue pair (conformance/raw-queue.ts) with the driver shut down:
 * the controller granted one IO queue pair (Set Features 07h, NVMe 1.4 §5.21.1.7) and the
 * driver's namespace API holds it, so the command gets that pair instead.
 */
async function expectStatusRaw(ctx: ValidateContext, o: Omit<QueuedOp, 'after'>, lbaSize: number, sct: number, sc: number, why: string): Promise<CaseOutcome> {
  const { access } = driverOf(ctx);
  return access.withoutDriver(async (raw) => {
    if ((await raw.enable()) !== 'ready') return { status: 'fail', expected: 'the controller to become ready for the raw queue pair', received: 'CSTS.CFS after CC.EN=1' };
    const set = await raw.setNumberOfQueues(1, 1);
    if (set.status) return { status: 'fail', expected: 'Set Features 07h to succeed', received: describeStatus(set.status) };
    const q = await raw.createIoQueuePair(1, 16);
    const buf = raw.alloc(Math.max(4096, lbaSize * 2));
    const io = o.kind === 'io';
    const lba = o.lba ?? 0;
    const c = await q.run({
      opcode: o.opcode,
      nsid: o.nsid,
      dptr1: io && o.blocks ? buf.iova : 0,
      dptr2: io && (o.blocks ?? 0) * lbaSize > 4096 ? buf.iovaAt(4096) : 0,
      cdw10: io ? lba % 2 ** 32 : (o.cdw10 ?? 0),
      cdw11: io ? Math.floor(lba / 2 ** 32) : (o.cdw11 ?? 0),
      cdw12: io && o.blocks ? o.blocks - 1 : 0,
    });
    return judge(c.status, sct, sc, why, `${opName(o)} on raw IO queue 1`, '; sent on the only IO queue pair the controller granted, with the driver shut down');
  });
}

/** Sends `op` on a fresh queue pair and checks the completion's SCT/SC. */
async function expectStatus(ctx: ValidateContext, op: (lbaSize: number, blocks: number, nn: number) => Omit<QueuedOp, 'after'>, sct: number, sc: number, why: string): Promise<CaseOutcome> {
  const { ctrl, ns } = driverOf(ctx);
  let qp: QueuePair | undefined;
  const buf = ctrl.pool.alloc(ns.lbaSize * 2);
  const built = op(ns.lbaSize, ns.blocks, ctrl.identify.nn);
  let freed = false;
  try {
    try {
      qp = await ctrl.createQueuePair({ size: 16 });
    } catch (err) {
      if (!noQueuesLeft(err)) throw err;
      buf.free();
      freed = true;
      return await expectStatusRaw(ctx, built, ns.lbaSize, sct, sc, why);
    }
    const o = { ...built, buf: undefined as typeof buf | undefined };
    if (o.kind === 'io' && o.blocks) {
      o.buf = buf;
      o.bytes = o.blocks * ns.lbaSize;
    }
    const sent = `${opName(o)} on IO queue ${qp.id}`;
    const r = await runOne(qp, o, TIMEOUT_MS);
    if (r.refused) return { status: 'fail', sent, expected: 'the driver data plane to submit the command', received: `refused: ${r.refused}` };
    return judge(r.status, sct, sc, why, sent);
  } finally {
    // Awaited: the next case's queue pair must not find this one still being deleted (it
    // would get another qid, and the controller's queues would not be what the case says).
    await qp?.close();
    if (!freed) buf.free();
  }
}

// DLFEAT bits 2:0 say what reads of deallocated blocks return (NVMe 1.4 §6.7.1.1).
const { DLFEAT_READ_MASK, DLFEAT_READ_ZEROES: DLFEAT_ZEROES, DLFEAT_READ_ONES: DLFEAT_ONES, ONCS_DSM } = NVME;

async function deallocatedReadCase(ctx: ValidateContext): Promise<CaseOutcome> {
  const { ctrl, ns } = driverOf(ctx);
  if (!(ctrl.identify.oncs & ONCS_DSM)) return { status: 'not-applicable', reason: 'the controller does not support Dataset Management (ONCS bit 2 = 0)' };
  // Deallocation is done in the controller's preferred granularity and alignment (NPDG,
  // NPDA; 0 = not reported), at least 1 MiB, so that it is not ignored as too small.
  const gran = Math.max(1, (ns.identify.npdg || 0) + 1, (ns.identify.npda || 0) + 1, Math.ceil((1 << 20) / ns.lbaSize));
  const n = Math.min(gran, ns.blocks);
  const lba = Math.floor((ns.blocks - n) / gran) * gran;
  const buf = ctrl.pool.alloc(n * ns.lbaSize);
  try {
    return await deallocatedRead(ns, buf, lba, n);
  } catch (err) {
    return commandFailure(err);
  } finally {
    buf.free();
  }
}

/**
 * Writes, deallocates and reads back `n` blocks. Deallocate is advisory (NVMe 1.4 §6.7.1.1:
 * the controller may keep the data), so every block must read either as written (kept) or
 * as DLFEAT says deallocated blocks read; anything else is a failure.
 */
async function deallocatedRead(ns: Namespace, buf: DmaBuffer, lba: number, n: number): Promise<CaseOutcome> {
  const seed = 0x5eed;
  fillBlocks(buf.bytes, 0, ns.lbaSize, lba, n, 1, seed);
  await ns.write(lba, buf);
  await ns.deallocate(lba, n);
  buf.bytes.fill(0x5a);
  await ns.read(lba, buf);
  const mode = ns.identify.dlfeat & DLFEAT_READ_MASK;
  const want = mode === DLFEAT_ZEROES ? 0x00 : mode === DLFEAT_ONES ? 0xff : undefined;
  const sent = `Write ${n} block(s) at LBA ${lba}, Dataset Management (deallocate) of them, Read`;
  let kept = 0;
  let asReported = 0;
  const other: string[] = [];
  const values = new Set<string>();
  for (let b = 0; b < n; b++) {
    const off = b * ns.lbaSize;
    if (!verifyBlock(buf.bytes, off, ns.lbaSize, { lba: lba + b, sequence: 1, seed })) {
      kept++;
      continue;
    }
    const block = buf.bytes.subarray(off, off + ns.lbaSize);
    const uniform = block.every((x) => x === block[0]);
    if (want !== undefined && uniform && block[0] === want) asReported++;
    else if (want !== undefined) other.push(`LBA ${lba + b}: ${uniform ? `every byte 0x${block[0].toString(16).padStart(2, '0')}` : 'mixed bytes'}`);
    else values.add(uniform ? `0x${block[0].toString(16).padStart(2, '0')}` : 'mixed bytes');
  }
  if (other.length) {
    return { status: 'fail', sent, expected: `each block as written (kept) or every byte 0x${want!.toString(16).padStart(2, '0')} (deallocated, DLFEAT = ${mode})`, received: `${other.length} block(s) neither; first ${other.slice(0, 3).join('; ')}` };
  }
  if (kept === n) return { status: 'skipped', reason: `the controller kept all ${n} blocks (Deallocate is advisory), so what deallocated blocks read as could not be observed` };
  if (want === undefined) return { status: 'pass', detail: `DLFEAT = ${mode}: the controller does not say what deallocated blocks read as; ${n - kept} deallocated block(s) read as ${[...values].join(', ')}` };
  return { status: 'pass', detail: `${asReported} deallocated block(s) read as 0x${want.toString(16).padStart(2, '0')} as DLFEAT = ${mode} says${kept ? `; ${kept} kept their data` : ''}` };
}

/** The driver-level errors cases. */
export const errorCases: ValidateCase[] = [
  {
    id: 'errors.driver.lba-past-end',
    suite: 'errors',
    needs: 'driver',
    purpose: 'a Read starting one block past the namespace end fails with LBA Out of Range',
    spec: 'NVMe 1.4 §6.9, Figure 126 (LBA Out of Range)',
    run: (ctx) => expectStatus(ctx, (lbaSize, blocks) => ({ kind: 'io', opcode: NVME.IO_READ, nsid: ctx.nsid, lba: blocks, blocks: 1, lbaSize }), NVME.SCT_GENERIC, NVME.SC_LBA_OUT_OF_RANGE, 'the range starts beyond NSZE'),
  },
  {
    id: 'errors.driver.lba-crosses-end',
    suite: 'errors',
    needs: 'driver',
    purpose: 'a Read of the last block plus one more fails with LBA Out of Range',
    spec: 'NVMe 1.4 §6.9, Figure 126 (LBA Out of Range)',
    run: (ctx) => expectStatus(ctx, (lbaSize, blocks) => ({ kind: 'io', opcode: NVME.IO_READ, nsid: ctx.nsid, lba: blocks - 1, blocks: 2, lbaSize }), NVME.SCT_GENERIC, NVME.SC_LBA_OUT_OF_RANGE, 'the range ends beyond NSZE'),
  },
  {
    id: 'errors.driver.invalid-namespace',
    suite: 'errors',
    needs: 'driver',
    purpose: 'a Read naming a namespace above NN fails with Invalid Namespace or Format',
    spec: 'NVMe 1.4 §6.1.2 (namespace id), Figure 126',
    run: (ctx) => expectStatus(ctx, (lbaSize, _b, nn) => ({ kind: 'io', opcode: NVME.IO_READ, nsid: nn + 1, lba: 0, blocks: 1, lbaSize }), NVME.SCT_GENERIC, NVME.SC_INVALID_NAMESPACE, 'the NSID is not a valid namespace'),
  },
  {
    id: 'errors.driver.invalid-opcode',
    suite: 'errors',
    needs: 'driver',
    purpose: 'a reserved NVM command opcode (03h) fails with Invalid Command Opcode',
    spec: 'NVMe 1.4 §6, Figure 346 (opcodes), Figure 126',
    run: (ctx) => expectStatus(ctx, () => ({ kind: 'raw', opcode: 0x03, nsid: ctx.nsid }), NVME.SCT_GENERIC, NVME.SC_INVALID_OPCODE, 'opcode 03h is reserved in the NVM command set'),
  },
  {
    id: 'errors.driver.deallocated-read',
    suite: 'errors',
    needs: 'driver',
    destructive: true,
    purpose: 'reads of deallocated blocks return what Identify Namespace DLFEAT says they return',
    spec: 'NVMe 1.4 §6.7.1.1 (deallocated blocks), Identify Namespace DLFEAT',
    run: deallocatedReadCase,
  },
];
