// A small arena of page-aligned native memory mapped into a PciFunction's IOMMU at one
// IOVA range: enough DMA memory for the emulator's own tests and for raw conformance runs
// without lib/dma. It has the shape conformance/raw-queue.ts asks for (alloc -> buffer with
// bytes/iova/iovaAt/free). Pages freed are reused; the whole arena unmaps on close().
import { PhyrError } from '../lib/errors';
import { addonRoom } from '../lib/native';
import type { PciFunction } from '../lib/pci/function';

/** One allocation from an EmuArena. */
export interface ArenaBuffer {
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly iova: number;
  iovaAt(offset: number): number;
  free(): void;
}

const PAGE = 4096;

/** Page-aligned native memory mapped read+write at [iova, iova + size). */
export class EmuArena {
  /** The whole arena's memory. */
  readonly memory: ArrayBuffer;
  private readonly used: Uint8Array; // one byte per page: 1 = allocated
  private closed = false;

  constructor(
    private readonly fn: PciFunction,
    /** Arena size in bytes (multiple of 4 KiB). */
    readonly size = 16 << 20,
    /** IOVA of the first byte. */
    readonly iova = 0x10000000,
  ) {
    if (size <= 0 || size % PAGE !== 0) throw new PhyrError('PHYR_BAD_ARENA', `arena size ${size} must be a positive multiple of 4096`);
    this.memory = addonRoom<{ alignedBuffer(size: number): ArrayBuffer }>('emu').alignedBuffer(size);
    fn.dmaMap(this.memory, 0, size, iova, { read: true, write: true });
    this.used = new Uint8Array(size / PAGE);
  }

  /** Allocates `size` bytes (rounded up to pages), page-aligned; `align` must divide 2 MiB. */
  alloc(size: number, options: { align?: number } = {}): ArenaBuffer {
    if (this.closed) throw new PhyrError('PHYR_BAD_ARENA', 'the arena is closed');
    if (!Number.isSafeInteger(size) || size <= 0) throw new PhyrError('PHYR_BAD_ARENA', `allocation size ${size} must be a positive integer`);
    const pages = Math.ceil(size / PAGE);
    const alignPages = Math.max(1, Math.ceil((options.align ?? PAGE) / PAGE));
    for (let p = 0; p + pages <= this.used.length; p += alignPages) {
      let free = true;
      for (let i = p; i < p + pages && free; i++) free = this.used[i] === 0;
      if (!free) continue;
      this.used.fill(1, p, p + pages);
      const bytes = new Uint8Array(this.memory, p * PAGE, size);
      const iova = this.iova + p * PAGE;
      let live = true;
      return {
        bytes,
        size,
        iova,
        iovaAt: (offset: number) => iova + offset,
        free: () => {
          if (live) this.used.fill(0, p, p + pages);
          live = false;
        },
      };
    }
    throw new PhyrError('PHYR_BAD_ARENA', `the ${this.size}-byte arena has no ${pages} free contiguous pages`);
  }

  /** Unmaps the arena. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fn.dmaUnmap(this.iova, this.size);
  }
}
