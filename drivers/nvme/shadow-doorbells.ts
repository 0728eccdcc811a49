// Shadow doorbells (Doorbell Buffer Config, NVMe 2.0 §5.8; 1.4 §5.7): two memory pages of
// pool memory the controller is told about once, before the IO queues exist — the shadow
// doorbell page, then the EventIdx page. Each IO queue then publishes its SQ tail and CQ
// head in the shadow page and writes the MMIO doorbell only when the controller's EventIdx
// asks for it (the rule and its memory ordering: native/shadow_doorbell.h). On a
// hypervisor's emulated controller every MMIO write is an exit to the emulator, so this
// removes most of them.
//
// The admin queue keeps MMIO doorbells, as Linux's nvme driver does: admin commands are
// rare, and IO queues are what the buffer is for.
import { NVME } from '../../spec/nvme';
import type { DmaBuffer, DmaPool } from '../../lib/dma';
import { doorbellBufferConfigSqe } from './admin';
import type { IdentifyController } from './identify';

/** Where one queue's shadow doorbells live, as the native queue pair takes them. */
export interface ShadowDoorbellRegion {
  /** The ArrayBuffer holding both pages. */
  buffer: ArrayBuffer;
  /** Byte offsets in it: this queue's shadow SQ tail and CQ head, and their EventIdx slots. */
  shadowSqOffset: number;
  shadowCqOffset: number;
  eventSqOffset: number;
  eventCqOffset: number;
}

/** True when the controller offers Doorbell Buffer Config (Identify Controller OACS bit 8). */
export function shadowDoorbellsOffered(identify: Pick<IdentifyController, 'oacs'>): boolean {
  return (identify.oacs & NVME.OACS_DOORBELL_BUFFER_CONFIG) !== 0;
}

/** The controller's shadow doorbell and EventIdx pages (one pool buffer of two pages). */
export class ShadowDoorbells {
  private constructor(
    private readonly pages: DmaBuffer,
    private readonly pageSize: number,
    private readonly dstrd: number,
  ) {}

  static allocate(pool: Pick<DmaPool, 'alloc'>, pageSize: number, dstrd: number): ShadowDoorbells {
    const s = new ShadowDoorbells(pool.alloc(2 * pageSize, { align: pageSize }), pageSize, dstrd);
    s.clear();
    return s;
  }

  /** Zeroes both pages: a reset controller starts again from tail and head 0. */
  clear(): void {
    this.pages.bytes.fill(0);
  }

  /** The Doorbell Buffer Config command naming both pages. */
  configSqe(): Uint8Array {
    return doorbellBufferConfigSqe(this.pages.iova, this.pages.iova + this.pageSize);
  }

  /**
   * Queue `qid`'s slots, laid out like the doorbell registers (SQ y at 2y × stride, CQ y at
   * (2y + 1) × stride, stride = 4 << CAP.DSTRD) in each page; undefined for the admin queue
   * and for a qid whose slots fall outside a page (that queue keeps MMIO doorbells).
   */
  regionFor(qid: number): ShadowDoorbellRegion | undefined {
    const stride = 4 << this.dstrd;
    const sq = 2 * qid * stride;
    const cq = (2 * qid + 1) * stride;
    if (qid === 0 || cq + 4 > this.pageSize) return undefined;
    const base = this.pages.bytes.byteOffset;
    return {
      buffer: this.pages.bytes.buffer as ArrayBuffer,
      shadowSqOffset: base + sq,
      shadowCqOffset: base + cq,
      eventSqOffset: base + this.pageSize + sq,
      eventCqOffset: base + this.pageSize + cq,
    };
  }

  /**
   * Zeroes queue `qid`'s four slots. Call before creating the queue on the controller: a
   * qid used by a deleted queue leaves its last tail, head and EventIdx behind, and the new
   * queue's first doorbell (tail 0 -> 1) judged against them skips the MMIO write the
   * controller is waiting for — its first command would never be seen (found on QEMU:
   * test/vm/cases/shadow-doorbells.ts).
   */
  resetSlots(qid: number): void {
    const r = this.regionFor(qid);
    if (!r) return;
    const words = new Uint32Array(r.buffer);
    for (const off of [r.shadowSqOffset, r.shadowCqOffset, r.eventSqOffset, r.eventCqOffset]) words[off / 4] = 0;
  }

  /** Returns the pages to the pool (only once the controller is disabled or forgot them). */
  free(): void {
    this.pages.free();
  }
}
