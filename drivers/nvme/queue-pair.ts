// A queue pair as applications see it: the C++ data plane behind a batch interface.
// Requests are written into a shared Uint32Array (16 words each), phyr entries into a
// shared arena, and one native call submits a whole batch; one call reaps completions
// into another shared array. No per-IO object is created on this path.
import { DmaPool } from '../../lib/dma/pool';
import { PhyrError } from '../../lib/errors';
import { encodePhyrEntry, PHYR_KNOWN_FLAGS } from '../../lib/phyr';
import { CPL_WORDS, ENTRY_WORDS, REQ, REQ_FLAG_RAW_CDW, REQ_OPCODE_MASK, REQ_WORDS } from './batch';
import { NativeQueuePair, QueuePairStats, nvmeNative } from './native';
import type { ShadowDoorbellRegion } from './shadow-doorbells';
import { NVME } from '../../spec/nvme';

/** A range of DMA memory: CPU view (buffer + offset) and device address. */
export interface DmaRegion {
  buffer: ArrayBuffer;
  offset: number;
  iova: number;
}

/** What the data plane needs to know about the controller. */
export interface QueueCaps {
  /** Memory page size (CC.MPS). */
  pageSize: number;
  /** Identify SGLS bits 1:0 (0 none, 1 byte-aligned, 2 dword-aligned); 0 forces PRP. */
  sglSupport: number;
  /** SGL Bit Bucket support. */
  bitBucket: boolean;
  /** Maximum data transfer size in bytes (0 = none). */
  maxTransfer: number;
  /** SGL on every IO command SGL can describe, not only where the policy prefers it. */
  preferSgl?: boolean;
}

/** Everything a queue pair is built from. */
export interface QueuePairInit {
  /** Queue identifier (0 = admin). */
  id: number;
  /** Entries per ring. */
  size: number;
  /** BAR0 (registers and doorbells), or only its doorbell part (see doorbellBase). */
  bar: ArrayBuffer;
  /**
   * Offset in `bar` of the first doorbell (default NVME.REG_DOORBELLS, BAR0 from its start).
   * A served client over VFIO maps only the doorbell page, so its doorbells start at 0.
   */
  doorbellBase?: number;
  /** CAP.DSTRD. */
  doorbellStride: number;
  sq: DmaRegion;
  cq: DmaRegion;
  /** List pages: at least one per tracker (size − size/4). */
  lists: DmaRegion & { pages: number };
  caps: QueueCaps;
  /** Request slots in the shared array (default: size). */
  slots?: number;
  /** Phyr entries in the arena (default 4096, grows on demand). */
  arenaEntries?: number;
  /** Shadow doorbells of this IO queue (Doorbell Buffer Config); absent: MMIO doorbells. */
  shadow?: ShadowDoorbellRegion;
}

const TWO_32 = 0x1_0000_0000;

/** A queue pair was used after close, or while a native thread drives it. */
export class QueuePairClosedError extends PhyrError {
  constructor(id: number) {
    super('PHYR_QUEUE_CLOSED', `queue pair ${id} is closed; create a new one with controller.createQueuePair()`);
  }
}

/** A batch API call got a value it cannot use (a slot or entry that does not exist, a bad field). */
export class QueuePairArgumentError extends PhyrError {
  constructor(message: string) {
    super('PHYR_QUEUE_BAD_ARGUMENT', message);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}' (a string)`;
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? String(v) : v === null ? 'null' : typeof v;
}

/** True for an integer in [0, 2^32); false for strings, BigInts, NaN, fractions. */
function isU32(v: number): boolean {
  return typeof v === 'number' && v >>> 0 === v;
}

/** Largest arena asked for with ensureArena (entries): far past any batch. */
const MAX_ARENA_ENTRIES = 2 ** 24;

/** One IO submission/completion queue pair. */
export class QueuePair {
  /** Queue identifier. */
  readonly id: number;
  /** Entries per ring. */
  readonly size: number;
  /** The native handle (other native code unwraps it with unwrapQueuePair). */
  readonly native: NativeQueuePair;
  /** Shared request slots, REQ_WORDS words each (see drivers/nvme/batch.ts). */
  readonly requests: Uint32Array;
  /** Shared completion slots, CPL_WORDS words each. */
  readonly completions: Uint32Array;
  /** Shared phyr entries (4 words each: addr lo, addr hi, len, flags). */
  arena: Uint32Array;
  /** The controller capabilities this queue builds data pointers for. */
  readonly caps: QueueCaps;
  /** Interrupt vector of the CQ, or -1 when polled. */
  vector = -1;
  /** Called when the CQ's MSI-X vector fires (queue pairs created with interrupts). */
  onInterrupt?: () => void;
  /**
   * Called after a controller reset cancelled this queue pair's commands: `cancelled`
   * completions (status 0x7fff, CPL_FLAG_CANCELLED) are in `completions`.
   */
  onReset?: (cancelled: number) => void;
  /** Set by the controller: deletes the queues on the device and frees the rings. */
  onClose?: () => Promise<void>;
  /** True when this queue publishes its doorbells in the shadow buffer (MMIO only when asked). */
  readonly shadowDoorbells: boolean;
  private closed = false;
  /**
   * The DMA pool whose data ranges this queue's data pointers must lie in (the pool its
   * rings come from: the same IOMMU domain); undefined for rings outside any pool (tests).
   * The admin queue has none: its commands legitimately point at queue memory (Create I/O
   * Completion/Submission Queue, NVMe 1.4 §5.3, §5.4).
   */
  private readonly dataPool: DmaPool | undefined;
  private readonly poolOfRings: DmaPool | undefined;

  constructor(init: QueuePairInit) {
    this.id = init.id;
    this.size = init.size;
    this.caps = init.caps;
    const slots = init.slots ?? init.size;
    this.requests = new Uint32Array(slots * REQ_WORDS);
    this.completions = new Uint32Array(init.size * CPL_WORDS);
    this.arena = new Uint32Array((init.arenaEntries ?? 4096) * ENTRY_WORDS);
    const stride = 4 << init.doorbellStride;
    this.native = new (nvmeNative().QueuePair)({
      qid: init.id,
      qsize: init.size,
      bar: init.bar,
      sqDoorbell: (init.doorbellBase ?? NVME.REG_DOORBELLS) + 2 * init.id * stride,
      cqDoorbell: (init.doorbellBase ?? NVME.REG_DOORBELLS) + (2 * init.id + 1) * stride,
      sq: init.sq.buffer,
      sqOffset: init.sq.offset,
      sqIova: init.sq.iova,
      cq: init.cq.buffer,
      cqOffset: init.cq.offset,
      cqIova: init.cq.iova,
      lists: init.lists.buffer,
      listsOffset: init.lists.offset,
      listsIova: init.lists.iova,
      listPages: init.lists.pages,
      pageSize: init.caps.pageSize,
      sglSupport: init.caps.sglSupport,
      bitBucket: init.caps.bitBucket ? 1 : 0,
      maxTransfer: init.caps.maxTransfer,
      preferSgl: init.caps.preferSgl ? 1 : 0,
      requests: this.requests.buffer as ArrayBuffer,
      completions: this.completions.buffer as ArrayBuffer,
      arena: this.arena.buffer as ArrayBuffer,
      ...(init.shadow && {
        shadow: init.shadow.buffer,
        shadowSqOffset: init.shadow.shadowSqOffset,
        shadowCqOffset: init.shadow.shadowCqOffset,
        eventSqOffset: init.shadow.eventSqOffset,
        eventCqOffset: init.shadow.eventCqOffset,
      }),
    });
    this.shadowDoorbells = init.shadow !== undefined;
    // Rings and list pages are the driver's own memory: no data pointer may address them
    // (a read aimed at the CQ would overwrite completions and stall the queue).
    this.poolOfRings = DmaPool.ownerOf(init.sq.buffer);
    if (this.poolOfRings) {
      this.poolOfRings.markInternal(init.sq.iova);
      this.poolOfRings.markInternal(init.cq.iova);
      this.poolOfRings.markInternal(init.lists.iova);
    }
    this.dataPool = init.id === 0 ? undefined : this.poolOfRings;
  }

  /**
   * Gives the native queue pair `pages` more list pages at [offset, ...) of `buffer`
   * (device address `iova`) and marks them driver-internal memory.
   */
  addListPages(buffer: ArrayBuffer, offset: number, iova: number, pages: number): void {
    this.check();
    this.native.addListPages(buffer, offset, iova, pages);
    this.poolOfRings?.markInternal(iova);
  }

  /** Commands that can be in flight at once (size − size/4). */
  get capacity(): number {
    return this.native.stats().capacity;
  }

  /** Request slots available in `requests`. */
  get slots(): number {
    return this.requests.length / REQ_WORDS;
  }

  /** True while a native thread (e.g. a benchmark) drives this queue pair. */
  get busy(): boolean {
    return !this.closed && this.native.busy;
  }

  /** True after close(). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Makes the arena hold at least `entries` phyr entries (keeps the content). */
  ensureArena(entries: number): void {
    if (typeof entries === 'number' && entries * ENTRY_WORDS <= this.arena.length) return;
    if (!Number.isInteger(entries) || entries > MAX_ARENA_ENTRIES) {
      throw new QueuePairArgumentError(`ensureArena: ${describe(entries)} entries is not an integer in 0..${MAX_ARENA_ENTRIES}`);
    }
    let n = this.arena.length / ENTRY_WORDS;
    while (n < entries) n *= 2;
    const bigger = new Uint32Array(n * ENTRY_WORDS);
    bigger.set(this.arena);
    this.arena = bigger;
    this.native.setArena(bigger.buffer as ArrayBuffer);
  }

  /**
   * Writes phyr entry `index` of the arena (no allocation). Checks every value, and that
   * [addr, addr + len) lies in memory this controller's pool mapped for data (pool data
   * buffers, mapForIo mappings, mapped device memory): a binary search, no allocation.
   * Writing `arena` directly skips these checks.
   */
  setEntry(index: number, addr: number, len: number, flags = 0): void {
    const a = this.arena;
    // One condition, cheap on the batch path: typeof checks are free once the call site is
    // monomorphic; `>>> 0 ===` tests "integer in [0, 2^32)".
    if (
      !(
        isU32(index) &&
        index * ENTRY_WORDS < a.length &&
        typeof addr === 'number' &&
        addr >= 0 &&
        addr <= Number.MAX_SAFE_INTEGER &&
        Math.floor(addr) === addr &&
        isU32(len) &&
        len !== 0 &&
        isU32(flags) &&
        (flags & ~PHYR_KNOWN_FLAGS) === 0
      )
    ) {
      this.badEntry(index, addr, len, flags);
    }
    const pool = this.dataPool;
    if (pool !== undefined && !pool.isData(addr, len)) pool.throwNotData(addr, len, index, `queue pair ${this.id} setEntry`);
    this.writeEntry(index, addr, len, flags);
  }

  /**
   * setEntry without its checks, for the driver's own dispatcher: the namespace API checked
   * every entry (values and data memory) when the IO was called and keeps a snapshot, so
   * checking again at the flush would only repeat that work per entry.
   * @internal
   */
  writeEntry(index: number, addr: number, len: number, flags: number): void {
    encodePhyrEntry(this.arena, index, addr % TWO_32, Math.floor(addr / TWO_32), len, flags);
  }

  /**
   * Fills request slot `slot` with an LBA command (read, write, compare, write zeroes, ...)
   * whose data is arena entries [first, first + count). No allocation.
   */
  setIo(slot: number, opcode: number, nsid: number, lba: number, blocks: number, lbaSize: number, first: number, count: number, tag: number): void {
    const r = this.requests;
    if (!isU32(slot) || slot * REQ_WORDS >= r.length) this.fail('setIo', `request slot ${describe(slot)} does not exist (slots 0..${this.slots - 1})`);
    const w = slot * REQ_WORDS;
    if (!isU32(opcode) || opcode > REQ_OPCODE_MASK) this.fail('setIo', `opcode ${describe(opcode)} is not an integer in 0..255`);
    if (!isU32(nsid)) this.fail('setIo', `nsid ${describe(nsid)} is not an integer in 0..2^32-1`);
    if (typeof lba !== 'number' || !(lba >= 0 && lba <= Number.MAX_SAFE_INTEGER) || lba % 1 !== 0) {
      this.fail('setIo', `LBA ${describe(lba)} is not an integer in 0..2^53-1`);
    }
    // The request covers the whole IO (a u32 word); the native side splits it into
    // commands at MDTS and at NLB's 16-bit limit (NVMe 1.4 §6.9). 0 for commands without data.
    if (!isU32(blocks)) this.fail('setIo', `block count ${describe(blocks)} is not an integer in 0..4294967295`);
    if (!isU32(lbaSize) || lbaSize < 512 || (lbaSize & (lbaSize - 1)) !== 0) this.fail('setIo', `LBA size ${describe(lbaSize)} is not a power of two of at least 512`);
    if (!isU32(first) || !isU32(count) || (first + count) * ENTRY_WORDS > this.arena.length) {
      this.fail('setIo', `phyr entries ${describe(first)} + ${describe(count)} are not inside the arena (${this.arena.length / ENTRY_WORDS} entries; see ensureArena)`);
    }
    if (!isU32(tag)) this.fail('setIo', `tag ${describe(tag)} is not an integer in 0..2^32-1`);
    this.writeIo(slot, opcode, nsid, lba, blocks, lbaSize, first, count, tag);
  }

  /**
   * setIo without its checks, for the driver's own dispatcher (the namespace API checked the
   * command's fields when the IO was called; the dispatcher owns slots, tags and the arena).
   * @internal
   */
  writeIo(slot: number, opcode: number, nsid: number, lba: number, blocks: number, lbaSize: number, first: number, count: number, tag: number): void {
    const r = this.requests;
    const w = slot * REQ_WORDS;
    r[w + REQ.OPCODE_FLAGS] = opcode;
    r[w + REQ.NSID] = nsid;
    r[w + REQ.SLBA_LO] = lba % TWO_32;
    r[w + REQ.SLBA_HI] = Math.floor(lba / TWO_32);
    r[w + REQ.BLOCKS] = blocks;
    r[w + REQ.LBA_SIZE] = lbaSize;
    r[w + REQ.PHYR_FIRST] = first;
    r[w + REQ.PHYR_COUNT] = count;
    r[w + REQ.CDW12_EXTRA] = 0;
    r[w + REQ.CDW13] = 0;
    r[w + REQ.TAG] = tag;
    r[w + REQ.BUCKET_HEAD] = 0;
    r[w + REQ.BUCKET_TAIL] = 0;
    r[w + REQ.DATA_BYTES] = 0;
  }

  /** Fills a slot with a command whose CDW10/CDW11 are given raw (e.g. Dataset Management). */
  setRaw(slot: number, opcode: number, nsid: number, cdw10: number, cdw11: number, first: number, count: number, dataBytes: number, tag: number): void {
    this.setIo(slot, opcode, nsid, 0, 0, 512, first, count, tag);
    if (!isU32(cdw10) || !isU32(cdw11)) this.fail('setRaw', `cdw10 ${describe(cdw10)} and cdw11 ${describe(cdw11)} must be integers in 0..2^32-1`);
    if (!isU32(dataBytes)) this.fail('setRaw', `dataBytes ${describe(dataBytes)} is not an integer in 0..2^32-1`);
    const r = this.requests;
    const w = slot * REQ_WORDS;
    r[w + REQ.OPCODE_FLAGS] = opcode | REQ_FLAG_RAW_CDW;
    r[w + REQ.SLBA_LO] = cdw10;
    r[w + REQ.SLBA_HI] = cdw11;
    r[w + REQ.DATA_BYTES] = dataBytes;
  }

  /** Submits slots [first, first + count) with one native call; returns how many were processed. */
  submitBatch(first: number, count: number): number {
    this.check();
    if (!isU32(first) || !isU32(count) || first + count > this.slots) {
      this.fail('submitBatch', `slots ${describe(first)} + ${describe(count)} are not inside the ${this.slots} request slots`);
    }
    return this.native.submitBatch(first, count);
  }

  /** Reaps up to `max` completions into `completions`; returns how many. */
  reap(max?: number): number {
    this.check();
    if (max === undefined) return this.native.reap();
    if (!isU32(max)) this.fail('reap', `max ${describe(max)} is not a non-negative integer`);
    return this.native.reap(Math.min(max, this.size));
  }

  /** Submits a prepared 64-byte SQE (admin path) with PRPs built from arena entries. Returns the CID, -1 when full. */
  submitRaw(sqe: Uint8Array, tag: number, first = 0, count = 0, bytes = 0): number {
    this.check();
    if (!(sqe instanceof Uint8Array) || sqe.byteLength !== 64) this.fail('submitRaw', `the SQE must be a 64-byte Uint8Array, not ${describe(sqe)}`);
    if (!isU32(tag) || !isU32(first) || !isU32(count) || (first + count) * ENTRY_WORDS > this.arena.length) {
      this.fail('submitRaw', `tag ${describe(tag)} / entries ${describe(first)} + ${describe(count)} are not integers inside the arena`);
    }
    if (!Number.isSafeInteger(bytes) || bytes < 0) this.fail('submitRaw', `bytes ${describe(bytes)} is not a non-negative integer`);
    return this.native.submitRaw(sqe, tag, first, count, bytes);
  }

  /** Counters: submitted, completed, doorbells, outstanding, capacity, ... */
  stats(): QueuePairStats {
    this.check();
    return this.native.stats();
  }

  /**
   * Stops using the queue pair (further calls throw) and, for queue pairs made by a
   * controller, deletes its queues on the device and frees their memory. Idempotent.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.native.close();
    this.closed = true;
    return this.onClose ? this.onClose() : Promise.resolve();
  }

  private check(): void {
    if (this.closed) throw new QueuePairClosedError(this.id);
  }

  private fail(what: string, detail: string): never {
    throw new QueuePairArgumentError(`queue pair ${this.id} ${what}: ${detail}`);
  }

  private badEntry(index: unknown, addr: unknown, len: unknown, flags: unknown): never {
    const arena = this.arena.length / ENTRY_WORDS;
    if (typeof index !== 'number' || !isU32(index) || index >= arena) {
      this.fail('setEntry', `entry ${describe(index)} is not inside the arena (entries 0..${arena - 1}; see ensureArena)`);
    }
    if (typeof addr !== 'number' || !Number.isSafeInteger(addr) || addr < 0) this.fail('setEntry', `entry ${index}: address ${describe(addr)} is not an integer in 0..2^53-1`);
    if (typeof len !== 'number' || !isU32(len) || len === 0) this.fail('setEntry', `entry ${index}: length ${describe(len)} is not an integer in 1..2^32-1`);
    this.fail('setEntry', `entry ${index}: flags ${describe(flags)} are not PhyrFlags bits (known: 0x${PHYR_KNOWN_FLAGS.toString(16)})`);
  }
}
