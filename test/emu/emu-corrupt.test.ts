// The emulator's silent-data-corruption fault, seen through the driver: a Read covering
// the rule's LBA succeeds but delivers exactly one byte inverted, whatever the backend,
// data pointer (PRP, SGL) or LBA size; the stored data stays intact, so a read after
// `clear` is clean. Writes and reads not covering the LBA are untouched.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as phyr from '../../index';
import type { EmuFunction } from '../../emu';
import type { DmaBuffer } from '../../lib/dma';
import { PhyrArray } from '../../lib/phyr';

type Controller = Awaited<ReturnType<typeof phyr.open>>;

/** The pattern byte `i` of block `lba` holds (never constant within a block). */
function patternByte(lba: number, i: number): number {
  return (lba * 31 + i * 7 + 1) & 0xff;
}

function pattern(firstLba: number, blocks: number, lbaSize: number): Buffer {
  const b = Buffer.alloc(blocks * lbaSize);
  for (let k = 0; k < blocks; k++) for (let i = 0; i < lbaSize; i++) b[k * lbaSize + i] = patternByte(firstLba + k, i);
  return b;
}

/** Offsets where `got` differs from `want`. */
function diffs(got: Uint8Array, want: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) out.push(i);
  return out;
}

/** Reads `blocks` blocks from `lba` through `read` and returns the bytes in LBA order. */
type Reader = (ctrl: Controller, lba: number, blocks: number) => Promise<Buffer>;

/** A contiguous pool buffer: PRP when the controller has no SGL support. */
const contiguous: Reader = async (ctrl, lba, blocks) => {
  const ns = ctrl.namespace(1);
  const buf = ctrl.pool.alloc(blocks * ns.lbaSize);
  try {
    await ns.read(lba, buf);
    return Buffer.from(buf.bytes);
  } finally {
    buf.free();
  }
};

/** Two pieces at odd offsets of a pool buffer: not PRP-able, so SGL (two data blocks). */
function scattered(pieces: Array<{ offset: number; len: number }>, buf: DmaBuffer): PhyrArray {
  const list = new PhyrArray();
  for (const p of pieces) buf.toPhyr(p.offset, p.len, list);
  return list;
}
const scatter: Reader = async (ctrl, lba, blocks) => {
  const ns = ctrl.namespace(1);
  const total = blocks * ns.lbaSize;
  const cut = 3 * ns.lbaSize - 512; // the first piece ends inside block 2
  const buf = ctrl.pool.alloc(total + 3 * 4096);
  try {
    const pieces = [
      { offset: 512, len: cut },
      { offset: Math.ceil((512 + cut) / 4096) * 4096 + 4096 + 8, len: total - cut },
    ];
    const list = scattered(pieces, buf);
    if (ns.explain(list).format !== 'sgl') throw new Error(`expected an SGL read, got ${JSON.stringify(ns.explain(list))}`);
    await ns.read(lba, list);
    return Buffer.concat(pieces.map((p) => Buffer.from(buf.bytes.subarray(p.offset, p.offset + p.len))));
  } finally {
    buf.free();
  }
};

interface Case {
  name: string;
  target: string;
  format: 'prp' | 'sgl';
  read: Reader;
}

const cases: Case[] = [];
for (const lbads of [9, 12]) {
  cases.push({ name: `PRP, lbads=${lbads}`, target: `emu:backend=ram,size=16M,lbads=${lbads},sgl=off`, format: 'prp', read: contiguous });
  cases.push({ name: `SGL, lbads=${lbads}`, target: `emu:backend=ram,size=16M,lbads=${lbads},sgl=on`, format: 'sgl', read: scatter });
}

for (const c of cases) {
  t.test(`corrupt:lba in the middle of an 8-block read, ${c.name}`, async (t) => {
    const ctrl = await phyr.open(c.target);
    t.teardown(() => ctrl.close());
    const fn = ctrl.fn as EmuFunction;
    const ns = ctrl.namespace(1);
    const size = ns.lbaSize;
    const first = 40;
    const want = pattern(first, 8, size);
    await ns.write(first, want);
    t.same(diffs(await c.read(ctrl, first, 8), want), [], 'clean before the rule');
    if (c.format === 'prp') {
      const probe = ctrl.pool.alloc(8 * size);
      t.equal(ns.explain(probe).format, 'prp', 'the contiguous buffer goes by PRP');
      probe.free();
    }

    const lba = first + 3;
    const byte = size - 5;
    fn.inject(`corrupt:lba=${lba}:byte=${byte}`);
    const got = await c.read(ctrl, first, 8);
    const at = 3 * size + byte;
    t.same(diffs(got, want), [at], `only byte ${byte} of LBA ${lba} differs`);
    t.equal(got[at], want[at] ^ 0xff, 'it is the stored byte inverted');
    t.equal(fn.stats().corruptedReads, 1, 'counted in stats');
    t.equal(fn.stats().errors, 0, 'the read completed with success');

    // A read not covering the LBA, and a write covering it, are untouched.
    t.same(diffs(await c.read(ctrl, first + 4, 4), want.subarray(4 * size)), [], 'a read past the LBA is clean');
    await ns.write(first, want);
    fn.inject('clear');
    t.same(diffs(await c.read(ctrl, first, 8), want), [], 'after clear: clean, the stored data was never changed');
    t.equal(fn.stats().corruptedReads, 1);
    t.equal(fn.faultCount(), 0, 'no IOMMU fault');
  });
}

t.test('byte 0 by default; nth=N corrupts every Nth matching read; nsid filters', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=4M,ns=2');
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns1 = ctrl.namespace(1);
  const ns2 = ctrl.namespace(2);
  const want = pattern(7, 1, 512);
  await ns1.write(7, want);
  await ns2.write(7, want);
  fn.inject('corrupt:lba=7:nth=3:nsid=2');
  const outcomes: number[][] = [];
  for (let i = 0; i < 6; i++) {
    const back = Buffer.alloc(512);
    await ns2.read(7, back);
    outcomes.push(diffs(back, want));
  }
  t.same(outcomes, [[], [], [0], [], [], [0]], 'reads 3 and 6 have byte 0 inverted');
  const other = Buffer.alloc(512);
  await ns1.read(7, other);
  t.same(diffs(other, want), [], 'namespace 1 is not covered by nsid=2');
  t.equal(fn.stats().corruptedReads, 2);
});

t.test('null and file backends; a target string as the bench uses it', async (t) => {
  // null: the block reads as zeros, so the corrupted byte reads 0xff.
  const nul = await phyr.open('emu:backend=null,size=1M,faults=corrupt:lba=100:byte=17');
  t.teardown(() => nul.close());
  const z = Buffer.alloc(4 * 512, 0x5a);
  await nul.namespace(1).read(98, z);
  t.same(diffs(z, Buffer.alloc(4 * 512)), [2 * 512 + 17]);
  t.equal(z[2 * 512 + 17], 0xff);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-corrupt-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'ns.img');
  const f = await phyr.open(`emu:backend=file:${file},size=1M,lbads=12,faults=corrupt:lba=100`);
  t.teardown(() => f.close());
  const want = pattern(99, 3, 4096);
  await f.namespace(1).write(99, want);
  const back = Buffer.alloc(3 * 4096);
  await f.namespace(1).read(99, back);
  t.same(diffs(back, want), [4096], 'byte 0 of LBA 100 (the second block) is inverted');
  t.same(fs.readFileSync(file).subarray(99 * 4096, 102 * 4096), want, 'the file holds the data as written');

  const ram = await phyr.open('emu:backend=ram,faults=corrupt:lba=100');
  t.teardown(() => ram.close());
  const w = pattern(100, 1, 512);
  await ram.namespace(1).write(100, w);
  const r = Buffer.alloc(512);
  await ram.namespace(1).read(100, r);
  t.same(diffs(r, w), [0], 'faults=corrupt:lba=100 in a target string');
  t.equal((ram.fn as EmuFunction).stats().corruptedReads, 1);
});

t.test('bad corrupt rules are refused with the reason', async (t) => {
  t.throws(() => phyr.openPciFunction('emu:lbads=9,faults=corrupt:lba=1:byte=512'), /byte=512 must be below the LBA size \(512 bytes\)/);
  t.throws(() => phyr.openPciFunction('emu:size=1M,faults=corrupt:lba=2048'), /lba=2048 is past the end of the namespace \(2048 blocks\)/);
  t.throws(() => phyr.openPciFunction('emu:faults=corrupt:lba=1:nsid=2'), /nsid=2: the controller has 1 namespace/);
  const fn = phyr.openPciFunction('emu:size=1M') as EmuFunction;
  t.teardown(() => fn.close());
  t.throws(() => fn.inject('corrupt:lba=0:byte=4096'), /byte=4096 must be an integer 0\.\.4095/);
  t.throws(() => fn.inject('corrupt:lba=0:byte=600'), /byte=600 must be below the LBA size/);
  t.throws(() => fn.inject('corrupt:byte=1'), /corrupt needs lba=L/);
  fn.inject('corrupt:lba=2047:byte=511');
  t.equal(fn.stats().corruptedReads, 0);
});
