// A first-fit range allocator with alignment: the one IOVA allocator. The DMA pool uses it
// for device addresses over the ranges a PciFunction accepts and inside each chunk for byte
// offsets; the VFIO container uses it for its IOVA space minus reserved windows (the MSI
// doorbells and PCI MMIO: QEMU's NVMe, for one, refuses data addresses inside its own BAR,
// so those are never handed out). Free ranges are
// kept sorted by start and coalesced on free, so fragmentation is visible (fragments())
// and recovers as soon as neighbours are freed. Allocation is O(free ranges), free is
// O(log n) to find the slot plus the array splice; pools hold few ranges, so this is
// control-plane cost only.
import { DmaArgumentError, DmaStateError, IovaExhaustedError } from './errors';

/** A half-open range [start, end). */
interface Span {
  start: number;
  end: number;
}

/** One allocated range. */
export interface RangeAllocation {
  /** First address. */
  start: number;
  /** Length in bytes. */
  size: number;
}

/** An inclusive range [start, end] (the IOMMU's convention). */
export interface InclusiveRange {
  start: number;
  end: number;
}

/** `ranges` with every `holes` range removed (all inclusive), sorted by start. */
export function subtractRanges(ranges: ReadonlyArray<InclusiveRange>, holes: ReadonlyArray<InclusiveRange>): InclusiveRange[] {
  let out = ranges.map((r) => ({ start: r.start, end: r.end })).sort((a, b) => a.start - b.start);
  for (const h of holes) {
    const next: InclusiveRange[] = [];
    for (const r of out) {
      if (h.end < r.start || h.start > r.end) next.push(r);
      else {
        if (h.start > r.start) next.push({ start: r.start, end: h.start - 1 });
        if (h.end < r.end) next.push({ start: h.end + 1, end: r.end });
      }
    }
    out = next;
  }
  return out;
}

/** True for 1, 2, 4, ... up to 2^52 (bitwise tricks stop at 2^31). */
export function isPow2(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Allocates aligned sub-ranges from a set of address ranges. */
export class RangeAllocator {
  private readonly free: Span[] = [];
  private readonly used = new Map<number, number>();
  private freeTotal = 0;

  /**
   * @param ranges usable ranges as [start, end] INCLUSIVE (the IOMMU's convention); ends
   *   above 2^53 - 1 are clamped, overlapping ranges are merged.
   * @param reserved ranges (inclusive) never handed out, cut out of `ranges` first.
   */
  constructor(ranges: ReadonlyArray<InclusiveRange>, reserved: ReadonlyArray<InclusiveRange> = []) {
    const spans: Span[] = [];
    for (const r of reserved.length ? subtractRanges(ranges, reserved) : ranges) {
      if (!Number.isFinite(r.start) || !Number.isFinite(r.end) || r.start < 0 || r.end < r.start) {
        throw new DmaArgumentError(`IOVA range [${r.start}, ${r.end}] is not a valid inclusive range of non-negative integers`);
      }
      const end = Math.min(r.end, Number.MAX_SAFE_INTEGER - 1) + 1;
      if (end > r.start) spans.push({ start: Math.ceil(r.start), end: Math.floor(end) });
    }
    spans.sort((a, b) => a.start - b.start);
    for (const s of spans) {
      const last = this.free[this.free.length - 1];
      if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
      else this.free.push({ ...s });
    }
    for (const s of this.free) this.freeTotal += s.end - s.start;
  }

  /** Free bytes in total. */
  freeBytes(): number {
    return this.freeTotal;
  }

  /** Size of the largest free range. */
  largestFree(): number {
    let m = 0;
    for (const s of this.free) m = Math.max(m, s.end - s.start);
    return m;
  }

  /** Number of separate free ranges (1 = unfragmented). */
  fragments(): number {
    return this.free.length;
  }

  /** Number of live allocations. */
  allocations(): number {
    return this.used.size;
  }

  /** Allocates `size` bytes at a multiple of `align`; throws IovaExhaustedError when none fits. */
  alloc(size: number, align = 1): number {
    const start = this.tryAlloc(size, align);
    if (start < 0) throw new IovaExhaustedError(size, align, this.freeTotal, this.largestFree(), this.free.length);
    return start;
  }

  /** Like alloc, but returns -1 instead of throwing when nothing fits. */
  tryAlloc(size: number, align = 1): number {
    if (!Number.isSafeInteger(size) || size <= 0) throw new DmaArgumentError(`allocation size ${size} is not a positive integer`);
    if (!isPow2(align)) throw new DmaArgumentError(`alignment ${align} is not a power of two`);
    for (let i = 0; i < this.free.length; i++) {
      const s = this.free[i];
      const at = alignUp(s.start, align);
      if (at + size > s.end) continue;
      // Carve [at, at + size) out of s, keeping the head and tail pieces.
      const pieces: Span[] = [];
      if (at > s.start) pieces.push({ start: s.start, end: at });
      if (at + size < s.end) pieces.push({ start: at + size, end: s.end });
      this.free.splice(i, 1, ...pieces);
      this.freeTotal -= size;
      this.used.set(at, size);
      return at;
    }
    return -1;
  }

  /**
   * Returns an allocation; coalesces with free neighbours. Throws on an unknown start
   * (double free) and, when `expectSize` is given, on a size that is not the allocation's.
   */
  release(start: number, expectSize?: number): void {
    const size = this.used.get(start);
    if (size === undefined) {
      throw new DmaStateError('PHYR_DMA_FREED', `range at ${start} is not allocated (already freed, or never allocated here)`);
    }
    if (expectSize !== undefined && expectSize !== size) {
      throw new DmaArgumentError(`range at ${start} is ${size} bytes, not ${expectSize}: release whole allocations`);
    }
    this.used.delete(start);
    const end = start + size;
    // Binary search the first free span starting after `start`.
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid].start < start) lo = mid + 1;
      else hi = mid;
    }
    const prev = this.free[lo - 1];
    const next = this.free[lo];
    const joinPrev = prev !== undefined && prev.end === start;
    const joinNext = next !== undefined && next.start === end;
    if (joinPrev && joinNext) {
      prev.end = next.end;
      this.free.splice(lo, 1);
    } else if (joinPrev) prev.end = end;
    else if (joinNext) next.start = start;
    else this.free.splice(lo, 0, { start, end });
    this.freeTotal += size;
  }

  /** Live allocations, sorted by start (for leak reports and tests). */
  allocated(): RangeAllocation[] {
    return [...this.used].map(([start, size]) => ({ start, size })).sort((a, b) => a.start - b.start);
  }
}
