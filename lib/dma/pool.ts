// The DMA pool: page-locked memory that a device can reach, with device addresses (IOVAs)
// handed out by an allocator over the ranges the IOMMU accepts. See docs/MEMORY.md.
//
// Memory comes in chunks (2 MiB, or a multiple of 2 MiB for large buffers). Each chunk is
// one native region — 2 MiB hugepages when reserved, locked 4 KiB pages otherwise — and is
// mapped ONCE, at one IOVA-contiguous range aligned to 2 MiB, through the PCI function's
// dmaMap. Buffers are carved out of chunks at 4 KiB granularity, so a buffer's IOVAs are
// contiguous and translation is base + offset: O(1), whatever the number of hugepages.
// A chunk is unmapped when its last buffer is freed; its memory is freed by the
// ArrayBuffer finalizer once no view of it is left.
import { PhyrArray, PhyrFlags } from '../phyr';
import type { DmaAccess, PciFunction } from '../pci/function';
import { DmaAllocError, DmaArgumentError, DmaStateError, HugepagesUnavailableError } from './errors';
import { isPow2, RangeAllocator } from './iova';
import { memoryNative, type MemoryNative } from './native';

/** How the pool uses 2 MiB hugepages. */
export type HugepageMode = 'auto' | 'require' | 'off';

/** Options of a DMA pool. */
export interface DmaPoolOptions {
  /**
   * 'auto' (default): hugepages when reserved, else locked 4 KiB pages with a one-time
   * warning. 'require': throw HugepagesUnavailableError instead of falling back.
   * 'off': always 4 KiB pages.
   */
  hugepages?: HugepageMode;
}

/** Options of DmaPool.alloc. */
export interface DmaAllocOptions {
  /** IOVA alignment in bytes: a power of two; at least (and by default) 4096. */
  align?: number;
}

/** Pool memory with a device address. */
export interface DmaBuffer {
  /** CPU view of exactly `size` bytes (native memory). Throws after free(). */
  readonly bytes: Uint8Array;
  /** Size in bytes as asked for. */
  readonly size: number;
  /** Device address of bytes[0]. */
  readonly iova: number;
  /** True when the memory is 2 MiB hugepages (entries carry PhyrFlags.HUGEPAGE). */
  readonly hugepageBacked: boolean;
  /** Device address of bytes[offset], offset in [0, size). */
  iovaAt(offset: number): number;
  /**
   * Phyr entries for bytes [offset, offset + length): the fewest that describe it (one,
   * as pool buffers are IOVA-contiguous, unless longer than 4 GiB - 1). Appends to `out`
   * when given (no allocation), else returns a new array.
   */
  toPhyr(offset: number, length: number, out?: PhyrArray): PhyrArray;
  /** Returns the memory to the pool. A second free throws DmaStateError. */
  free(): void;
}

/** A caller buffer mapped for one IO. */
export interface MappedIo {
  /**
   * The buffer's device ranges. Entries of memory mapped for this IO carry
   * PhyrFlags.PINNED_FOR_IO; a view of pool memory is translated without a new mapping
   * and carries the pool's flags instead (nothing to unpin).
   */
  readonly phyr: PhyrArray;
  /** Unmaps the buffer (call when the IO has completed). A second release throws. */
  release(): void;
}

/** A window of device memory (a BAR) mapped for peer-to-peer DMA. */
export interface DeviceMemoryMapping extends MappedIo {
  /** Device address of the window's first byte. */
  readonly iova: number;
  /** Bytes mapped. */
  readonly length: number;
}

/** Counters of a pool (leak checks, reports). */
export interface DmaPoolStats {
  /** Chunks currently mapped. */
  chunks: number;
  /** Bytes of chunk memory currently mapped. */
  mappedBytes: number;
  /** Live buffers. */
  buffers: number;
  /** Caller buffers currently mapped by mapForIo. */
  pinnedMappings: number;
}

const PAGE = 4096;
const CHUNK = 2 * 1024 * 1024;
/** IOVAs below this are never handed out, so a zeroed data pointer cannot address memory. */
const IOVA_FLOOR = PAGE;
/** Largest buffer (the native allocator's region limit). */
const MAX_BUFFER = 2 ** 40 - CHUNK;
const READ_WRITE: DmaAccess = { read: true, write: true };

let hugepageWarningGiven = false;
function warnNoHugepages(): void {
  if (hugepageWarningGiven) return;
  hugepageWarningGiven = true;
  process.emitWarning(
    'no free 2 MiB hugepages are reserved, so the DMA pool falls back to locked 4 KiB pages ' +
      '(correct behind an IOMMU, but more IOMMU entries and TLB misses). Reserve hugepages with ' +
      '`phyr setup --hugepages N` or `echo N > /proc/sys/vm/nr_hugepages` (as root).',
    { code: 'PHYR_NO_HUGEPAGES' },
  );
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

function describe(v: unknown): string {
  return typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v;
}

/** One native region, mapped once. */
class Chunk {
  readonly space: RangeAllocator;
  readonly buffers = new Set<PoolBuffer>();
  /** Live buffers plus mapForIo views of this chunk: unmapped when it drops to 0. */
  refs = 0;
  mapped = true;
  constructor(
    readonly memory: ArrayBuffer,
    readonly size: number,
    readonly iova: number,
    readonly iovaAlign: number,
    readonly flags: number,
  ) {
    this.space = new RangeAllocator([{ start: 0, end: size - 1 }]);
  }
}

class PoolBuffer implements DmaBuffer {
  readonly size: number;
  readonly iova: number;
  private readonly view: Uint8Array;
  private readonly flags: number;
  /** null while live, else why it is dead. */
  dead: 'PHYR_DMA_FREED' | 'PHYR_DMA_CLOSED' | null = null;

  constructor(
    private readonly pool: DmaPool,
    readonly chunk: Chunk,
    readonly offset: number,
    size: number,
  ) {
    this.size = size;
    this.iova = chunk.iova + offset;
    this.flags = chunk.flags;
    this.view = new Uint8Array(chunk.memory, offset, size);
  }

  get hugepageBacked(): boolean {
    return (this.flags & PhyrFlags.HUGEPAGE) !== 0;
  }

  get bytes(): Uint8Array {
    if (this.dead !== null) this.throwDead('bytes');
    return this.view;
  }

  iovaAt(offset: number): number {
    if (this.dead !== null) this.throwDead('iovaAt');
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.size) {
      throw new DmaArgumentError(`offset ${describe(offset)} is outside the ${this.size}-byte buffer (valid: 0 .. ${this.size - 1})`);
    }
    return this.iova + offset;
  }

  toPhyr(offset: number, length: number, out?: PhyrArray): PhyrArray {
    if (this.dead !== null) this.throwDead('toPhyr');
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.size) {
      throw new DmaArgumentError(`offset ${describe(offset)} is outside the ${this.size}-byte buffer (valid: 0 .. ${this.size - 1})`);
    }
    if (!Number.isInteger(length) || length <= 0 || offset + length > this.size) {
      throw new DmaArgumentError(
        `length ${describe(length)} at offset ${offset} does not fit the ${this.size}-byte buffer (valid: 1 .. ${this.size - offset})`,
      );
    }
    const target = out ?? new PhyrArray();
    // One IOVA-contiguous range: PhyrArray splits it only past 4 GiB - 1.
    target.push(this.iova + offset, length, this.flags);
    return target;
  }

  free(): void {
    if (this.dead !== null) this.throwDead('free');
    this.dead = 'PHYR_DMA_FREED';
    this.pool.releaseBuffer(this);
  }

  private throwDead(what: string): never {
    const dead = this.dead as 'PHYR_DMA_FREED' | 'PHYR_DMA_CLOSED';
    throw new DmaStateError(
      dead,
      dead === 'PHYR_DMA_FREED'
        ? `${what}: this DMA buffer was already freed; allocate a new one`
        : `${what}: the DMA pool of this buffer was closed, so it is no longer mapped`,
    );
  }
}

class Mapping implements MappedIo {
  released = false;
  constructor(
    private readonly pool: DmaPool,
    readonly phyr: PhyrArray,
    /** Keeps the caller's memory alive while the device may reach it. */
    readonly memory: ArrayBuffer,
    readonly iova: number,
    readonly length: number,
    /** The IOVA range reserved (page-aligned) or -1 for a view of pool memory. */
    readonly iovaBase: number,
    readonly chunk: Chunk | null,
  ) {}

  release(): void {
    if (this.released) {
      throw new DmaStateError('PHYR_DMA_RELEASED', 'this IO mapping was already released (or its pool was closed)');
    }
    this.released = true;
    this.pool.releaseMapping(this);
  }
}

/** Page-locked, IOMMU-mapped memory for one PCI function. */
export class DmaPool {
  private readonly native: MemoryNative;
  private readonly mode: HugepageMode;
  private readonly iovas: RangeAllocator;
  private chunks: Chunk[] = [];
  private readonly chunkOf = new WeakMap<ArrayBuffer, Chunk>();
  private readonly pinned = new Set<Mapping>();
  /** A hugepage region allocated by the constructor's probe, used by the first chunk. */
  private spare: ArrayBuffer | null = null;
  private huge: boolean;
  private closed = false;

  constructor(
    readonly fn: PciFunction,
    options: DmaPoolOptions = {},
  ) {
    if (fn === null || typeof fn !== 'object' || typeof fn.dmaMap !== 'function' || typeof fn.iovaRanges !== 'function') {
      throw new DmaArgumentError('DmaPool needs a PciFunction (an object with iovaRanges, dmaMap and dmaUnmap)');
    }
    const mode = options.hugepages ?? 'auto';
    if (mode !== 'auto' && mode !== 'require' && mode !== 'off') {
      throw new DmaArgumentError(`hugepages must be 'auto', 'require' or 'off', not ${JSON.stringify(mode)}`);
    }
    this.mode = mode;
    this.native = memoryNative();
    this.iovas = new RangeAllocator(
      fn.iovaRanges()
        .filter((r) => r.end >= IOVA_FLOOR)
        .map((r) => ({ start: Math.max(r.start, IOVA_FLOOR), end: r.end })),
    );
    this.huge = mode !== 'off';
    if (this.huge) {
      // Probe now, so usingHugepages is true from the start and 'require' fails early.
      this.spare = this.allocNative(CHUNK, true);
      if (this.spare === null) this.noHugepages(CHUNK);
    }
  }

  /** True while the pool's memory comes from 2 MiB hugepages. */
  get usingHugepages(): boolean {
    return this.huge;
  }

  /** Allocates `size` bytes of zeroed memory, IOVA-contiguous, page-aligned, mapped read+write. */
  alloc(size: number, options: DmaAllocOptions = {}): DmaBuffer {
    this.checkOpen('alloc');
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new DmaArgumentError(`DMA buffer size ${describe(size)} is not a positive integer number of bytes`);
    }
    if (size > MAX_BUFFER) throw new DmaArgumentError(`DMA buffer size ${size} is above the ${MAX_BUFFER}-byte (1 TiB) limit`);
    if (options.align !== undefined && !isPow2(options.align)) {
      throw new DmaArgumentError(`alignment ${describe(options.align)} is not a power of two`);
    }
    const align = Math.max(PAGE, options.align ?? PAGE);
    const reserve = alignUp(size, PAGE);
    for (const chunk of this.chunks) {
      if (align > chunk.iovaAlign) continue;
      const offset = chunk.space.tryAlloc(reserve, align);
      if (offset >= 0) return this.newBuffer(chunk, offset, size);
    }
    const chunk = this.newChunk(alignUp(reserve, CHUNK), Math.max(CHUNK, align));
    return this.newBuffer(chunk, chunk.space.alloc(reserve, align), size);
  }

  /**
   * Maps an arbitrary caller buffer for one IO and returns its device ranges (flagged
   * PINNED_FOR_IO); release() unmaps it when the IO has completed. The mapping keeps the
   * buffer's memory alive. Under VFIO the device can reach the whole 4 KiB pages covering
   * the buffer. Appends to `out` when given.
   */
  mapForIo(buf: Uint8Array, out?: PhyrArray): MappedIo {
    this.checkOpen('mapForIo');
    if (!ArrayBuffer.isView(buf)) throw new DmaArgumentError(`mapForIo needs a Uint8Array or Buffer, not ${describe(buf)}`);
    if (!(buf.buffer instanceof ArrayBuffer)) {
      throw new DmaArgumentError('mapForIo cannot map a SharedArrayBuffer view: copy the data into a Buffer or pool memory');
    }
    if (buf.byteLength === 0) throw new DmaArgumentError('mapForIo needs a non-empty buffer (an IO moves at least one byte)');
    const memory = buf.buffer;
    const phyr = out ?? new PhyrArray();
    const chunk = this.chunkOf.get(memory);
    if (chunk !== undefined && chunk.mapped) {
      // Already pool memory: translate, and keep the chunk mapped until release().
      phyr.push(chunk.iova + buf.byteOffset, buf.byteLength, chunk.flags);
      chunk.refs++;
      return this.track(new Mapping(this, phyr, memory, chunk.iova + buf.byteOffset, buf.byteLength, -1, chunk));
    }
    // The IOVA shares the host address's offset within its 4 KiB page (dmaMap's rule).
    const pageOffset = this.native.pageOffset(memory, buf.byteOffset);
    const base = this.iovas.alloc(alignUp(pageOffset + buf.byteLength, PAGE), PAGE);
    const iova = base + pageOffset;
    try {
      this.fn.dmaMap(memory, buf.byteOffset, buf.byteLength, iova, READ_WRITE);
    } catch (e) {
      this.iovas.release(base);
      throw e;
    }
    phyr.push(iova, buf.byteLength, PhyrFlags.PINNED_FOR_IO);
    return this.track(new Mapping(this, phyr, memory, iova, buf.byteLength, base, null));
  }

  /**
   * Maps [offset, offset + length) of device memory — a BAR of this function, or of a peer
   * in the same IOMMU domain (an NVMe controller memory buffer, for one) — at an IOVA of
   * this pool, so the device can DMA into it. The entries carry `flags`, which must say
   * what the memory is (PhyrFlags.CMB and/or PEER_TO_PEER): the driver never bounces such
   * memory through the CPU. release() unmaps the window; close() does too.
   */
  mapDeviceMemory(bar: ArrayBuffer, offset: number, length: number, flags: number): DeviceMemoryMapping {
    this.checkOpen('mapDeviceMemory');
    if (!(bar instanceof ArrayBuffer)) throw new DmaArgumentError(`mapDeviceMemory needs a BAR's ArrayBuffer (fn.bar(i)), not ${describe(bar)}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % PAGE !== 0) {
      throw new DmaArgumentError(`device memory offset ${describe(offset)} must be a non-negative multiple of ${PAGE}`);
    }
    if (!Number.isSafeInteger(length) || length <= 0 || offset + length > bar.byteLength) {
      throw new DmaArgumentError(`device memory window ${describe(offset)}+${describe(length)} does not fit the ${bar.byteLength}-byte BAR`);
    }
    const kind = PhyrFlags.CMB | PhyrFlags.PEER_TO_PEER;
    if (!Number.isInteger(flags) || (flags & kind) === 0 || (flags & ~kind) !== 0) {
      throw new DmaArgumentError(`device memory flags ${describe(flags)} must be PhyrFlags.CMB and/or PhyrFlags.PEER_TO_PEER, and nothing else`);
    }
    const base = this.iovas.alloc(alignUp(length, PAGE), PAGE);
    try {
      this.fn.dmaMap(bar, offset, length, base, READ_WRITE);
    } catch (e) {
      this.iovas.release(base);
      throw e;
    }
    const phyr = new PhyrArray();
    phyr.push(base, length, flags);
    return this.track(new Mapping(this, phyr, bar, base, length, base, null));
  }

  /** Counters for leak checks and reports. */
  stats(): DmaPoolStats {
    let mappedBytes = 0;
    let buffers = 0;
    for (const c of this.chunks) {
      mappedBytes += c.size;
      buffers += c.buffers.size;
    }
    return { chunks: this.chunks.length, mappedBytes, buffers, pinnedMappings: this.pinned.size };
  }

  /**
   * Unmaps everything (chunks and IO mappings) and makes every buffer and mapping of the
   * pool unusable. Memory is freed once no view of it is left. Idempotent. When an unmap
   * fails the others still happen, then the first error is thrown.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    let first: unknown;
    const attempt = (f: () => void): void => {
      try {
        f();
      } catch (e) {
        first ??= e;
      }
    };
    for (const m of this.pinned) {
      m.released = true;
      if (m.chunk === null) attempt(() => this.fn.dmaUnmap(m.iova, m.length));
    }
    this.pinned.clear();
    for (const c of this.chunks) {
      for (const b of c.buffers) b.dead = 'PHYR_DMA_CLOSED';
      c.buffers.clear();
      c.mapped = false;
      attempt(() => this.fn.dmaUnmap(c.iova, c.size));
    }
    this.chunks = [];
    this.spare = null;
    if (first !== undefined) throw first;
  }

  /** @internal Called by DmaBuffer.free(). */
  releaseBuffer(b: PoolBuffer): void {
    b.chunk.space.release(b.offset);
    b.chunk.buffers.delete(b);
    this.unref(b.chunk);
  }

  /** @internal Called by MappedIo.release(). */
  releaseMapping(m: Mapping): void {
    this.pinned.delete(m);
    if (m.chunk !== null) {
      this.unref(m.chunk);
      return;
    }
    try {
      this.fn.dmaUnmap(m.iova, m.length);
    } finally {
      this.iovas.release(m.iovaBase);
    }
  }

  private track(m: Mapping): Mapping {
    this.pinned.add(m);
    return m;
  }

  private newBuffer(chunk: Chunk, offset: number, size: number): PoolBuffer {
    const b = new PoolBuffer(this, chunk, offset, size);
    chunk.buffers.add(b);
    chunk.refs++;
    return b;
  }

  /** Drops one reference; an unreferenced chunk is unmapped and its IOVAs returned. */
  private unref(chunk: Chunk): void {
    if (--chunk.refs > 0 || !chunk.mapped) return;
    chunk.mapped = false;
    this.chunks = this.chunks.filter((c) => c !== chunk);
    this.chunkOf.delete(chunk.memory);
    try {
      this.fn.dmaUnmap(chunk.iova, chunk.size);
    } finally {
      this.iovas.release(chunk.iova);
    }
  }

  private newChunk(size: number, iovaAlign: number): Chunk {
    // IOVAs first: running out of them is the likelier failure and costs no memory.
    const iova = this.iovas.alloc(size, iovaAlign);
    let memory: ArrayBuffer;
    let huge: boolean;
    try {
      ({ memory, huge } = this.allocRegion(size));
      this.fn.dmaMap(memory, 0, size, iova, READ_WRITE);
    } catch (e) {
      this.iovas.release(iova);
      throw e;
    }
    const chunk = new Chunk(memory, size, iova, iovaAlign, huge ? PhyrFlags.HUGEPAGE : 0);
    this.chunks.push(chunk);
    this.chunkOf.set(memory, chunk);
    return chunk;
  }

  private allocRegion(size: number): { memory: ArrayBuffer; huge: boolean } {
    if (this.huge) {
      if (this.spare !== null && size === CHUNK) {
        const memory = this.spare;
        this.spare = null;
        return { memory, huge: true };
      }
      const memory = this.allocNative(size, true);
      if (memory !== null) return { memory, huge: true };
      this.noHugepages(size);
    }
    return { memory: this.allocNative(size, false) as ArrayBuffer, huge: false };
  }

  private allocNative(size: number, huge: boolean): ArrayBuffer | null {
    try {
      return this.native.allocate(size, huge);
    } catch (e) {
      throw new DmaAllocError((e as Error).message);
    }
  }

  /** Hugepages ran out: throw under 'require', else warn once and use 4 KiB pages from now on. */
  private noHugepages(size: number): void {
    if (this.mode === 'require') throw new HugepagesUnavailableError(size);
    warnNoHugepages();
    this.huge = false;
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new DmaStateError('PHYR_DMA_CLOSED', `${what}: this DMA pool was closed; create a new one`);
  }
}
