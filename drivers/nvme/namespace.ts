// A namespace: LBA-addressed IO with promises. Buffers may be pool buffers (DmaBuffer),
// phyr arrays (device ranges the caller owns), or any Uint8Array/Buffer (mapped for the
// IO and unmapped after). Every argument is checked before anything is submitted.
import type { DmaBuffer, MappedIo } from '../../lib/dma';
import { PhyrArray, PhyrFlags } from '../../lib/phyr';
import type { Controller } from './controller';
import { Command, newCommand } from './dispatcher';
import { CommandInfo, InvalidIoError, opcodeName } from './errors';
import { IdentifyNamespace, LbaFormat, formatInUse } from './identify';
import { nvmeNative, type DataPointerDecision } from './native';
import { NVME } from './spec';

/** What an IO can move data from or into. */
export type IoBuffer = Uint8Array | DmaBuffer | PhyrArray;

/** Options of read and write. */
export interface IoOptions {
  /** Force Unit Access (CDW12 bit 30): the data reaches non-volatile media before completion. */
  fua?: boolean;
}

const FUA = 1 << 30;
const MAX_NLB = 0x10000; // NLB is a 16-bit, 0's based field (NVMe 1.4 §6.9)
const ONCS_DSM = 1 << 2;
const ONCS_WRITE_ZEROES = 1 << 3;
const DSM_DEALLOCATE = 1 << 2;

function isDmaBuffer(b: unknown): b is DmaBuffer {
  return typeof b === 'object' && b !== null && typeof (b as DmaBuffer).iova === 'number' && typeof (b as DmaBuffer).toPhyr === 'function';
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
    private readonly ctrl: Controller,
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
   * Reads `buf.length` bytes starting at byte `offset` of the namespace — no alignment
   * needed. The driver reads the covering blocks and, when the controller supports SGL Bit
   * Buckets, has the controller discard the unwanted head and tail bytes; otherwise it
   * reads through pool memory and copies the wanted bytes.
   */
  readBytes(offset: number, buf: Uint8Array | DmaBuffer): Promise<void> {
    try {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidIoError(`readBytes: offset ${offset} is not a non-negative integer`);
      const cpu = isDmaBuffer(buf) ? buf.bytes : buf instanceof Uint8Array ? buf : undefined;
      if (!cpu) throw new InvalidIoError('readBytes: the buffer must be a Uint8Array/Buffer or a DmaBuffer');
      const len = cpu.byteLength;
      if (len === 0) throw new InvalidIoError('readBytes: the buffer is empty');
      const first = Math.floor(offset / this.lbaSize);
      const last = Math.ceil((offset + len) / this.lbaSize);
      const head = offset - first * this.lbaSize;
      const tail = last * this.lbaSize - (offset + len);
      if (head === 0 && tail === 0) return this.read(first, buf);
      this.checkRange('readBytes', first, last - first);
      this.ctrl.checkUsable('readBytes');
      const mapped = isDmaBuffer(buf) ? undefined : this.ctrl.pool.mapForIo(buf as Uint8Array);
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
            cmd.addr = (buf as DmaBuffer).iova;
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
          if (bounce) {
            if (ok) cpu.set(bounce.bytes.subarray(head, head + len));
            bounce.free();
          }
          mapped?.release();
        },
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Commits the volatile write cache to media (Flush). */
  flush(): Promise<void> {
    this.ctrl.checkUsable('flush');
    return this.submit(this.info(NVME.IO_FLUSH), (cmd) => {
      cmd.opcode = NVME.IO_FLUSH;
      cmd.nsid = this.nsid;
      cmd.rawCdw = true;
    });
  }

  /** Writes zeroes to `count` blocks from `lba` (Write Zeroes; split at 65536 blocks). */
  async writeZeroes(lba: number, count: number): Promise<void> {
    this.checkRange('writeZeroes', lba, count);
    if ((this.ctrl.identify.oncs & ONCS_WRITE_ZEROES) === 0) {
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
    if ((this.ctrl.identify.oncs & ONCS_DSM) === 0) {
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
    const phyr = buf instanceof PhyrArray ? buf : buf.toPhyr(0, buf.size);
    const c = this.ctrl.queueCaps;
    return nvmeNative().explain(phyr.buffer, phyr.length, phyr.totalBytes(), this.lbaSize, { ...c, bitBucket: c.bitBucket ? 1 : 0, preferSgl: c.preferSgl ? 1 : 0 });
  }

  private info(opcode: number, lba?: number, blocks?: number): CommandInfo {
    return { admin: false, opcode, name: opcodeName(false, opcode), nsid: this.nsid, lba, blocks };
  }

  private checkRange(what: string, lba: number, count: number): void {
    if (!Number.isSafeInteger(lba) || lba < 0) throw new InvalidIoError(`${what}: LBA ${lba} is not a non-negative integer`);
    if (!Number.isSafeInteger(count) || count < 1) throw new InvalidIoError(`${what}: block count ${count} is not a positive integer`);
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

  private rw(opcode: number, lba: number, buf: IoBuffer, options?: IoOptions): Promise<void> {
    const what = opcode === NVME.IO_READ ? 'read' : 'write';
    let bytes: number;
    if (buf instanceof PhyrArray) bytes = buf.totalBytes();
    else if (isDmaBuffer(buf)) bytes = buf.size;
    else if (buf instanceof Uint8Array) bytes = buf.byteLength;
    else return Promise.reject(new InvalidIoError(`${what}: the buffer must be a Uint8Array/Buffer, a DmaBuffer or a PhyrArray`));
    try {
      if (bytes === 0 || bytes % this.lbaSize !== 0) {
        throw new InvalidIoError(`${what}: the buffer holds ${bytes} bytes, not a positive multiple of the ${this.lbaSize}-byte LBA size of namespace ${this.nsid}`);
      }
      const blocks = bytes / this.lbaSize;
      this.checkRange(what, lba, blocks);
      this.ctrl.checkUsable(what);
      let mapped: MappedIo | undefined;
      let cpu: Uint8Array | undefined;
      let bounce: DmaBuffer | undefined;
      const isRead = opcode === NVME.IO_READ;
      if (!(buf instanceof PhyrArray) && !isDmaBuffer(buf)) {
        mapped = this.ctrl.pool.mapForIo(buf);
        cpu = buf;
      } else if (isDmaBuffer(buf)) {
        cpu = buf.bytes;
      }
      const cleanup = (ok: boolean): void => {
        if (bounce) {
          if (ok && isRead && cpu) cpu.set(bounce.bytes);
          bounce.free();
        }
        mapped?.release();
      };
      return this.submit(
        this.info(opcode, lba, blocks),
        (cmd) => {
          cmd.opcode = opcode;
          cmd.nsid = this.nsid;
          cmd.lba = lba;
          cmd.blocks = blocks;
          cmd.lbaSize = this.lbaSize;
          cmd.cdw12Extra = options?.fua ? FUA : 0;
          if (mapped) cmd.phyr = mapped.phyr;
          else if (buf instanceof PhyrArray) cmd.phyr = buf;
          else {
            const d = buf as DmaBuffer;
            cmd.addr = d.iova;
            cmd.len = d.size;
            cmd.flags = d.hugepageBacked ? PhyrFlags.HUGEPAGE : 0;
          }
          if (cpu) {
            // Data the controller cannot take in place is copied through pool memory.
            cmd.bounce = (c) => {
              bounce = this.ctrl.pool.alloc(bytes);
              if (!isRead) bounce.bytes.set(cpu as Uint8Array);
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
