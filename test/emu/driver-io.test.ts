// Data integrity through the namespace API: randomized scatter lists written and read
// back byte for byte under PRP with PRP-breaking splits, bounce, MDTS splitting, caller
// Buffers at odd addresses; flush, write zeroes, deallocate; no IOMMU fault anywhere.
import t from 'tap';
import * as crypto from 'crypto';
import * as phyr from '../../index';
import type { EmuFunction } from '../../emu';
import type { DmaBuffer } from '../../lib/dma';
import { PhyrArray } from '../../lib/phyr';

/** xorshift32: reproducible randomness (the seed is printed by the tests). */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** One piece of a scatter list: bytes [offset, offset + len) of a pool buffer. */
interface Piece {
  offset: number;
  len: number;
}

/**
 * A random scatter list over `buf`: `segments` pieces, each a multiple of `unit` bytes,
 * starting at offsets aligned to `align`, spread over the buffer without overlapping.
 */
function scatter(buf: DmaBuffer, total: number, segments: number, unit: number, align: number, rand: (n: number) => number): { phyr: PhyrArray; pieces: Piece[] } {
  const units = total / unit;
  // Cut `units` into `segments` non-empty parts.
  const cuts = new Set<number>();
  while (cuts.size < segments - 1) cuts.add(1 + rand(units - 1));
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), units];
  const slot = Math.floor(buf.size / segments / 4096) * 4096; // each slot starts page-aligned
  const pieces: Piece[] = [];
  for (let i = 0; i < segments; i++) {
    const len = (bounds[i + 1] - bounds[i]) * unit;
    const room = slot - len;
    if (room < 0) throw new Error('buffer too small for the scatter list');
    const offset = i * slot + Math.floor(rand(Math.floor(room / align) + 1)) * align;
    pieces.push({ offset, len });
  }
  const phyr = new PhyrArray();
  for (const p of pieces) buf.toPhyr(p.offset, p.len, phyr);
  return { phyr, pieces };
}

/** Concatenates the pieces' bytes. */
function gather(buf: DmaBuffer, pieces: Piece[]): Buffer {
  return Buffer.concat(pieces.map((p) => Buffer.from(buf.bytes.subarray(p.offset, p.offset + p.len))));
}

/** Fills the pieces with bytes of `data` in order. */
function spread(buf: DmaBuffer, pieces: Piece[], data: Uint8Array): void {
  let at = 0;
  for (const p of pieces) {
    buf.bytes.set(data.subarray(at, at + p.len), p.offset);
    at += p.len;
  }
}

const SEED = Number(process.env.PHYR_TEST_SEED ?? 0x5eed1234);

type Checks = Pick<typeof t, 'equal'>;

async function withCtrl(target: string, t: Checks, body: (ctrl: phyr.Controller, fn: EmuFunction) => Promise<void>): Promise<void> {
  const ctrl = await phyr.open(target);
  const fn = ctrl.fn as EmuFunction;
  try {
    await body(ctrl, fn);
    t.equal(fn.faultCount(), 0, `${target}: no IOMMU faults`);
  } finally {
    await ctrl.close();
  }
}

t.test(`randomized scatter lists, PRP-only controller (seed 0x${SEED.toString(16)})`, async (t) => {
  await withCtrl('emu:backend=ram,size=64M,sgl=off', t, async (ctrl) => {
    const ns = ctrl.namespace(1);
    const rand = rng(SEED);
    const src = ctrl.pool.alloc(4 << 20);
    const dst = ctrl.pool.alloc(4 << 20);
    const formats = new Set<string>();
    for (let round = 0; round < 40; round++) {
      const blocks = 1 + rand(512);
      const total = blocks * 512;
      const segs = 1 + rand(Math.min(blocks, 24));
      // Segments are whole LBAs at dword offsets: not PRP-able in general, but every
      // PRP-breaking boundary falls on an LBA multiple, so the driver splits.
      const a = scatter(src, total, segs, 512, 4 * (1 + rand(4)), rand);
      const b = scatter(dst, total, 1 + rand(Math.min(blocks, 24)), 512, 4, rand);
      const data = crypto.randomBytes(total);
      spread(src, a.pieces, data);
      formats.add(ns.explain(a.phyr).format);
      const lba = rand(ns.blocks - blocks);
      await ns.write(lba, a.phyr);
      await ns.read(lba, b.phyr);
      const back = gather(dst, b.pieces);
      if (!back.equals(data)) {
        t.fail(`round ${round}: ${blocks} blocks at LBA ${lba}, ${segs} -> ${b.pieces.length} segments differ`);
        return;
      }
    }
    t.pass('40 random scatter-list round trips compare equal');
    t.ok(formats.has('split'), `splits exercised (${[...formats].join(', ')})`);
    src.free();
    dst.free();
  });
});

for (const mode of ['on', 'dword'] as const) {
  t.test(`randomized scatter lists, SGL controller (sgl=${mode})`, async (t) => {
    await withCtrl(`emu:backend=ram,size=64M,sgl=${mode}`, t, async (ctrl) => {
      const ns = ctrl.namespace(1);
      const rand = rng(SEED ^ (mode === 'on' ? 1 : 2));
      const src = ctrl.pool.alloc(4 << 20);
      const dst = ctrl.pool.alloc(4 << 20);
      const formats = new Set<string>();
      // Byte-aligned SGL takes any address and length; dword SGL needs multiples of 4.
      const unit = mode === 'on' ? 1 : 4;
      for (let round = 0; round < 30; round++) {
        const blocks = 1 + rand(256);
        const total = blocks * 512;
        const a = scatter(src, total, 1 + rand(40), unit, unit, rand);
        const b = scatter(dst, total, 1 + rand(40), unit, unit, rand);
        const data = crypto.randomBytes(total);
        spread(src, a.pieces, data);
        formats.add(`${ns.explain(a.phyr).format}:${ns.explain(a.phyr).reason}`);
        const lba = rand(ns.blocks - blocks);
        await ns.write(lba, a.phyr);
        await ns.read(lba, b.phyr);
        if (!gather(dst, b.pieces).equals(data)) {
          t.fail(`round ${round}: ${blocks} blocks at LBA ${lba} differ`);
          return;
        }
      }
      t.pass('30 random scatter-list round trips compare equal');
      t.ok([...formats].some((f) => f.startsWith('sgl:SglNotPrpable')), `SGL used for non-PRP-able lists (${[...formats].join(', ')})`);
      // More descriptors than one segment page holds: Segment descriptors chain.
      const many = scatter(src, 300 * 512, 300, 512, 4, rand);
      crypto.randomFillSync(src.bytes);
      const expect = gather(src, many.pieces);
      t.match(ns.explain(many.phyr), { format: 'sgl' });
      await ns.write(1000, many.phyr);
      const back = Buffer.alloc(300 * 512);
      await ns.read(1000, back);
      t.ok(back.equals(expect), '300-descriptor SGL (chained segments) round-trips');
      // Large segments prefer SGL even when PRP-able (average >= 32 KiB).
      const big = ctrl.pool.alloc(256 << 10);
      t.match(ns.explain(big), { format: 'sgl', reason: 'SglLargeSegments' });
      await ns.write(2000, big);
      src.free();
      dst.free();
    });
  });
}

t.test('PRP only on request (sgl: false) even when the controller offers SGL', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,sgl=on', { sgl: false });
  t.teardown(() => ctrl.close());
  const big = ctrl.pool.alloc(256 << 10);
  t.match(ctrl.namespace(1).explain(big), { format: 'prp', reason: 'PrpSglUnsupported' });
  await ctrl.namespace(1).write(0, big);
});

t.test('long PRP lists chain across list pages and grow list memory on demand', async (t) => {
  await withCtrl('emu:backend=ram,size=64M,mdts=0,sgl=off', t, async (ctrl) => {
    const ns = ctrl.namespace(1);
    const big = ctrl.pool.alloc(8 << 20);
    crypto.randomFillSync(big.bytes);
    const d = ns.explain(big);
    t.match(d, { format: 'prp', children: 1 }, '8 MiB in one command: 2048 pages, 4 chained list pages');
    await ns.write(100, big);
    const back = Buffer.alloc(8 << 20);
    await ns.read(100, back);
    t.ok(back.equals(Buffer.from(big.bytes)), '8 MiB read back equal');
    big.free();
  });
});

t.test('MDTS splits large IOs into several commands', async (t) => {
  await withCtrl('emu:backend=ram,size=16M,mdts=1,sgl=off', t, async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    const buf = ctrl.pool.alloc(64 << 10);
    crypto.randomFillSync(buf.bytes);
    t.match(ns.explain(buf), { format: 'split', reason: 'SplitMdts', children: 8 });
    const before = fn.stats().ioOpcodes['1'] ?? 0;
    await ns.write(7, buf);
    t.equal((fn.stats().ioOpcodes['1'] ?? 0) - before, 8, '8 Write commands of 8 KiB');
    const back = ctrl.pool.alloc(64 << 10);
    await ns.read(7, back);
    t.ok(Buffer.from(back.bytes).equals(Buffer.from(buf.bytes)));
  });
});

t.test('caller Buffers: mapped per IO, bounced when misaligned, unmapped after', async (t) => {
  await withCtrl('emu:backend=ram,size=16M,sgl=off', t, async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    const base = fn.mappingCount();
    const backing = Buffer.alloc(8192 + 3);
    const odd = backing.subarray(1, 1 + 8192); // not dword-aligned: PRP1 cannot take it
    crypto.randomFillSync(odd);
    await ns.write(40, odd);
    const back = Buffer.alloc(8192 + 5).subarray(3, 3 + 8192);
    await ns.read(40, back);
    t.ok(back.equals(odd), 'odd-address buffers round-trip through a bounce');
    const plain = Buffer.alloc(4096, 0xa5);
    await ns.write(50, plain);
    const r = Buffer.alloc(4096);
    await ns.read(50, r);
    t.ok(r.equals(plain));
    t.equal(fn.mappingCount(), base, 'every per-IO mapping released');
    t.equal(ctrl.pool.stats().pinnedMappings, 0);
  });
});

t.test('a phyr array that can only be bounced is refused with the reason', async (t) => {
  await withCtrl('emu:backend=ram,size=16M,sgl=off', t, async (ctrl) => {
    const ns = ctrl.namespace(1);
    const buf = ctrl.pool.alloc(8192);
    const p = new PhyrArray();
    buf.toPhyr(0, 256, p);
    buf.toPhyr(4096 + 512, 256, p); // the break falls inside the first 512-byte LBA
    t.match(ns.explain(p), { format: 'bounce', reason: 'BounceUnalignedBreak' });
    await t.rejects(ns.write(0, p), { code: 'PHYR_DATA_POINTER', reason: 'BounceUnalignedBreak', message: /not on an LBA multiple.*no CPU view/ });
  });
});

t.test('flush, write zeroes and deallocate', async (t) => {
  await withCtrl('emu:backend=ram,size=16M', t, async (ctrl) => {
    const ns = ctrl.namespace(1);
    const buf = Buffer.alloc(4096, 0xee);
    await ns.write(0, buf);
    await ns.flush();
    const oncs = ctrl.identify.oncs;
    if (oncs & 8) {
      await ns.writeZeroes(0, 8);
      const r = Buffer.alloc(4096, 1);
      await ns.read(0, r);
      t.ok(r.every((b) => b === 0), 'zeroed');
    } else {
      await t.rejects(ns.writeZeroes(0, 8), { code: 'PHYR_INVALID_IO', message: /ONCS bit 3/ });
    }
    if (oncs & 4) await ns.deallocate(0, 8);
    else await t.rejects(ns.deallocate(0, 8), { code: 'PHYR_INVALID_IO', message: /ONCS bit 2/ });
  });
});

t.test('bad input is refused before anything is submitted', async (t) => {
  await withCtrl('emu:backend=ram,size=1M', t, async (ctrl, fn) => {
    const ns = ctrl.namespace(1);
    const before = fn.stats().ioCommands;
    await t.rejects(ns.read(ns.blocks - 1, Buffer.alloc(1024)), { code: 'PHYR_INVALID_IO', message: /pass the end of namespace 1/ });
    await t.rejects(ns.read(0, Buffer.alloc(100)), { code: 'PHYR_INVALID_IO', message: /not a positive multiple of the 512-byte LBA size/ });
    await t.rejects(ns.read(0, Buffer.alloc(0)), { code: 'PHYR_INVALID_IO' });
    await t.rejects(ns.read(-1, Buffer.alloc(512)), { code: 'PHYR_INVALID_IO', message: /not a non-negative integer/ });
    await t.rejects(ns.read(1.5, Buffer.alloc(512)), { code: 'PHYR_INVALID_IO' });
    await t.rejects(ns.write(0, 'text' as unknown as Buffer), { code: 'PHYR_INVALID_IO', message: /must be a Uint8Array/ });
    await t.rejects(ns.writeZeroes(0, 0), { code: 'PHYR_INVALID_IO' });
    await t.rejects(ns.deallocate(ns.blocks, 1), { code: 'PHYR_INVALID_IO' });
    t.equal(fn.stats().ioCommands, before, 'no command reached the controller');
  });
});

for (const sgl of ['on', 'off'] as const) {
  t.test(`byte-granular reads: ${sgl === 'on' ? 'SGL Bit Buckets discard' : 'bounced through pool memory'}`, async (t) => {
    await withCtrl(`emu:backend=ram,size=16M,sgl=${sgl}`, t, async (ctrl, fn) => {
      const ns = ctrl.namespace(1);
      const data = crypto.randomBytes(16 * 512);
      await ns.write(0, data);
      const poolBefore = ctrl.pool.stats().buffers;
      // Count bounce buffers: the pool's alloc is wrapped for the duration of the reads.
      const pool = ctrl.pool as { alloc: typeof ctrl.pool.alloc };
      const alloc = pool.alloc.bind(ctrl.pool);
      let bounces = 0;
      pool.alloc = (size, o) => {
        bounces++;
        return alloc(size, o);
      };
      for (const [offset, len] of [[1000, 3000], [4, 508], [512, 100], [0, 8192], [7, 1]]) {
        const out = Buffer.alloc(len);
        await ns.readBytes(offset, out);
        t.ok(out.equals(data.subarray(offset, offset + len)), `bytes ${offset}..${offset + len}`);
      }
      pool.alloc = alloc;
      if (sgl === 'on') t.equal(bounces, 0, 'bit buckets: no bounce buffer');
      else t.equal(bounces, 4, 'no SGL: each unaligned read bounced');
      const pooled = ctrl.pool.alloc(3000);
      await ns.readBytes(1000, pooled);
      t.ok(Buffer.from(pooled.bytes).equals(data.subarray(1000, 4000)), 'into a pool buffer');
      pooled.free();
      t.equal(ctrl.pool.stats().buffers, poolBefore, 'bounce buffers freed');
      t.equal(fn.stats().bytesRead > 0, true);
      await t.rejects(ns.readBytes(-1, Buffer.alloc(1)), { code: 'PHYR_INVALID_IO' });
      await t.rejects(ns.readBytes(ns.blocks * 512 - 1, Buffer.alloc(2)), { code: 'PHYR_INVALID_IO', message: /pass the end/ });
    });
  });
}
