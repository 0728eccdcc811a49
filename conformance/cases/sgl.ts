// Scatter-gather lists (NVMe 1.4 §4.4): Data Block, Bit Bucket, Segment and Last Segment
// descriptors, chaining, and every SGL status code a PCIe controller can return.
import { NVME } from '../../spec/nvme';
import { Checker, finish, type CaseBodyResult, generic, unmappedIova, type RawCase, type RawContext } from '../check';
import { readDeviceInfo, type DeviceInfo } from '../device-info';
import { writeSglDescriptor, type RawDmaBuffer, type RawQueue, type SglDescriptor, type SqeFields } from '../raw-queue';

interface SglSetup {
  info: DeviceInfo;
  q: RawQueue;
}

const DB = NVME.SGL_TYPE_DATA_BLOCK;
const BB = NVME.SGL_TYPE_BIT_BUCKET;
const SEG = NVME.SGL_TYPE_SEGMENT;
const LAST = NVME.SGL_TYPE_LAST_SEGMENT;

function sglCase(id: string, purpose: string, body: (ctx: RawContext, check: Checker, s: SglSetup) => Promise<CaseBodyResult>, o: { destructive?: boolean; needs?: number } = {}): RawCase {
  return {
    id,
    suite: 'dptr',
    purpose,
    spec: 'NVMe 1.4 §4.4',
    destructive: o.destructive,
    async run(ctx) {
      const info = await readDeviceInfo(ctx.raw);
      if ((info.sgls & NVME.SGLS_SUPPORT_MASK) === 0) return { status: 'not-applicable', reason: 'the controller does not support SGLs (SGLS = 0)' };
      if (o.needs && (info.sgls & o.needs) === 0) return { status: 'not-applicable', reason: `SGLS lacks bit 0x${o.needs.toString(16)}` };
      await ctx.raw.setNumberOfQueues(1, 1);
      const q = await ctx.raw.createIoQueuePair(1, 32);
      const check = new Checker(ctx);
      return finish(check, await body(ctx, check, { info, q }));
    },
  };
}

function sglRw(opcode: number, slba: number, blocks: number, sgl1: SglDescriptor): SqeFields {
  return { opcode, nsid: 1, psdt: NVME.PSDT_SGL_MPTR_CONTIG, sgl1, cdw10: slba, cdw12: blocks - 1 };
}

/** Writes descriptors into `buf` at `off`; returns the IOVA of the first. */
function segment(buf: RawDmaBuffer, off: number, descs: SglDescriptor[]): number {
  const v = new DataView(buf.bytes.buffer, buf.bytes.byteOffset, buf.size);
  descs.forEach((d, i) => writeSglDescriptor(v, off + 16 * i, d));
  return buf.iovaAt(off);
}

async function expectIo(check: Checker, q: RawQueue, sqe: SqeFields, want: number, label: string): Promise<void> {
  check.status(await q.run(sqe), want, label, sqe);
}

function fill(buf: RawDmaBuffer, seed: number): void {
  for (let i = 0; i < buf.size; i++) buf.bytes[i] = (i * 31 + seed) & 0xff;
}

export const sglCases: RawCase[] = [
  sglCase('dptr.sgl.data-block-roundtrip', 'One Data Block descriptor in SGL1: write then read returns the data', async (ctx, check, { info, q }) => {
    const src = ctx.raw.alloc(8192);
    const dst = ctx.raw.alloc(8192);
    fill(src, 1);
    const blocks = 8192 / info.lbaSize;
    await expectIo(check, q, sglRw(NVME.IO_WRITE, 16, blocks, { addr: src.iova, len: 8192, type: DB }), 0, 'Write, SGL1 Data Block');
    await expectIo(check, q, sglRw(NVME.IO_READ, 16, blocks, { addr: dst.iova, len: 8192, type: DB }), 0, 'Read, SGL1 Data Block');
    check.ok(Buffer.compare(Buffer.from(src.bytes), Buffer.from(dst.bytes)) === 0, 'data round-trips', 'data differs');
  }, { destructive: true }),
  sglCase('dptr.sgl.segment-chaining', 'SGL1 Segment -> segment ending in a Last Segment -> final segment: data lands in order at byte offsets', async (ctx, check, { info, q }) => {
    const bytes = 2 * info.lbaSize;
    const src = ctx.raw.alloc(bytes + 4096);
    const dst = ctx.raw.alloc(bytes + 4096);
    fill(src, 7);
    const segs = ctx.raw.alloc(4096);
    const half = bytes / 2;
    // Pieces at odd byte offsets, 3 + 1 descriptors (byte-aligned SGLs allow any address).
    const parts = (b: RawDmaBuffer): SglDescriptor[] => [
      { addr: b.iovaAt(3), len: half - 100, type: DB },
      { addr: b.iovaAt(3 + half - 100), len: 100, type: DB },
      { addr: b.iovaAt(3 + half), len: half - 8, type: DB },
      { addr: b.iovaAt(3 + bytes - 8), len: 8, type: DB },
    ];
    const build = (b: RawDmaBuffer): SglDescriptor => {
      const p = parts(b);
      const last = segment(segs, 512, [p[2], p[3]]);
      const first = segment(segs, 0, [p[0], p[1], { addr: last, len: 32, type: LAST }]);
      return { addr: first, len: 48, type: SEG };
    };
    const dword = (info.sgls & NVME.SGLS_SUPPORT_MASK) === NVME.SGLS_DWORD_ALIGNED;
    if (dword) return { status: 'not-applicable', reason: 'SGLS = 10b (dword-aligned SGLs): the byte offsets this case uses are not allowed' };
    await expectIo(check, q, sglRw(NVME.IO_WRITE, 32, 2, build(src)), 0, 'Write through chained segments');
    await expectIo(check, q, sglRw(NVME.IO_READ, 32, 2, build(dst)), 0, 'Read through chained segments');
    check.ok(Buffer.compare(Buffer.from(src.bytes.subarray(3, 3 + bytes)), Buffer.from(dst.bytes.subarray(3, 3 + bytes))) === 0, 'data round-trips', 'data differs');
  }, { destructive: true }),
  sglCase('dptr.sgl.bit-bucket-read', 'A read whose first block goes to a Bit Bucket transfers only the rest', async (ctx, check, { info, q }) => {
    const src = ctx.raw.alloc(2 * info.lbaSize);
    const dst = ctx.raw.alloc(info.lbaSize);
    fill(src, 9);
    await expectIo(check, q, sglRw(NVME.IO_WRITE, 48, 2, { addr: src.iova, len: src.size, type: DB }), 0, 'Write 2 blocks');
    const segs = ctx.raw.alloc(4096);
    const s = segment(segs, 0, [
      { addr: 0, len: info.lbaSize, type: BB },
      { addr: dst.iova, len: info.lbaSize, type: DB },
    ]);
    await expectIo(check, q, sglRw(NVME.IO_READ, 48, 2, { addr: s, len: 32, type: LAST }), 0, 'Read: bit bucket + data block');
    check.ok(Buffer.compare(Buffer.from(src.bytes.subarray(info.lbaSize)), Buffer.from(dst.bytes)) === 0, 'the second block arrives', 'data differs');
  }, { destructive: true, needs: NVME.SGLS_BIT_BUCKET }),
  sglCase('dptr.sgl.bit-bucket-in-write', 'A Bit Bucket descriptor in a write: SGL Descriptor Type Invalid', async (ctx, check, { info, q }) => {
    const segs = ctx.raw.alloc(4096);
    const buf = ctx.raw.alloc(4096);
    const s = segment(segs, 0, [
      { addr: 0, len: info.lbaSize / 2, type: BB },
      { addr: buf.iova, len: info.lbaSize / 2, type: DB },
    ]);
    await expectIo(check, q, sglRw(NVME.IO_WRITE, 0, 1, { addr: s, len: 32, type: LAST }), generic(NVME.SC_SGL_DESCRIPTOR_TYPE_INVALID), 'Write with a bit bucket');
  }),
  sglCase('dptr.sgl.length-mismatch', 'An SGL describing less, or more, data than the command transfers: Data SGL Length Invalid', async (ctx, check, { info, q }) => {
    const buf = ctx.raw.alloc(8192);
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: buf.iova, len: info.lbaSize - 4, type: DB }), generic(NVME.SC_DATA_SGL_LENGTH_INVALID), 'Data Block 4 bytes short');
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: buf.iova, len: info.lbaSize + 4, type: DB }), generic(NVME.SC_DATA_SGL_LENGTH_INVALID), 'Data Block 4 bytes long');
  }),
  sglCase('dptr.sgl.segment-descriptor-not-last', 'A Segment descriptor that is not the last of its segment: Invalid SGL Segment Descriptor', async (ctx, check, { info, q }) => {
    const segs = ctx.raw.alloc(8192);
    const buf = ctx.raw.alloc(4096);
    const next = segment(segs, 4096, [{ addr: buf.iova, len: info.lbaSize, type: DB }]);
    const s = segment(segs, 0, [
      { addr: next, len: 16, type: LAST },
      { addr: buf.iova, len: 0, type: DB },
    ]);
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: s, len: 32, type: SEG }), generic(NVME.SC_INVALID_SGL_SEGMENT_DESCRIPTOR), 'Last Segment descriptor first of two');
  }),
  sglCase('dptr.sgl.last-segment-chains', 'A segment reached through a Last Segment descriptor that holds another segment descriptor: Invalid SGL Segment Descriptor', async (ctx, check, { info, q }) => {
    const segs = ctx.raw.alloc(8192);
    const buf = ctx.raw.alloc(4096);
    const third = segment(segs, 4096, [{ addr: buf.iova, len: info.lbaSize, type: DB }]);
    const s = segment(segs, 0, [{ addr: third, len: 16, type: SEG }]);
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: s, len: 16, type: LAST }), generic(NVME.SC_INVALID_SGL_SEGMENT_DESCRIPTOR), 'Last Segment -> Segment');
  }),
  sglCase('dptr.sgl.segment-length-invalid', 'A segment length that is not a multiple of 16: Invalid SGL Segment Descriptor', async (ctx, check, { info, q }) => {
    const segs = ctx.raw.alloc(4096);
    const buf = ctx.raw.alloc(4096);
    const s = segment(segs, 0, [{ addr: buf.iova, len: info.lbaSize, type: DB }]);
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: s, len: 24, type: LAST }), generic(NVME.SC_INVALID_SGL_SEGMENT_DESCRIPTOR), 'Last Segment of 24 bytes');
  }),
  sglCase('dptr.sgl.type-invalid', 'A Keyed Data Block, or a reserved type, over PCIe: SGL Descriptor Type Invalid', async (ctx, check, { info, q }) => {
    const buf = ctx.raw.alloc(4096);
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: buf.iova, len: info.lbaSize, type: NVME.SGL_TYPE_KEYED_DATA_BLOCK }), generic(NVME.SC_SGL_DESCRIPTOR_TYPE_INVALID), 'Keyed Data Block');
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: buf.iova, len: info.lbaSize, type: 0xe }), generic(NVME.SC_SGL_DESCRIPTOR_TYPE_INVALID), 'type Eh');
  }),
  sglCase('dptr.sgl.offset-subtype', 'A Data Block with the Offset subtype (fabrics only): SGL Offset Invalid', async (ctx, check, { info, q }) => {
    const buf = ctx.raw.alloc(4096);
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: 0, len: info.lbaSize, type: DB, subtype: NVME.SGL_SUBTYPE_OFFSET }), generic(NVME.SC_SGL_OFFSET_INVALID), 'Data Block, subtype 1h');
    void buf;
  }),
  sglCase('dptr.sgl.segment-unmapped', 'A segment at an unmapped IOVA: Data Transfer Error', async (ctx, check, { q }) => {
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: unmappedIova(ctx), len: 16, type: LAST }), generic(NVME.SC_DATA_TRANSFER_ERROR), 'Last Segment unmapped');
  }),
  sglCase('dptr.sgl.dword-granularity', 'With dword-aligned SGLs (SGLS=10b), a Data Block length not a multiple of 4: Data SGL Length Invalid', async (ctx, check, { info, q }) => {
    if ((info.sgls & NVME.SGLS_SUPPORT_MASK) !== NVME.SGLS_DWORD_ALIGNED) return { status: 'not-applicable', reason: 'SGLS = 01b (byte-aligned SGLs): no dword rule to check' };
    const segs = ctx.raw.alloc(4096);
    const buf = ctx.raw.alloc(4096);
    const s = segment(segs, 0, [
      { addr: buf.iova, len: 2, type: DB },
      { addr: buf.iovaAt(4), len: info.lbaSize - 2, type: DB },
    ]);
    await expectIo(check, q, sglRw(NVME.IO_READ, 0, 1, { addr: s, len: 32, type: LAST }), generic(NVME.SC_DATA_SGL_LENGTH_INVALID), 'Data Block of 2 bytes');
  }),
];
