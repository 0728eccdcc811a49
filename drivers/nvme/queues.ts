// The controller's queue pairs: the admin queue, the IO queue behind the namespace API and
// the application's own (createQueuePair), with the pool memory each holds (SQ, CQ, list
// pages), their queue ids and their MSI-X vectors. Creating an IO queue is an admin
// command pair (Create I/O CQ, then SQ: NVMe 1.4 §7.6.1), run through the host.
import type { DmaBuffer, DmaPool } from '../../lib/dma';
import { PhyrError } from '../../lib/errors';
import { createCqSqe, createSqSqe, deleteQueueSqe } from './admin';
import { CPL_STATUS_CANCELLED } from './batch';
import type { Command, Dispatcher } from './dispatcher';
import type { IdentifyController } from './identify';
import { SglUnavailableError, type DataPointerMode } from './options';
import { QueuePair, type QueueCaps } from './queue-pair';
import type { ShadowDoorbells } from './shadow-doorbells';
import type { ControllerCap } from './registers';
import { NVME } from '../../spec/nvme';

/** A queue pair plus what the controller keeps for it. */
export interface QueueRuntime {
  qp: QueuePair;
  /** The promise API's dispatcher (admin and namespace queues; none on the application's). */
  disp?: Dispatcher;
  /** SQ, CQ, list pages, then list pages added on demand. */
  buffers: DmaBuffer[];
  /** MSI-X vector, or -1 (polled). */
  vector: number;
  extraPages: number;
}

/** What the queues need from their controller. */
export interface QueueHost {
  readonly pool: DmaPool;
  readonly bar: ArrayBuffer;
  readonly cap: ControllerCap;
  readonly pageSize: number;
  /** IO queues granted by Set Features Number of Queues. */
  readonly queuesGranted: { sq: number; cq: number };
  adminCommand(sqe: Uint8Array, data?: DmaBuffer): Promise<number>;
}

/** Most list pages one queue adds beyond one per tracker (16 MiB of 4 KiB pages). */
const MAX_EXTRA_LIST_PAGES = 4096;
const LIST_PAGE_GROWTH = 16;

/**
 * Data-plane capabilities of IO queues in data-pointer mode `mode`, from Identify
 * Controller SGLS and MDTS (NVMe 1.4 §5.15.2.1; MDTS is in units of CAP.MPSMIN).
 */
export function queueCaps(identify: IdentifyController, cap: ControllerCap, pageSize: number, mode: DataPointerMode): QueueCaps {
  const sgls = identify.sgls;
  const mdts = identify.mdts;
  const sgl = mode !== 'prp';
  return {
    pageSize,
    sglSupport: sgl ? sgls & NVME.SGLS_SUPPORT_MASK : 0,
    bitBucket: sgl && (sgls & NVME.SGLS_BIT_BUCKET) !== 0,
    maxTransfer: mdts ? 2 ** mdts * cap.mpsMin : 0,
    preferSgl: mode === 'sgl',
  };
}

/**
 * Refuses mode 'sgl' on a controller without SGL support (Identify Controller SGLS bits
 * 1:0, NVMe 1.4 §5.15.2.1); `emu` adds how to give the embedded controller SGL.
 */
export function checkSglAvailable(identify: IdentifyController, mode: DataPointerMode, emu: boolean): void {
  if (mode === 'sgl' && (identify.sgls & NVME.SGLS_SUPPORT_MASK) === 0) throw new SglUnavailableError(emu);
}

/** Every queue pair of one controller. */
export class QueueSet {
  admin: QueueRuntime | undefined;
  /** The namespace API's IO queue. */
  io: QueueRuntime | undefined;
  /** The application's queue pairs (createQueuePair). */
  readonly user = new Set<QueueRuntime>();
  private readonly usedQids = new Set<number>();
  /** The shadow doorbell pages once the controller accepted them (bring-up.ts); IO queues made after use them. */
  shadow: ShadowDoorbells | undefined;

  constructor(private readonly host: QueueHost) {}

  /** Admin, namespace IO, then the application's queues. */
  *all(): Iterable<QueueRuntime> {
    if (this.admin) yield this.admin;
    if (this.io) yield this.io;
    yield* this.user;
  }

  /** A queue pair over new pool memory (nothing is created on the controller). */
  newRuntime(qid: number, size: number, caps: QueueCaps, vector: number): QueueRuntime {
    const { pool, pageSize } = this.host;
    const trackers = Math.min(size - 1, size - Math.floor(size / 4));
    const buffers: DmaBuffer[] = [];
    try {
      buffers.push(pool.alloc(size * NVME.SQE_SIZE, { align: pageSize }));
      buffers.push(pool.alloc(size * NVME.CQE_SIZE, { align: pageSize }));
      buffers.push(pool.alloc(trackers * pageSize, { align: pageSize }));
      buffers[1].bytes.fill(0);
      const region = (b: DmaBuffer) => ({ buffer: b.bytes.buffer as ArrayBuffer, offset: b.bytes.byteOffset, iova: b.iova });
      const qp = new QueuePair({
        id: qid,
        size,
        bar: this.host.bar,
        doorbellStride: this.host.cap.dstrd,
        sq: region(buffers[0]),
        cq: region(buffers[1]),
        lists: { ...region(buffers[2]), pages: trackers },
        caps,
        shadow: this.shadow?.regionFor(qid),
      });
      qp.vector = vector;
      this.usedQids.add(qid);
      return { qp, buffers, vector, extraPages: 0 };
    } catch (e) {
      for (const b of buffers) b.free();
      throw e;
    }
  }

  /** Closes the queue pair and returns its memory and queue id. */
  free(r: QueueRuntime): void {
    void r.qp.close();
    for (const b of r.buffers) {
      try {
        b.free();
      } catch {
        // already released by pool.close()
      }
    }
    r.buffers = [];
    this.usedQids.delete(r.qp.id);
  }

  private nextQid(): number {
    const { sq, cq } = this.host.queuesGranted;
    for (let q = 1; q <= sq && q <= cq; q++) if (!this.usedQids.has(q)) return q;
    throw new PhyrError('PHYR_NO_QUEUES', `all ${Math.min(sq, cq)} IO queue pairs the controller granted are in use; close one first`);
  }

  /**
   * A new IO queue pair, created on the controller (CQ before its SQ, NVMe 1.4 §7.6.1).
   * `vectorFor` gives the MSI-X vector of a queue id (polled when absent).
   */
  async createIo(size: number, caps: QueueCaps, vectorFor?: (qid: number) => number): Promise<QueueRuntime> {
    const qid = this.nextQid();
    const vector = vectorFor ? vectorFor(qid) : -1;
    const r = this.newRuntime(qid, size, caps, vector);
    try {
      this.shadow?.resetSlots(qid);
      await this.host.adminCommand(createCqSqe(qid, size, vector), r.buffers[1]);
      try {
        await this.host.adminCommand(createSqSqe(qid, size, qid), r.buffers[0]);
      } catch (e) {
        await this.host.adminCommand(deleteQueueSqe(false, qid)).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      this.free(r);
      throw e;
    }
    return r;
  }

  /** More list pages for `qp` (DispatcherHost.addListPages); false at the limit. */
  addListPages(qp: QueuePair): boolean {
    const r = [...this.all()].find((x) => x.qp === qp);
    if (!r || r.extraPages >= MAX_EXTRA_LIST_PAGES) return false;
    const { pool, pageSize } = this.host;
    const b = pool.alloc(LIST_PAGE_GROWTH * pageSize, { align: pageSize });
    qp.addListPages(b.bytes.buffer as ArrayBuffer, b.bytes.byteOffset, b.iova, LIST_PAGE_GROWTH);
    r.buffers.push(b);
    r.extraPages += LIST_PAGE_GROWTH;
    return true;
  }

  /**
   * Ends every command in flight or waiting (reset, failure): the dispatchers' commands
   * reject with `errorOf(cmd)`, the application's queues report the cancelled count.
   */
  cancelAll(errorOf: (cmd: Command) => Error): void {
    for (const r of this.all()) {
      if (r.disp) {
        r.disp.cancelInflight();
        r.disp.rejectWaiting(errorOf);
      } else if (!r.qp.isClosed) {
        const n = r.qp.native.cancelAll(CPL_STATUS_CANCELLED);
        r.qp.onReset?.(n);
      }
    }
  }
}
