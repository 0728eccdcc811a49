// The driver (drivers/nvme) through the kernel's VFIO against QEMU's NVMe: bring-up,
// identify, write/read/compare with randomized phyr arrays under PRP and SGL, MDTS
// splitting, namespaces of 512 B and 4 KiB, MSI-X completions, reset, and two
// controllers driven at once in one container.
import * as assert from 'node:assert/strict';
import { Controller } from '../../../drivers/nvme';
import type { DmaBuffer } from '../../../lib/dma';
import { PhyrArray } from '../../../lib/phyr';
import { openVfio, type VfioFunction } from '../../../lib/vfio';
import { atEnd, test } from '../harness';
import { peerFn, targetFn } from '../fixture';
import { SMALL_MDTS } from '../topology';

/** Deterministic pseudo-random numbers (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function fillRandom(bytes: Uint8Array, next: () => number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (next() * 256) | 0;
}

function sameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`${what}: first difference at byte ${i} of ${want.length}`);
}

/**
 * A phyr array of `total` bytes over `buf`, cut into 1..4 segments. `prpable`: interior
 * boundaries page-aligned (a PRP list can describe it); otherwise segments start and end
 * at random dword offsets, with gaps, so only an SGL can.
 */
function randomPhyr(buf: DmaBuffer, total: number, prpable: boolean, next: () => number): { phyr: PhyrArray; pieces: [number, number][] } {
  const pieces: [number, number][] = [];
  let off = prpable ? 0 : 4 * ((next() * 64) | 0);
  let left = total;
  const parts = 1 + ((next() * 4) | 0);
  for (let i = 0; i < parts && left > 0; i++) {
    let len = i === parts - 1 ? left : prpable ? 4096 * (1 + ((next() * 3) | 0)) : 4 * (1 + ((next() * (left / 4 - 1)) | 0));
    len = Math.min(len, left);
    pieces.push([off, len]);
    left -= len;
    off += len + (prpable ? 4096 : 4 * (1 + ((next() * 16) | 0))); // a gap: not contiguous
    if (prpable) off = Math.ceil(off / 4096) * 4096;
  }
  if (left > 0) pieces.push([off, left]);
  const phyr = new PhyrArray();
  for (const [o, l] of pieces) buf.toPhyr(o, l, phyr);
  return { phyr, pieces };
}

function gather(buf: DmaBuffer, pieces: [number, number][]): Uint8Array {
  return Buffer.concat(pieces.map(([o, l]) => buf.bytes.subarray(o, o + l)));
}

async function withController<T>(fn: VfioFunction, options: Parameters<typeof Controller.open>[1], body: (c: Controller) => Promise<T>): Promise<T> {
  const c = await Controller.open(fn, options, false);
  try {
    return await body(c);
  } finally {
    await c.close();
  }
}

async function randomIo(c: Controller, nsid: number, prpable: boolean, seed: number, rounds: number): Promise<void> {
  const ns = c.namespace(nsid);
  const next = rng(seed);
  const src = c.pool.alloc(256 * 1024);
  const dst = c.pool.alloc(256 * 1024);
  try {
    for (let r = 0; r < rounds; r++) {
      const blocks = 1 + ((next() * Math.min(32, (64 * 1024) / ns.lbaSize)) | 0);
      const total = blocks * ns.lbaSize;
      const lba = (next() * (ns.blocks - blocks)) | 0;
      fillRandom(src.bytes, next);
      dst.bytes.fill(0);
      const w = randomPhyr(src, total, prpable, next);
      const rd = randomPhyr(dst, total, prpable, next);
      await ns.write(lba, w.phyr);
      await ns.read(lba, rd.phyr);
      sameBytes(gather(dst, rd.pieces), gather(src, w.pieces), `round ${r} (seed ${seed}): ${blocks} blocks at LBA ${lba} in ${w.pieces.length}/${rd.pieces.length} segments`);
    }
  } finally {
    src.free();
    dst.free();
  }
}

test('driver: bring-up and Identify through VFIO', async () => {
  await withController(targetFn(), {}, async (c) => {
    assert.equal(c.identify.sn.trim(), 'phyr-vm-0');
    assert.match(c.identify.mn, /^QEMU NVMe Ctrl/);
    assert.equal(c.identify.sgls & 3, 1, 'SGLs supported (byte aligned)');
    assert.deepEqual(c.namespaces().map((n) => n.nsid), [1]);
    assert.equal(c.namespace(1).lbaSize, 512);
  });
});

test('driver: write/read/compare with randomized PRP-able phyr arrays (PRP)', async () => {
  await withController(targetFn(), { sgl: false }, (c) => randomIo(c, 1, true, 11, 24));
});

test('driver: write/read/compare with randomized byte-scattered phyr arrays (SGL)', async () => {
  await withController(targetFn(), { sgl: true }, async (c) => {
    const probe = c.pool.alloc(16384);
    // Two pieces, the second starting mid-page: no PRP list can describe it.
    const phyr = probe.toPhyr(4, 100);
    probe.toPhyr(1000, 3996, phyr);
    assert.equal(c.namespace(1).explain(phyr).format, 'sgl', 'a non-PRP-able list goes out as an SGL');
    probe.free();
    await randomIo(c, 1, false, 12, 24);
  });
});

test('driver: transfers above MDTS are split (mdts=1: 8 KiB per command)', async () => {
  const fn = openVfio(SMALL_MDTS, { peerOf: targetFn() });
  atEnd(() => fn.close());
  await withController(fn, {}, async (c) => {
    assert.equal(c.identify.mdts, 1);
    const ns = c.namespace(1);
    const src = c.pool.alloc(128 * 1024);
    const dst = c.pool.alloc(128 * 1024);
    fillRandom(src.bytes, rng(21));
    assert.ok(ns.explain(src.toPhyr(0, 128 * 1024)).children >= 16, 'one IO becomes at least 16 commands');
    await ns.write(8, src);
    await ns.read(8, dst);
    sameBytes(dst.bytes, src.bytes, '128 KiB through 8 KiB commands');
    src.free();
    dst.free();
  });
});

test('driver: two namespaces with 512 B and 4 KiB blocks on the peer controller', async () => {
  await withController(peerFn(), {}, async (c) => {
    assert.deepEqual(c.namespaces().map((n) => [n.nsid, n.lbaSize]), [[1, 512], [2, 4096]]);
    await randomIo(c, 1, true, 31, 8);
    await randomIo(c, 2, true, 32, 8);
  });
});

test('driver: MSI-X interrupt completions', async () => {
  await withController(targetFn(), { completion: 'interrupt' }, (c) => randomIo(c, 1, true, 41, 8));
});

test('driver: reset keeps the data and the controller usable', async () => {
  await withController(targetFn(), {}, async (c) => {
    const ns = c.namespace(1);
    const a = c.pool.alloc(8192);
    const b = c.pool.alloc(8192);
    fillRandom(a.bytes, rng(51));
    await ns.write(1000, a);
    await c.reset('vm tier');
    await ns.read(1000, b);
    sameBytes(b.bytes, a.bytes, 'data written before the reset');
    assert.equal(c.recovery.resets, 1);
    a.free();
    b.free();
  });
});

test('driver: two controllers in one container, IO on both at once', async () => {
  assert.equal(peerFn().container, targetFn().container);
  const [x, y] = await Promise.all([Controller.open(targetFn(), {}, false), Controller.open(peerFn(), {}, false)]);
  try {
    await Promise.all([randomIo(x, 1, true, 61, 8), randomIo(y, 2, true, 62, 8)]);
  } finally {
    await Promise.all([x.close(), y.close()]);
  }
});
