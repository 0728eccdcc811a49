// Shadow doorbells (Doorbell Buffer Config, NVMe 2.0 §5.8) against QEMU's NVMe, which
// offers them (OACS bit 8): the driver turns them on by default, IO through the namespace
// API and through the batch API is correct with them, far fewer MMIO doorbells are written
// than doorbell updates made, a reset sends the command again, and `shadowDoorbells: false`
// keeps MMIO doorbells only. Each run's IOPS with and without is noted (QD32 4 KiB reads
// under TCG: a ratio of work done, not of hardware speed).
import * as assert from 'node:assert/strict';
import { Controller } from '../../../drivers/nvme';
import { CPL, CPL_STATUS_MASK, CPL_WORDS } from '../../../drivers/nvme/batch';
import { NVME } from '../../../spec/nvme';
import { note, test } from '../harness';
import { targetFn } from '../fixture';

interface QdRun {
  ios: number;
  seconds: number;
  doorbells: number;
  shadowUpdates: number;
}

// 4 KiB reads at queue depth 32 through one batch-API queue pair for `ms` milliseconds;
// every completion must succeed.
async function qd32Reads(c: Controller, ms: number): Promise<QdRun> {
  const ns = c.namespace(1);
  const qp = await c.createQueuePair({ size: 64 });
  const depth = Math.min(32, qp.capacity);
  const buf = c.pool.alloc(depth * 4096);
  const blocks = 4096 / ns.lbaSize;
  let lba = 0;
  const nextLba = (): number => (lba = (lba + 7919 * blocks) % (ns.blocks - blocks));
  try {
    for (let i = 0; i < depth; i++) qp.setEntry(i, buf.iovaAt(i * 4096), 4096);
    for (let i = 0; i < depth; i++) qp.setIo(i, NVME.IO_READ, ns.nsid, nextLba(), blocks, ns.lbaSize, i, 1, i);
    qp.submitBatch(0, depth);
    const t0 = process.hrtime.bigint();
    const end = Date.now() + ms;
    let ios = 0;
    while (Date.now() < end) {
      const n = qp.reap();
      for (let i = 0; i < n; i++) {
        const w = i * CPL_WORDS;
        assert.equal(qp.completions[w + CPL.STATUS_FLAGS] & CPL_STATUS_MASK, 0, 'a read failed');
        const slot = qp.completions[w + CPL.TAG];
        qp.setIo(i, NVME.IO_READ, ns.nsid, nextLba(), blocks, ns.lbaSize, slot, 1, slot);
      }
      if (n > 0) qp.submitBatch(0, n);
      ios += n;
    }
    while (qp.stats().outstanding > 0) qp.reap();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const s = qp.stats();
    return { ios, seconds, doorbells: s.doorbells, shadowUpdates: s.shadowUpdates };
  } finally {
    await qp.close();
    buf.free();
  }
}

// One 4 KiB read on a new queue pair, reaped within 5 s; returns its status.
async function oneRead(c: Controller): Promise<number> {
  const ns = c.namespace(1);
  const qp = await c.createQueuePair({ size: 16 });
  const buf = c.pool.alloc(4096);
  try {
    qp.setEntry(0, buf.iova, 4096);
    qp.setIo(0, NVME.IO_READ, ns.nsid, 0, 4096 / ns.lbaSize, ns.lbaSize, 0, 1, 0);
    qp.submitBatch(0, 1);
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      if (qp.reap() === 1) return qp.completions[CPL.STATUS_FLAGS] & CPL_STATUS_MASK;
      await new Promise((r) => setImmediate(r));
    }
    return assert.fail(`a read on queue pair ${qp.id} did not complete in 5 s (stats ${JSON.stringify(qp.stats())})`);
  } finally {
    if (qp.stats().outstanding === 0) await qp.close();
    buf.free();
  }
}

async function roundTrip(c: Controller, lba: number, seed: number): Promise<void> {
  const ns = c.namespace(1);
  const a = c.pool.alloc(64 * 1024);
  const b = c.pool.alloc(64 * 1024);
  try {
    for (let i = 0; i < a.bytes.length; i++) a.bytes[i] = (i * seed + (i >>> 9)) & 0xff;
    await ns.write(lba, a);
    await ns.read(lba, b);
    assert.ok(Buffer.from(b.bytes).equals(Buffer.from(a.bytes)), `64 KiB at LBA ${lba} read back as written`);
  } finally {
    a.free();
    b.free();
  }
}

const rate = (r: QdRun): string => `${Math.round(r.ios / r.seconds)} IOPS, ${r.doorbells} MMIO doorbells for ${r.ios} IOs (${r.shadowUpdates} shadow updates)`;

test('shadow doorbells: on by default on QEMU (OACS bit 8), correct IO, fewer MMIO writes', async () => {
  const c = await Controller.open(targetFn(), {}, false);
  try {
    assert.ok((c.identify.oacs & NVME.OACS_DOORBELL_BUFFER_CONFIG) !== 0, `QEMU offers Doorbell Buffer Config (OACS = 0x${c.identify.oacs.toString(16)})`);
    assert.equal(c.shadowDoorbells, true, `shadow doorbells in use (refused: ${c.shadowDoorbellsRefused ?? 'no'})`);
    await roundTrip(c, 4096, 3);
    const on = await qd32Reads(c, 2000);
    assert.ok(on.ios > 0, 'reads completed');
    assert.ok(on.shadowUpdates > 0, 'the queue pair published its doorbells in the shadow buffer');
    assert.ok(on.doorbells <= on.shadowUpdates, `no more MMIO doorbells than updates: ${rate(on)}`);
    note(`shadow doorbells on: ${rate(on)}`);
    // Queue pairs of one read each, one after the other, get the same qid: the last queue's
    // tail and EventIdx left in its slots would make the new queue's first doorbell skip
    // the MMIO write QEMU waits for (the read then never completes).
    for (let i = 0; i < 3; i++) assert.equal(await oneRead(c), 0, `read ${i + 1} on a queue pair whose qid was used before completes`);
    // A reset forgets the buffer: the driver sends Doorbell Buffer Config again before the queues.
    await c.reset('vm tier: shadow doorbells after a reset');
    assert.equal(c.shadowDoorbells, true);
    await roundTrip(c, 8192, 5);
  } finally {
    await c.close();
  }
});

test('shadow doorbells: shadowDoorbells false keeps MMIO doorbells only', async () => {
  const c = await Controller.open(targetFn(), { shadowDoorbells: false }, false);
  try {
    assert.equal(c.shadowDoorbells, false);
    await roundTrip(c, 12288, 7);
    const off = await qd32Reads(c, 2000);
    assert.equal(off.shadowUpdates, 0, 'no shadow updates');
    assert.ok(off.doorbells > 0, 'MMIO doorbells written');
    note(`shadow doorbells off: ${rate(off)}`);
  } finally {
    await c.close();
  }
});
