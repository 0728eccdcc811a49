// The payload buffers of one fabric IO queue: memory of the backing controller's DMA pool,
// so a read's data goes from the device to the socket and a write's from the socket to the
// device with no copy but the one out of the socket's chunks. Buffers are kept by size and
// reused; the pool memory a queue holds is capped at (SQSIZE + 1) × MDTS (every command the
// host may have outstanding at its largest transfer); all of it is freed on disconnect.
import type { DmaBuffer, DmaPool } from '../lib/dma';

export interface QueueBufferStats {
  /** Pool bytes this queue holds (in use and idle). */
  heldBytes: number;
  /** Pool bytes in use (acquired and not released). */
  inUseBytes: number;
  /** Pool allocations made (a reused buffer is not counted again). */
  allocations: number;
  /** Acquisitions served by a buffer released before. */
  reuses: number;
  /** Acquisitions refused because the cap was reached. */
  refusals: number;
}

export class QueueBuffers {
  private readonly idle = new Map<number, DmaBuffer[]>();
  private held = 0;
  private inUse = 0;
  private allocations = 0;
  private reuses = 0;
  private refusals = 0;
  private closed = false;

  constructor(
    private readonly pool: DmaPool,
    /** Largest pool memory this queue may hold, in bytes. */
    readonly capBytes: number,
  ) {}

  /** A pool buffer of exactly `size` bytes, or undefined when the cap would be passed
   *  (the caller holds off reading the socket until release() makes room). */
  acquire(size: number): DmaBuffer | undefined {
    if (this.closed) return undefined;
    const list = this.idle.get(size);
    const reused = list?.pop();
    if (reused) {
      this.reuses++;
      this.inUse += size;
      return reused;
    }
    // An idle buffer of another size gives its room back before a new allocation.
    while (this.held + size > this.capBytes && this.dropIdle()) {}
    if (this.held + size > this.capBytes) {
      this.refusals++;
      return undefined;
    }
    const b = this.pool.alloc(size);
    this.allocations++;
    this.held += size;
    this.inUse += size;
    return b;
  }

  /** Gives a buffer back for reuse (after the device and the socket are done with it). */
  release(b: DmaBuffer): void {
    this.inUse -= b.size;
    if (this.closed) {
      this.held -= b.size;
      b.free();
      return;
    }
    let list = this.idle.get(b.size);
    if (!list) this.idle.set(b.size, (list = []));
    list.push(b);
  }

  /** True when the queue may not take a buffer of the largest transfer. */
  get full(): boolean {
    return this.inUse >= this.capBytes;
  }

  stats(): QueueBufferStats {
    return { heldBytes: this.held, inUseBytes: this.inUse, allocations: this.allocations, reuses: this.reuses, refusals: this.refusals };
  }

  /** Frees the idle buffers now and each in-use one at its release (the queue is gone). A
   *  buffer an IO still uses is taken back by the pool only when that IO settles. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const b of list) {
      this.held -= b.size;
      b.free();
    }
    this.idle.clear();
  }

  private dropIdle(): boolean {
    for (const [size, list] of this.idle) {
      const b = list.pop();
      if (!list.length) this.idle.delete(size);
      if (b) {
        this.held -= b.size;
        b.free();
        return true;
      }
    }
    return false;
  }
}
