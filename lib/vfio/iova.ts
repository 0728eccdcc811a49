// IOVA allocation over the ranges an IOMMU container accepts, minus reserved ranges
// (PCI MMIO: QEMU's NVMe, for one, refuses data addresses inside its own BAR). First-fit
// over a sorted free list; allocations are aligned (2 MiB by default, so hugepages map
// as hugepages).
import { iovaExhausted } from './errors';

/** An inclusive range [start, end]. */
export interface Range {
  start: number;
  end: number;
}

/** `ranges` with every `holes` range removed (all inclusive), sorted. */
export function subtractRanges(ranges: Range[], holes: Range[]): Range[] {
  let out = [...ranges].sort((a, b) => a.start - b.start);
  for (const h of holes) {
    const next: Range[] = [];
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

/** Hands out aligned, non-overlapping IOVA ranges. */
export class IovaAllocator {
  private free: Range[];

  constructor(ranges: Range[], reserved: Range[] = []) {
    this.free = subtractRanges(ranges, reserved);
  }

  /** The free ranges (copies). */
  freeRanges(): Range[] {
    return this.free.map((r) => ({ ...r }));
  }

  /** Allocates `size` bytes aligned to `align` (a power of two), or throws IOVA exhausted. */
  alloc(size: number, align = 2 ** 21): number {
    if (!(size > 0) || !Number.isSafeInteger(size)) throw new RangeError(`IOVA size ${size} must be a positive integer`);
    if (!Number.isSafeInteger(align) || align <= 0 || Math.log2(align) % 1 !== 0) throw new RangeError(`IOVA alignment ${align} must be a power of two`);
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i];
      const start = Math.ceil(r.start / align) * align;
      if (start + size - 1 > r.end || start + size - 1 > Number.MAX_SAFE_INTEGER) continue;
      const pieces: Range[] = [];
      if (start > r.start) pieces.push({ start: r.start, end: start - 1 });
      if (start + size <= r.end) pieces.push({ start: start + size, end: r.end });
      this.free.splice(i, 1, ...pieces);
      return start;
    }
    const largest = this.free.reduce((m, r) => Math.max(m, r.end - r.start + 1), 0);
    throw iovaExhausted(size, largest);
  }

  /** Returns [iova, iova + size) to the free list, merging neighbours. */
  release(iova: number, size: number): void {
    const r: Range = { start: iova, end: iova + size - 1 };
    for (const f of this.free) {
      if (r.start <= f.end && r.end >= f.start) throw new RangeError(`IOVA range 0x${iova.toString(16)}+${size} is already free`);
    }
    this.free.push(r);
    this.free.sort((a, b) => a.start - b.start);
    const merged: Range[] = [];
    for (const f of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.end + 1 === f.start) last.end = f.end;
      else merged.push({ ...f });
    }
    this.free = merged;
  }
}
