// A namespace: LBA-addressed IO with promises. Buffers may be pool buffers (DmaBuffer),
// phyr arrays (device ranges the caller owns), or any Uint8Array/Buffer (mapped for the
// IO and unmapped after). Every argument is checked before anything is submitted.
//
// Ownership (docs/DRIVER.md, "Buffers and ownership"): a DmaBuffer must be one of THIS
// controller's pool; a phyr array is copied at call time and each entry must lie in memory
// mapped for data (never the driver's queues or list pages); pool buffers an IO uses are
// pinned until it settles, so free() during the IO defers the release. The memory a device
// may touch is always kept alive by its IOMMU mapping (native dmaMap), so a caller buffer
// transferred mid-IO can never be written after it was freed; a read whose caller view
// was detached rejects with PHYR_BUFFER_DETACHED.
import { BufferDetachedError, DmaStateError, isDetached, type DmaBuffer, type DmaPin, type DmaPool, type MappedIo } from '../../lib/dma';
import { PhyrArray, PhyrFlags } from '../../lib/phyr';
import { Command, newCommand, type Dispatcher } from './dispatcher';
import { CommandInfo, InvalidIoError, opcodeName } from './errors';
import { IdentifyController, IdentifyNamespace, LbaFormat, formatInUse } from './identify';
import { nvmeNative, type DataPointerDecision } from './native';
import type { QueueCaps } from './queue-pair';
import { NVME } from '../../spec/nvme';

/** What an IO can move data from or into. */
export type IoBuffer = Uint8Array | DmaBuffer | PhyrArray;

/** Options of read and write. */
export interface IoOptions {
  /** Force Unit Access (CDW12 bit 30): the data reaches non-volatile media before completion. */
  fua?: boolean;
}

const MAX_NLB = 0x10000; // NLB is a 16-bit, 0's based field (NVMe 1.4 §6.9)
const DSM_DEALLOCATE = 1 << 2;

/** What a value is, for messages: strings and numbers quoted so that '0' and 0 differ. */
function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an Array';
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  return typeof v;
}

/**
 * Why `v` is not an integer in [min, 2^53 - 1] usable as `name`, or undefined. Strings are
 * called strings (an LBA of '0' is a string, not "LBA 0").
 */
function integerProblem(name: string, v: unknown, min: number): string | undefined {
  if (typeof v === 'string') return `${name} ${describe(v)} is a string; pass a number`;
  if (typeof v === 'bigint') return `${name} ${describe(v)} is a BigInt; pass a number (exact up to 2^53 - 1)`;
  if (typeof v !== 'number') return `${name} is ${describe(v)}; pass a number`;
  if (Number.isNaN(v)) return `${name} is NaN; pass an integer`;
  if (!Number.isFinite(v)) return `${name} ${v} is not finite; pass an integer`;
  if (!Number.isInteger(v)) return `${name} ${v} is not an integer`;
  if (v < min) return `${name} ${v} is not a ${min === 0 ? 'non-negative' : 'positive'} integer`;
  if (v > Number.MAX_SAFE_INTEGER) return `${name} ${v} is above 2^53 - 1`;
  return undefined;
}

/** A data buffer of the namespace API: what it is, resolved once at call time. */
interface ResolvedBuffer {
  bytes: number;
  /** The caller's CPU view (Uint8Array, or a DmaBuffer's bytes). */
  cpu?: Uint8Array;
  /** A pool buffer of this controller. */
  dma?: DmaBuffer;
  /** A snapshot of the caller's phyr array, entries checked. */
  phyr?: PhyrArray;
  /** What the snapshot's entries lie in (pool buffers, mappings: pinned while the IO runs). */
  pins?: DmaPin[];
  /** The caller passed a plain Uint8Array (mapped for the IO). */
  plain: boolean;
}

/**
 * What a namespace needs from its controller (the Controller is one): the pool, the
 * controller's ONCS, the IO queue's data-pointer capabilities, its dispatcher, and why
 * nothing can be submitted now.
 */
export interface NamespaceHost {
  readonly pool: DmaPool;
  readonly identify: Pick<IdentifyController, 'oncs'>;
  readonly queueCaps: QueueCaps;
  /** Throws the typed error that says why no command can be submitted now. */
  checkUsable(what: string): void;
  /** The dispatcher behind the namespace API. */
  ioDispatcher(): Pick<Dispatcher, 'enqueue'>;
}

/** One active namespace of a controller. */
export class Namespace {
  /** Bytes per logical block of the format in use. */
  readonly lbaSize: number;
  /** Size in logical blocks (NSZE). */
  readonly blocks: number;
  /** Capacity in logical blocks (NCAP). */
  readonly capacity: number;
  /** Metadata bytes per block of the format in use. */
  readonly metadataSize: number;
  /** Index of the LBA format in use. */
  readonly formatIndex: number;

  constructor(
    private readonly ctrl: NamespaceHost,
    /** Namespace identifier. */
    readonly nsid: number,
    /** Identify Namespace data (nvme-cli field names). */
    readonly identify: IdentifyNamespace,
  ) {
    this.formatIndex = formatInUse(identify);
    const f = identify.lbafs[this.formatIndex] ?? { ms: 0, ds: 9, rp: 0 };
    this.lbaSize = 2 ** f.ds;
    this.metadataSize = f.ms;
    this.blocks = identify.nsze;
    this.capacity = identify.ncap;
  }

  /** The LBA formats the namespace supports. */
  get formats(): LbaFormat[] {
    return this.identify.lbafs;
  }

  /** Reads blocks starting at `lba` into `buf` (its length decides how many). */
  read(lba: number, buf: IoBuffer, options?: IoOptions): Promise<void> {
    return this.rw(NVME.IO_READ, lba, buf, options);
  }

  /** Writes `buf` to blocks starting at `lba`. */
  write(lba: number, buf: IoBuffer, options?: IoOptions): Promise<void> {
    return this.rw(NVME.IO_WRITE, lba, buf, options);
  }

  /**
   * Compares blocks starting at `lba` with `buf` (NVM Compare, NVMe 1.4 §6.6): resolves
   * when they match, rejects with NvmeStatusError "Compare Failure" when they do not.
   */
  compare(lba: number, buf: IoBuffer): Promise<void> {
    if ((this.ctrl.identify.oncs & NVME.ONCS_COMPARE) === 0) {
      return Promise.reject(new InvalidIoError('this controller does not support Compare (Identify ONCS bit 0 is clear); read the blocks and compare them instead'));
    }
    return this.rw(NVME.IO_COMPARE, lba, buf);
  }

  /**
   * Reads `buf.length` bytes starting at byte `offset` of the namespace — no alignment
   * needed. The driver reads the covering blocks and, when the controller supports SGL Bit
   * Buckets, has the controller discard the unwanted head and tail bytes; otherwise it
   * reads through pool memory and copies the wanted bytes.
   */
  readBytes(offset: number, buf: Uint8Array | DmaBuffer): Promise<void> {
    try {
      const bad = integerProblem('offset', offset, 0);
      if (bad) throw new InvalidIoError(`readBytes: ${bad}`);
      if (buf instanceof PhyrArray) throw new InvalidIoError('readBytes: the buffer must be a Uint8Array/Buffer or a DmaBuffer (a phyr array has no CPU view to copy the wanted bytes into)');
      const r = this.resolve('readBytes', buf);
      const cpu = r.cpu as Uint8Array;
      const len = r.bytes;
      if (!Number.isSafeInteger(offset + len)) throw new InvalidIoError(`readBytes: offset ${offset} + ${len} bytes passes 2^53 - 1`);
      const first = Math.floor(offset / this.lbaSize);
      const last = Math.ceil((offset + len) / this.lbaSize);
      const head = offset - first * this.lbaSize;
      const tail = last * this.lbaSize - (offset + len);
      if (head === 0 && tail === 0) return this.read(first, buf);
      this.checkRange('readBytes', first, last - first);
      this.ctrl.checkUsable('readBytes');
      const pool = this.ctrl.pool;
      const dma = r.dma;
      const mapped = r.plain ? pool.mapForIo(buf as Uint8Array) : undefined;
      if (dma) pool.beginIo(dma);
      const blocks = last - first;
      let bounce: DmaBuffer | undefined;
      return this.submit(
        this.info(NVME.IO_READ, first, blocks),
        (cmd) => {
          cmd.opcode = NVME.IO_READ;
          cmd.nsid = this.nsid;
          cmd.lba = first;
          cmd.blocks = blocks;
          cmd.lbaSize = this.lbaSize;
          cmd.bucketHead = head;
          cmd.bucketTail = tail;
          if (mapped) cmd.phyr = mapped.phyr;
          else {
            cmd.addr = (dma as DmaBuffer).iova;
            cmd.len = len;
          }
          cmd.bounce = (c) => {
            bounce = this.ctrl.pool.alloc(blocks * this.lbaSize);
            c.phyr = undefined;
            c.addr = bounce.iova;
            c.len = blocks * this.lbaSize;
            c.flags = 0;
            c.bucketHead = 0;
            c.bucketTail = 0;
            c.bounce = undefined;
            return true;
          };
        },
        (ok) => {
          const lost = dma ? pool.endIo(dma) : null;
          const gone = cpu.byteLength !== len;
          if (bounce) {
            if (ok && !lost && !gone) cpu.set(bounce.bytes.subarray(head, head + len));
            bounce.free();
          }
          mapped?.release();
          if (ok) this.throwIfLost('readBytes', lost, gone);
        },
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Commits the volatile write cache to media (Flush). Rejects (never throws) when it cannot run. */
  flush(): Promise<void> {
    try {
      this.ctrl.checkUsable('flush');
      return this.submit(this.info(NVME.IO_FLUSH), (cmd) => {
        cmd.opcode = NVME.IO_FLUSH;
        cmd.nsid = this.nsid;
        cmd.rawCdw = true;
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Writes zeroes to `count` blocks from `lba` (Write Zeroes; split at 65536 blocks). */
  async writeZeroes(lba: number, count: number): Promise<void> {
    this.checkRange('writeZeroes', lba, count);
    if ((this.ctrl.identify.oncs & NVME.ONCS_WRITE_ZEROES) === 0) {
      throw new InvalidIoError('this controller does not support Write Zeroes (Identify ONCS bit 3 is clear); write a zeroed buffer instead');
    }
    this.ctrl.checkUsable('writeZeroes');
    const parts: Promise<void>[] = [];
    for (let done = 0; done < count; done += MAX_NLB) {
      const n = Math.min(MAX_NLB, count - done);
      const at = lba + done;
      parts.push(
        this.submit(this.info(NVME.IO_WRITE_ZEROES, at, n), (cmd) => {
          cmd.opcode = NVME.IO_WRITE_ZEROES;
          cmd.nsid = this.nsid;
          cmd.lba = at;
          cmd.blocks = n;
          cmd.lbaSize = this.lbaSize;
        }),
      );
    }
    await Promise.all(parts);
  }

  /** Deallocates (trims) `count` blocks from `lba` (Dataset Management, AD). */
  async deallocate(lba: number, count: number): Promise<void> {
    this.checkRange('deallocate', lba, count);
    if (count > 0xffffffff) throw new InvalidIoError(`deallocate: ${count} blocks exceed one range (2^32 - 1 blocks); split the call`);
    if ((this.ctrl.identify.oncs & NVME.ONCS_DSM) === 0) {
      throw new InvalidIoError('this controller does not support Dataset Management (Identify ONCS bit 2 is clear)');
    }
    this.ctrl.checkUsable('deallocate');
    // One range (NVMe 1.4 §6.7, Figure 365): context attributes, length in blocks, SLBA.
    const range = this.ctrl.pool.alloc(16);
    const v = new DataView(range.bytes.buffer, range.bytes.byteOffset, 16);
    v.setUint32(0, 0, true);
    v.setUint32(4, count, true);
    v.setUint32(8, lba % 2 ** 32, true);
    v.setUint32(12, Math.floor(lba / 2 ** 32), true);
    try {
      await this.submit(this.info(NVME.IO_DATASET_MANAGEMENT, lba, count), (cmd) => {
        cmd.opcode = NVME.IO_DATASET_MANAGEMENT;
        cmd.nsid = this.nsid;
        cmd.rawCdw = true;
        cmd.cdw10 = 0; // NR: one range, 0's based
        cmd.cdw11 = DSM_DEALLOCATE;
        cmd.addr = range.iova;
        cmd.len = 16;
        cmd.dataBytes = 16;
      });
    } finally {
      range.free();
    }
  }

  /** How the driver would describe `buf` to the controller, and why (no IO is done). */
  explain(buf: DmaBuffer | PhyrArray): DataPointerDecision {
    if (buf instanceof Uint8Array) {
      throw new InvalidIoError('explain: a Uint8Array/Buffer has no device address until an IO maps it; pass a DmaBuffer of this controller or a PhyrArray');
    }
    if (!(buf instanceof PhyrArray) && (buf === null || typeof buf !== 'object')) {
      throw new InvalidIoError(`explain: the buffer must be a DmaBuffer of this controller or a PhyrArray, not ${describe(buf)}`);
    }
    let phyr: PhyrArray;
    if (buf instanceof PhyrArray) {
      if (buf.detached) throw new BufferDetachedError("explain: the phyr array's memory was detached (its buffer was transferred)");
      if (buf.length === 0) throw new InvalidIoError('explain: the phyr array is empty; add the ranges the IO would move');
      phyr = buf;
    } else {
      this.ctrl.pool.checkIoBuffer(buf, 'explain');
      phyr = buf.toPhyr(0, buf.size);
    }
    const c = this.ctrl.queueCaps;
    return nvmeNative().explain(phyr.buffer, phyr.length, phyr.totalBytes(), this.lbaSize, { ...c, bitBucket: c.bitBucket ? 1 : 0, preferSgl: c.preferSgl ? 1 : 0 });
  }

  private info(opcode: number, lba?: number, blocks?: number): CommandInfo {
    return { admin: false, opcode, name: opcodeName(false, opcode), nsid: this.nsid, lba, blocks };
  }

  private checkRange(what: string, lba: number, count: number): void {
    const bad = integerProblem('LBA', lba, 0) ?? integerProblem('block count', count, 1);
    if (bad) throw new InvalidIoError(`${what}: ${bad}`);
    if (lba + count > this.blocks) {
      throw new InvalidIoError(`${what}: blocks ${lba}..${lba + count - 1} pass the end of namespace ${this.nsid} (${this.blocks} blocks of ${this.lbaSize} bytes)`);
    }
  }

  private submit(info: CommandInfo, fill: (cmd: Command) => void, cleanup?: (ok: boolean) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cmd = newCommand(info, (err) => {
        if (cleanup) {
          try {
            cleanup(!err);
          } catch (e) {
            err ??= e as Error;
          }
        }
        if (err) reject(err);
        else resolve();
      });
      fill(cmd);
      this.ctrl.ioDispatcher().enqueue(cmd);
    });
  }

  /**
   * Resolves and checks an IO buffer at call time: a Uint8Array (not detached), a DmaBuffer
   * of this controller's pool (live, attached, not driver-internal), or a phyr array
   * (copied; every entry in data memory). Throws the typed error that says what is wrong.
   */
  private resolve(what: string, buf: unknown): ResolvedBuffer {
    if (buf instanceof Uint8Array) {
      if (buf.byteLength === 0 && isDetached(buf.buffer)) {
        throw new BufferDetachedError(`${what}: the buffer is detached (its ArrayBuffer was transferred); pass a buffer you still own`);
      }
      return { bytes: buf.byteLength, cpu: buf, plain: true };
    }
    if (buf instanceof PhyrArray) {
      const { phyr, pins } = this.snapshot(what, buf);
      return { bytes: phyr.totalBytes(), phyr, pins, plain: false };
    }
    if (buf !== null && typeof buf === 'object' && !ArrayBuffer.isView(buf) && !(buf instanceof ArrayBuffer) && !Array.isArray(buf)) {
      const d = buf as DmaBuffer;
      this.ctrl.pool.checkIoBuffer(d, what);
      return { bytes: d.size, cpu: d.bytes, dma: d, plain: false };
    }
    throw new InvalidIoError(`${what}: the buffer must be a Uint8Array/Buffer, a DmaBuffer or a PhyrArray, not ${describe(buf)}`);
  }

  /**
   * Copies a caller's phyr array (so changing it after the call cannot move the DMA target:
   * the dispatcher reads the entries only at its microtask flush) and checks every entry
   * against the pool's data ranges. Returns what the entries lie in (to pin).
   */
  private snapshot(what: string, src: PhyrArray): { phyr: PhyrArray; pins: DmaPin[] } {
    if (src.detached) throw new BufferDetachedError(`${what}: the phyr array's memory was detached (its buffer was transferred); build a new one`);
    const n = src.length;
    if (n === 0) throw new InvalidIoError(`${what}: the phyr array is empty; add the ranges to move`);
    const pool: DmaPool = this.ctrl.pool;
    const phyr = new PhyrArray({ capacity: n });
    const pins: DmaPin[] = [];
    for (let i = 0; i < n; i++) {
      const addr = src.addrAt(i);
      const len = src.lenAt(i);
      if (!pool.pinData(addr, len, pins)) pool.throwNotData(addr, len, i, what);
      phyr.push(addr, len, src.flagsAt(i));
    }
    return { phyr, pins };
  }

  /** After a successful read: rejects when the caller's view of the data is gone. */
  private throwIfLost(what: string, lost: string | null, gone: boolean): void {
    if (lost === 'PHYR_DMA_FREED' || lost === 'PHYR_DMA_CLOSED') {
      throw new DmaStateError(
        lost,
        `${what}: the DMA buffer was ${lost === 'PHYR_DMA_FREED' ? 'freed' : 'closed with its pool'} while the read was in flight, so the data read is discarded; free buffers only after their IO settles`,
      );
    }
    if (lost === 'PHYR_BUFFER_DETACHED' || gone) {
      throw new BufferDetachedError(
        `${what}: the buffer was detached (its ArrayBuffer transferred) while the read was in flight: the data went to memory ` +
          'the driver kept alive for the device, but the view you passed is gone; transfer a buffer only after its IO settled',
      );
    }
  }

  private checkOptions(what: string, options: unknown): void {
    if (options === undefined) return;
    if (options === null || typeof options !== 'object') throw new InvalidIoError(`${what}: options must be an object like { fua: true }, not ${describe(options)}`);
    const fua = (options as IoOptions).fua;
    if (fua !== undefined && typeof fua !== 'boolean') throw new InvalidIoError(`${what}: option fua must be a boolean, not ${describe(fua)}`);
  }

  private rw(opcode: number, lba: number, buf: IoBuffer, options?: IoOptions): Promise<void> {
    const what = opcode === NVME.IO_READ ? 'read' : opcode === NVME.IO_COMPARE ? 'compare' : 'write';
    try {
      this.checkOptions(what, options);
      const r = this.resolve(what, buf);
      const bytes = r.bytes;
      if (bytes === 0 || bytes % this.lbaSize !== 0) {
        throw new InvalidIoError(`${what}: the buffer holds ${bytes} bytes, not a positive multiple of the ${this.lbaSize}-byte LBA size of namespace ${this.nsid}`);
      }
      const blocks = bytes / this.lbaSize;
      this.checkRange(what, lba, blocks);
      this.ctrl.checkUsable(what);
      const pool = this.ctrl.pool;
      const isRead = opcode === NVME.IO_READ;
      const { cpu, dma, pins } = r;
      // Everything is checked: from here on resources are taken, and cleanup gives them back.
      const mapped: MappedIo | undefined = r.plain ? pool.mapForIo(cpu as Uint8Array) : undefined;
      if (dma) pool.beginIo(dma);
      if (pins) for (const p of pins) pool.beginIo(p);
      let bounce: DmaBuffer | undefined;
      const cleanup = (ok: boolean): void => {
        let lost = dma ? pool.endIo(dma) : null;
        if (pins) for (const p of pins) lost = pool.endIo(p) ?? lost;
        const gone = cpu !== undefined && cpu.byteLength !== bytes;
        if (bounce) {
          if (ok && isRead && cpu && !lost && !gone) cpu.set(bounce.bytes);
          bounce.free();
        }
        mapped?.release();
        if (ok && isRead) this.throwIfLost(what, lost, gone);
      };
      return this.submit(
        this.info(opcode, lba, blocks),
        (cmd) => {
          cmd.opcode = opcode;
          cmd.nsid = this.nsid;
          cmd.lba = lba;
          cmd.blocks = blocks;
          cmd.lbaSize = this.lbaSize;
          cmd.cdw12Extra = options?.fua ? NVME.RW_CDW12_FUA : 0;
          if (mapped) cmd.phyr = mapped.phyr;
          else if (r.phyr) cmd.phyr = r.phyr;
          else {
            const d = dma as DmaBuffer;
            cmd.addr = d.iova;
            cmd.len = d.size;
            cmd.flags = d.hugepageBacked ? PhyrFlags.HUGEPAGE : 0;
          }
          if (cpu) {
            // Data the controller cannot take in place is copied through pool memory.
            cmd.bounce = (c) => {
              if (cpu.byteLength !== bytes) return false; // detached meanwhile: nothing to copy
              bounce = pool.alloc(bytes);
              if (!isRead) bounce.bytes.set(cpu);
              c.phyr = undefined;
              c.addr = bounce.iova;
              c.len = bytes;
              c.flags = 0;
              c.bounce = undefined;
              return true;
            };
          }
        },
        cleanup,
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }
}
