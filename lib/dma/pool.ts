// The DMA pool: page-locked memory that a device can reach, with device addresses (IOVAs)
// handed out by an allocator over the ranges the IOMMU accepts. See docs/MEMORY.md.
//
// Memory comes in chunks (2 MiB, or a multiple of 2 MiB for large buffers). Each chunk is
// one native region — 2 MiB hugepages when reserved, locked 4 KiB pages otherwise — and is
// mapped ONCE, at one IOVA-contiguous range aligned to 2 MiB, through the PCI function's
// dmaMap. Buffers are carved out of chunks at 4 KiB granularity, so a buffer's IOVAs are
// contiguous and translation is base + offset: O(1), whatever the number of hugepages.
// A chunk is unmapped when its last buffer is freed; its memory is freed by the
// ArrayBuffer finalizer once no view of it is left AND no IOMMU mapping holds it (the
// native dmaMap keeps the memory itself alive while mapped, so a transferred or detached
// ArrayBuffer can never leave the device writing into freed memory).
//
// Ownership of addresses: the pool keeps the IOVA ranges mapped for DATA (live data
// buffers, mapForIo mappings, device memory windows) in a sorted interval index
// (ranges.ts). Memory the driver allocates for itself (queues, list pages: `internal`) is
// kept apart, so a data pointer aimed at it is refused before it reaches the device.
import { createSharedMemory } from '../channel';
import { PhyrArray, PhyrFlags } from '../phyr';
import type { DmaAccess, PciFunction } from '../pci/function';
import { BufferDetachedError, DmaAllocError, DmaArgumentError, DmaStateError, ForeignBufferError, HugepagesUnavailableError, NotDataMemoryError } from './errors';
import { isPow2, RangeAllocator } from './iova';
import { memoryNative, type MemoryNative } from './native';
import { DataRanges } from './ranges';

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
  /**
   * Chunks in shared memory (memfds, lib/channel.ts) that another process can map: a
   * served client's pool, whose memory the daemon maps into the controller's IOMMU
   * (docs/SERVE.md). Default false: private locked memory, as before.
   */
  shared?: boolean;
}

/** Options of DmaPool.alloc. */
export interface DmaAllocOptions {
  /** IOVA alignment in bytes: a power of two; at least (and by default) 4096. */
  align?: number;
  /**
   * Driver-internal memory (submission/completion queues, PRP/SGL list pages): never a
   * valid data pointer target, so IO whose data would land there is refused. Default false.
   */
  internal?: boolean;
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
  /**
   * Returns the memory to the pool. A second free throws DmaStateError. With IO of the
   * namespace API still using the buffer, the buffer is dead for the caller at once, but
   * the pool takes its memory and IOVAs back only when the last such IO settles (a read
   * that settles after free() rejects with PHYR_DMA_FREED), so no later allocation can be
   * overwritten by it.
   */
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
  /**
   * Unmaps the buffer (call when the IO has completed). A second release throws. While IO
   * of the namespace API still points into the mapping, the unmap waits for it to settle.
   */
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
  /** Buffers freed while IO still used them, waiting for that IO to settle (counted in `buffers`). */
  pendingFrees: number;
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
  return typeof v === 'number' || typeof v === 'bigint' ? String(v) : v === null ? 'null' : typeof v;
}

/**
 * True when `memory` is a detached ArrayBuffer (its memory transferred away). A detached
 * buffer reads as 0 bytes; constructing a view of it throws, which tells it from an empty
 * one. Only called once byteLength is 0 (cold path).
 */
export function isDetached(memory: ArrayBufferLike): boolean {
  if (memory.byteLength !== 0) return false;
  try {
    new Uint8Array(memory);
    return false;
  } catch {
    return true;
  }
}

/** The pool of each chunk's memory, so a queue pair can find the pool of its rings. */
const poolOfMemory = new WeakMap<ArrayBuffer, DmaPool>();

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
  /** Driver-internal memory (not a data pointer target). */
  internal = false;
  /** IOs of the namespace API using this buffer now. */
  ios = 0;
  /** free() was called with IOs using it: released when `ios` drops to 0. */
  freePending = false;

  constructor(
    readonly pool: DmaPool,
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
    if (this.view.byteLength !== this.size) this.throwDetached('bytes');
    return this.view;
  }

  /** True when the chunk's ArrayBuffer was detached (the CPU view is gone). */
  get detached(): boolean {
    return this.view.byteLength !== this.size;
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
    // IO in flight still targets this memory: hand it back when the last one settles, or
    // the next alloc could get these IOVAs and be overwritten by the old IO.
    if (this.ios > 0) this.freePending = true;
    else this.pool.releaseBuffer(this);
  }

  /** @internal Throws the typed error that says why this buffer cannot take an IO. */
  throwDetached(what: string): never {
    throw new BufferDetachedError(
      `${what}: the memory of this DMA buffer was detached (its ArrayBuffer was transferred); ` +
        'allocate a new buffer, and copy data out of pool memory instead of transferring it',
    );
  }

  /** @internal */
  throwDead(what: string): never {
    const dead = this.dead as 'PHYR_DMA_FREED' | 'PHYR_DMA_CLOSED';
    throw new DmaStateError(
      dead,
      dead === 'PHYR_DMA_FREED'
        ? `${what}: this DMA buffer was already freed; allocate a new one`
        : `${what}: the DMA pool of this buffer was closed, so it is no longer mapped`,
    );
  }
}

/**
 * Something an IO of the namespace API holds while it runs (a pool buffer, a mapForIo
 * mapping, a device memory window): freeing or releasing it meanwhile is deferred.
 */
export interface DmaPin {
  /** Device address of its first byte. */
  readonly iova: number;
}

class Mapping implements MappedIo {
  released = false;
  /** IOs of the namespace API whose data lies in this mapping. */
  ios = 0;
  /** release() was called while `ios` > 0: unmapped when it drops to 0. */
  releasePending = false;
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
    // Namespace IO still points into this mapping: unmap when the last one settles.
    if (this.ios > 0) this.releasePending = true;
    else this.pool.releaseMapping(this);
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
  /** IOVA ranges mapped for data, with their owners. */
  private readonly data = new DataRanges<PoolBuffer | Mapping>();
  /** IOVA ranges of driver-internal buffers (only to name them in errors). */
  private readonly internalRanges = new DataRanges<PoolBuffer>();
  /** A hugepage region allocated by the constructor's probe, used by the first chunk. */
  private spare: { memory: ArrayBuffer; huge: boolean } | null = null;
  private huge: boolean;
  private readonly shared: boolean;
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
    if (options.shared !== undefined && typeof options.shared !== 'boolean') {
      throw new DmaArgumentError(`shared must be a boolean, not ${describe(options.shared)}`);
    }
    this.shared = options.shared === true;
    this.native = memoryNative();
    this.iovas = new RangeAllocator(
      fn.iovaRanges()
        .filter((r) => r.end >= IOVA_FLOOR)
        .map((r) => ({ start: Math.max(r.start, IOVA_FLOOR), end: r.end })),
    );
    this.huge = mode !== 'off';
    if (this.huge) {
      // Probe now, so usingHugepages is true from the start and 'require' fails early.
      const probe = this.allocMemory(CHUNK, true);
      // Private memory gives none without hugepages; shared memory falls back to plain
      // pages by itself, and that chunk is kept as the spare all the same.
      this.spare = probe.huge || this.shared ? probe : null;
      if (!probe.huge) this.noHugepages(CHUNK);
    }
  }

  /** True while the pool's memory comes from 2 MiB hugepages. */
  get usingHugepages(): boolean {
    return this.huge;
  }

  /** The pool whose chunk `memory` is (a queue pair finds the pool of its rings this way). */
  static ownerOf(memory: ArrayBuffer): DmaPool | undefined {
    return poolOfMemory.get(memory);
  }

  /** Allocates `size` bytes of zeroed memory, IOVA-contiguous, page-aligned, mapped read+write. */
  alloc(size: number, options: DmaAllocOptions = {}): DmaBuffer {
    this.checkOpen('alloc');
    if (options === null || typeof options !== 'object') throw new DmaArgumentError(`alloc options must be an object, not ${describe(options)}`);
    if (options.internal !== undefined && typeof options.internal !== 'boolean') {
      throw new DmaArgumentError(`alloc option internal must be a boolean, not ${describe(options.internal)}`);
    }
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new DmaArgumentError(`DMA buffer size ${describe(size)} is not a positive integer number of bytes`);
    }
    if (size > MAX_BUFFER) throw new DmaArgumentError(`DMA buffer size ${size} is above the ${MAX_BUFFER}-byte (1 TiB) limit`);
    if (options.align !== undefined && !isPow2(options.align)) {
      throw new DmaArgumentError(`alignment ${describe(options.align)} is not a power of two`);
    }
    const align = Math.max(PAGE, options.align ?? PAGE);
    const reserve = alignUp(size, PAGE);
    const internal = options.internal === true;
    for (const chunk of this.chunks) {
      // A chunk whose ArrayBuffer was detached still holds its IOMMU mapping (and the
      // mapping its memory), but has no CPU view left to carve buffers from.
      if (align > chunk.iovaAlign || chunk.memory.byteLength === 0) continue;
      const offset = chunk.space.tryAlloc(reserve, align);
      if (offset >= 0) return this.newBuffer(chunk, offset, size, internal);
    }
    const chunk = this.newChunk(alignUp(reserve, CHUNK), Math.max(CHUNK, align));
    return this.newBuffer(chunk, chunk.space.alloc(reserve, align), size, internal);
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
    if (buf.byteLength === 0) {
      if (isDetached(buf.buffer)) {
        throw new BufferDetachedError('mapForIo: the buffer is detached (its ArrayBuffer was transferred); pass a buffer you still own');
      }
      throw new DmaArgumentError('mapForIo needs a non-empty buffer (an IO moves at least one byte)');
    }
    const memory = buf.buffer;
    const phyr = out ?? new PhyrArray();
    const chunk = this.chunkOf.get(memory);
    if (chunk !== undefined && chunk.mapped) {
      // Already pool memory: translate, and keep the chunk mapped until release(). A view
      // may span anything in the chunk, so it must lie in data buffers: never the queues.
      const at = chunk.iova + buf.byteOffset;
      this.checkData(at, buf.byteLength, 0, 'mapForIo');
      phyr.push(at, buf.byteLength, chunk.flags);
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
    const m = this.track(new Mapping(this, phyr, memory, iova, buf.byteLength, base, null));
    this.data.add(iova, buf.byteLength, m);
    return m;
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
    const m = this.track(new Mapping(this, phyr, bar, base, length, base, null));
    this.data.add(base, length, m);
    return m;
  }

  /** Counters for leak checks and reports. */
  stats(): DmaPoolStats {
    let mappedBytes = 0;
    let buffers = 0;
    let pendingFrees = 0;
    for (const c of this.chunks) {
      mappedBytes += c.size;
      buffers += c.buffers.size;
      for (const b of c.buffers) if (b.freePending) pendingFrees++;
    }
    return { chunks: this.chunks.length, mappedBytes, buffers, pinnedMappings: this.pinned.size, pendingFrees };
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
    this.data.clear();
    this.internalRanges.clear();
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

  /** True when `b` is a live or dead DmaBuffer allocated by THIS pool (not a look-alike). */
  owns(b: unknown): b is DmaBuffer {
    return b instanceof PoolBuffer && b.pool === this;
  }

  /**
   * Throws the typed error that says why `b` cannot carry an IO of this pool's controller:
   * not a DmaBuffer at all (an object that only has iova/toPhyr), one of another pool
   * (another controller: its IOVAs mean nothing in this IOMMU domain), freed, closed,
   * detached, or driver-internal memory.
   */
  checkIoBuffer(b: DmaBuffer, what: string): void {
    if (!(b instanceof PoolBuffer)) {
      throw new ForeignBufferError(
        `${what}: the buffer is not a DmaBuffer of a DMA pool (an object with iova/toPhyr is not one); ` +
          "allocate it with controller.pool.alloc(), or pass a Uint8Array and let the driver map it",
      );
    }
    if (b.pool !== this) {
      throw new ForeignBufferError(
        `${what}: the DmaBuffer belongs to another controller's DMA pool, and its device addresses mean nothing ` +
          "to this controller; allocate it from this controller's pool, or pass its bytes as a Uint8Array",
      );
    }
    if (b.dead !== null) b.throwDead(what);
    if (b.detached) b.throwDetached(what);
    if (b.internal) throw new NotDataMemoryError(0, b.iova, b.size, 'driver-internal', what);
  }

  /** @internal An IO of the namespace API starts using `b` (a checked DmaBuffer, or a pin from pinData). */
  beginIo(b: DmaBuffer | DmaPin): void {
    (b as PoolBuffer | Mapping).ios++;
  }

  /**
   * @internal That IO settled. Returns why the buffer's data is no longer the caller's
   * (freed or closed while the IO ran, or detached), or null. A free() deferred by the IO
   * happens here.
   */
  endIo(b: DmaBuffer | DmaPin): 'PHYR_DMA_FREED' | 'PHYR_DMA_CLOSED' | 'PHYR_BUFFER_DETACHED' | null {
    if (b instanceof Mapping) {
      b.ios--;
      if (b.releasePending && b.ios === 0) {
        b.releasePending = false;
        if (!this.closed) this.releaseMapping(b);
      }
      return null;
    }
    const p = b as PoolBuffer;
    p.ios--;
    if (p.freePending && p.ios === 0) {
      p.freePending = false;
      if (!this.closed) this.releaseBuffer(p);
    }
    return p.dead ?? (p.detached ? 'PHYR_BUFFER_DETACHED' : null);
  }

  /**
   * The pool buffer holding [addr, addr + len) when that range lies in memory mapped for
   * data, `null` when it lies in a mapForIo mapping or device memory window, and undefined
   * when it is not data memory. A binary search; no allocation.
   */
  dataOwner(addr: number, len: number): DmaBuffer | null | undefined {
    const o = this.data.find(addr, len);
    return o === undefined ? undefined : o instanceof PoolBuffer ? o : null;
  }

  /** True when [addr, addr + len) lies in memory mapped for data (binary search, no allocation). */
  isData(addr: number, len: number): boolean {
    return this.data.find(addr, len) !== undefined;
  }

  /**
   * When [addr, addr + len) lies in data memory, appends what holds it (one owner, or each
   * of the adjacent ones it runs across) to `out` and returns true; else returns false.
   */
  pinData(addr: number, len: number, out: DmaPin[]): boolean {
    const o = this.data.find(addr, len);
    if (o === undefined) return false;
    const end = o instanceof PoolBuffer ? o.iova + o.size : o.iova + o.length;
    if (addr + len <= end) out.push(o);
    else for (const x of this.data.ownersIn(addr, len, [])) out.push(x);
    return true;
  }

  /** Throws NotDataMemoryError (naming entry `index` and what it hits) unless [addr, addr + len) is data memory. */
  checkData(addr: number, len: number, index: number, where: string): void {
    if (this.data.find(addr, len) !== undefined) return;
    this.throwNotData(addr, len, index, where);
  }

  /** @internal Throws the NotDataMemoryError for a range that is not data memory (cold path). */
  throwNotData(addr: number, len: number, index: number, where: string): never {
    const internal = this.internalRanges.ownersIn(addr, len, []).length > 0;
    throw new NotDataMemoryError(index, addr, len, internal ? 'driver-internal' : 'unmapped', where);
  }

  /**
   * Marks the pool buffer at `iova` as driver-internal (a queue pair's rings or list pages),
   * so no data pointer may address it. No-op for an IOVA that is not a data buffer's start.
   */
  markInternal(iova: number): void {
    const o = this.data.find(iova, 1);
    if (!(o instanceof PoolBuffer) || o.iova !== iova || o.dead !== null) return;
    this.data.remove(o.iova, o);
    o.internal = true;
    this.internalRanges.add(o.iova, o.size, o);
  }

  /** @internal Called by DmaBuffer.free(). */
  releaseBuffer(b: PoolBuffer): void {
    if (b.internal) this.internalRanges.remove(b.iova, b);
    else this.data.remove(b.iova, b);
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
    this.data.remove(m.iova, m);
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

  private newBuffer(chunk: Chunk, offset: number, size: number, internal: boolean): PoolBuffer {
    const b = new PoolBuffer(this, chunk, offset, size);
    chunk.buffers.add(b);
    chunk.refs++;
    b.internal = internal;
    // The whole reserved pages are the buffer's: data pointers may cover its size only.
    if (internal) this.internalRanges.add(b.iova, size, b);
    else this.data.add(b.iova, size, b);
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
    poolOfMemory.set(memory, this);
    return chunk;
  }

  private allocRegion(size: number): { memory: ArrayBuffer; huge: boolean } {
    if (this.spare !== null && size === CHUNK) {
      const spare = this.spare;
      this.spare = null;
      return spare;
    }
    if (this.huge) {
      const got = this.allocMemory(size, true);
      if (got.huge) return got;
      this.noHugepages(size);
      if (this.shared) return got; // plain pages already
    }
    return this.allocMemory(size, false);
  }

  // Private locked memory (addon/memory), or a memfd when the pool is shared. `huge` in
  // the result says what it got: a private request for hugepages may get none (memory
  // null), a shared one falls back to plain pages by itself.
  private allocMemory(size: number, huge: boolean): { memory: ArrayBuffer; huge: boolean } {
    try {
      if (this.shared) {
        const m = createSharedMemory(size, huge);
        return { memory: m.memory, huge: m.huge };
      }
      const memory = this.native.allocate(size, huge);
      return { memory: memory as ArrayBuffer, huge: huge && memory !== null };
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
