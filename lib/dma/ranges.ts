// The IOVA ranges a pool has mapped FOR DATA, as sorted, non-overlapping intervals, each
// with the object that owns it (a pool buffer, a caller buffer mapped for one IO, a window
// of device memory). Data pointers are checked against it before submission: memory the
// driver uses itself (queues, PRP/SGL list pages), free pool space and unmapped addresses
// are not in it, so a data pointer can never make the device overwrite a completion queue.
//
// find() is a binary search over parallel number arrays: no allocation per call, so it can
// run on the batch API's path. add/remove splice (control plane: alloc, free, map).

/** Sorted data intervals with owners. */
export class DataRanges<Owner> {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly owners: Owner[] = [];
  /** Index of the last interval find() hit (batches mostly hit the same buffer), or -1. */
  private last = -1;

  /** Number of intervals. */
  get size(): number {
    return this.starts.length;
  }

  /** Removes every interval. */
  clear(): void {
    this.last = -1;
    this.starts.length = 0;
    this.ends.length = 0;
    this.owners.length = 0;
  }

  /** Adds [start, start + length), which must not overlap an interval already present. */
  add(start: number, length: number, owner: Owner): void {
    const i = this.upperBound(start);
    this.last = -1;
    this.starts.splice(i, 0, start);
    this.ends.splice(i, 0, start + length);
    this.owners.splice(i, 0, owner);
  }

  /** Removes the interval that starts at `start` and belongs to `owner`; false when absent. */
  remove(start: number, owner: Owner): boolean {
    const i = this.upperBound(start) - 1;
    if (i < 0 || this.starts[i] !== start || this.owners[i] !== owner) return false;
    this.last = -1;
    this.starts.splice(i, 1);
    this.ends.splice(i, 1);
    this.owners.splice(i, 1);
    return true;
  }

  /**
   * The owner of the interval holding `addr` when the whole [addr, addr + len) lies in data
   * intervals (it may run across intervals that touch: adjacent pool buffers), else
   * undefined.
   */
  find(addr: number, len: number): Owner | undefined {
    const l = this.last;
    if (l >= 0 && addr >= this.starts[l] && addr + len <= this.ends[l]) return this.owners[l];
    let i = this.upperBound(addr) - 1;
    if (i < 0 || addr >= this.ends[i]) return undefined;
    const owner = this.owners[i];
    this.last = i;
    const end = addr + len;
    while (end > this.ends[i]) {
      if (i + 1 >= this.starts.length || this.starts[i + 1] !== this.ends[i]) return undefined;
      i++;
    }
    return owner;
  }

  /** Every owner whose interval intersects [addr, addr + len), in address order (cold path). */
  ownersIn(addr: number, len: number, out: Owner[]): Owner[] {
    let i = Math.max(0, this.upperBound(addr) - 1);
    for (; i < this.starts.length && this.starts[i] < addr + len; i++) if (this.ends[i] > addr) out.push(this.owners[i]);
    return out;
  }

  /** First index whose start is > `x`. */
  private upperBound(x: number): number {
    const s = this.starts;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
