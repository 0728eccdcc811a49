// Bring-up per NVMe 1.4 §7.6.1: disable, wait RDY=0, admin queue, enable, wait RDY=1,
// Identify, Number of Queues, namespaces; and the same initialization again after a
// controller reset (§7.3.2), over the queues that already exist.
import type { DmaPool } from '../../lib/dma';
import type { PciFunction } from '../../lib/pci/function';
import { createCqSqe, createSqSqe, identifySqe, setNumberOfQueuesSqe } from './admin';
import { programCba } from './cmb';
import type { Interrupts } from './completions';
import { Dispatcher, type DispatcherHost } from './dispatcher';
import { InvalidArgumentError, NvmeStatusError } from './errors';
import { parseIdentifyNamespace, type IdentifyController } from './identify';
import { Namespace, type NamespaceHost } from './namespace';
import type { OpenOptions } from './options';
import type { QueueRuntime, QueueSet } from './queues';
import type { AdminRun } from './recovery';
import { ShadowDoorbells, shadowDoorbellsOffered } from './shadow-doorbells';
import { disable, enable, enableBusMaster, setAdminQueue, type ControllerCap } from './registers';
import { NVME } from '../../spec/nvme';

/** What bring-up needs from its controller. */
export interface BringUpHost {
  readonly fn: PciFunction;
  /** BAR0: the controller's registers. */
  readonly bar: ArrayBuffer;
  readonly cap: ControllerCap;
  readonly pageSize: number;
  readonly pool: DmaPool;
  readonly queues: QueueSet;
  /** IO queues granted by Set Features Number of Queues (set here). */
  queuesGranted: { sq: number; cq: number };
  adminCommand: AdminRun;
}

/** IO queues asked for by Set Features Number of Queues (NVMe 1.4 §5.21.1.7). */
const WANTED_QUEUES = 64;

// Queue sizes above CAP.MQES + 1 are refused before the admin queue is made.
function checkQueueSizes(options: OpenOptions, cap: ControllerCap): void {
  const mqes = cap.maxQueueEntries;
  for (const key of ['adminQueueSize', 'ioQueueSize'] as const) {
    const v = options[key];
    if (v !== undefined && v > mqes) throw new InvalidArgumentError(`${key} ${v} is more than this controller's queues hold (CAP.MQES + 1 = ${mqes})`);
  }
}

/**
 * Disables the controller and starts it again with a new admin queue
 * (OpenOptions.adminQueueSize; MSI-X vector 0 when `irq` is given), served by a
 * dispatcher over `dispatcherHost`.
 */
export async function startWithAdminQueue(h: BringUpHost, options: OpenOptions, irq: Interrupts | undefined, dispatcherHost: DispatcherHost, onVector: (vector: number) => void): Promise<void> {
  enableBusMaster(h.fn);
  await disable(h.bar, h.cap);
  if (irq) irq.enable(h.fn);
  checkQueueSizes(options, h.cap);
  const size = Math.min(options.adminQueueSize ?? 64, h.cap.maxQueueEntries, 4096);
  const admin = h.queues.newRuntime(0, size, { pageSize: h.pageSize, sglSupport: 0, bitBucket: false, maxTransfer: 0 }, irq ? 0 : -1);
  h.queues.admin = admin;
  admin.disp = new Dispatcher(admin.qp, dispatcherHost);
  irq?.watch(admin, onVector);
  await enableWithAdminQueue(h, admin);
}

/** AQA, ASQ, ACQ, then CC.EN = 1 and wait for CSTS.RDY (NVMe 1.4 §7.6.1). */
export async function enableWithAdminQueue(h: Pick<BringUpHost, 'bar' | 'cap' | 'pageSize'>, admin: QueueRuntime): Promise<void> {
  setAdminQueue(h.bar, admin.qp.size, admin.buffers[0].iova, admin.buffers[1].iova);
  await enable(h.bar, h.cap, h.pageSize);
}

/** The 4 KiB of an Identify command (NVMe 1.4 §5.15), copied out of pool memory. */
export async function identifyData(h: BringUpHost, cns: number, nsid: number): Promise<Uint8Array> {
  const buf = h.pool.alloc(NVME.IDENTIFY_DATA_SIZE, { align: h.pageSize });
  try {
    buf.bytes.fill(0);
    await h.adminCommand(identifySqe(cns, nsid), buf);
    return Uint8Array.from(buf.bytes);
  } finally {
    buf.free();
  }
}

/** Set Features Number of Queues through `run`: sets the IO queues granted (DW0 counts are 0's based). */
export async function negotiateQueues(h: BringUpHost, run: AdminRun = h.adminCommand): Promise<void> {
  const dw0 = await run(setNumberOfQueuesSqe(WANTED_QUEUES, WANTED_QUEUES));
  h.queuesGranted = { sq: (dw0 & 0xffff) + 1, cq: ((dw0 >>> 16) & 0xffff) + 1 };
}

/**
 * Shadow doorbells for the IO queues (Doorbell Buffer Config, NVMe 2.0 §5.8), sent before
 * any IO queue exists, when the controller offers them (OACS bit 8) and `wanted`. A
 * controller that offers them yet fails the command keeps MMIO doorbells: returns why.
 */
export async function configureShadowDoorbells(h: BringUpHost, identify: Pick<IdentifyController, 'oacs'>, wanted: boolean, run: AdminRun = h.adminCommand): Promise<string | undefined> {
  if (!wanted || !shadowDoorbellsOffered(identify)) return undefined;
  const pages = ShadowDoorbells.allocate(h.pool, h.pageSize, h.cap.dstrd);
  try {
    await run(pages.configSqe());
  } catch (e) {
    pages.free();
    if (e instanceof NvmeStatusError) return `Doorbell Buffer Config failed (${e.message}); the IO queues use MMIO doorbells`;
    throw e;
  }
  h.queues.shadow = pages;
  return undefined;
}

/** The active namespaces (Identify CNS 02h, then CNS 00h for each), served through `host`. */
export async function scanNamespaces(h: BringUpHost, host: NamespaceHost): Promise<Namespace[]> {
  const list = await identifyData(h, NVME.CNS_ACTIVE_NS_LIST, 0);
  const ids = new Uint32Array(list.buffer, list.byteOffset, 1024);
  const found: Namespace[] = [];
  for (const nsid of ids) {
    if (nsid === 0) break;
    const data = await identifyData(h, NVME.CNS_NAMESPACE, nsid);
    found.push(new Namespace(host, nsid, parseIdentifyNamespace(data)));
  }
  return found;
}

/**
 * After a reset's disable: the admin queue, the CMB address (CMBMSC may not survive a
 * controller reset on every device), Number of Queues, and every IO queue again — CQ
 * before SQ — each command through `run` (bounded by the reset).
 */
export async function restart(h: BringUpHost, run: AdminRun, cmbIova: number | undefined): Promise<void> {
  const { admin, io, user } = h.queues;
  await enableWithAdminQueue(h, admin as QueueRuntime);
  if (cmbIova !== undefined) programCba(h.bar, cmbIova);
  await negotiateQueues(h, run);
  // A reset controller forgot the shadow doorbell pages: tails and heads start at 0 again.
  if (h.queues.shadow) {
    h.queues.shadow.clear();
    await run(h.queues.shadow.configSqe());
  }
  for (const r of [io as QueueRuntime, ...user]) {
    const { id, size } = r.qp;
    await run(createCqSqe(id, size, r.vector), r.buffers[1]);
    await run(createSqSqe(id, size, id), r.buffers[0]);
  }
}
