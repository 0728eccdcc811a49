// The batch API on an application-owned queue pair, status errors through it, and
// interrupt-driven completion with the process otherwise idle.
import t from 'tap';
import * as crypto from 'crypto';
import { performance } from 'perf_hooks';
import * as phyr from '../../index';
import type { EmuFunction } from '../../emu';
import { CPL, CPL_WORDS, REQ, REQ_WORDS, SubmitResult } from '../../drivers/nvme/batch';
import { NVME } from '../../spec/nvme';

t.test('batch submit and reap through shared arrays', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M');
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  const qp = await ctrl.createQueuePair({ size: 64 });
  t.equal(qp.id, 2, 'the namespace API holds queue 1');
  t.equal(qp.capacity, 48);
  const buf = ctrl.pool.alloc(32 * 4096);
  crypto.randomFillSync(buf.bytes);
  const expected = Buffer.from(buf.bytes);
  // 32 writes of 4 KiB in one native call.
  for (let i = 0; i < 32; i++) {
    qp.setEntry(i, buf.iovaAt(i * 4096), 4096);
    qp.setIo(i, NVME.IO_WRITE, 1, i * 8, 8, 512, i, 1, 1000 + i);
  }
  const doorbellsBefore = qp.stats().doorbells;
  t.equal(qp.submitBatch(0, 32), 32);
  t.equal(qp.stats().doorbells - doorbellsBefore, 1, 'one SQ doorbell for 32 commands');
  const tags = new Set<number>();
  while (tags.size < 32) {
    const n = qp.reap();
    for (let i = 0; i < n; i++) {
      t.equal(qp.completions[i * CPL_WORDS + CPL.STATUS_FLAGS] & 0x7fff, 0);
      tags.add(qp.completions[i * CPL_WORDS + CPL.TAG]);
    }
    if (n === 0) await new Promise((r) => setImmediate(r));
  }
  t.equal(Math.min(...tags), 1000);
  buf.bytes.fill(0);
  await ns.read(0, buf);
  t.ok(Buffer.from(buf.bytes).equals(expected), 'batch-written data reads back through the namespace API');

  // A read past the end: the controller answers LBA Out of Range.
  qp.setIo(0, NVME.IO_READ, 1, ns.blocks, 8, 512, 0, 1, 7);
  t.equal(qp.submitBatch(0, 1), 1);
  t.equal(qp.requests[REQ.RESULT] & 0xff, SubmitResult.OK);
  let n = 0;
  while ((n = qp.reap()) === 0) await new Promise((r) => setImmediate(r));
  const status = qp.completions[CPL.STATUS_FLAGS] & 0x7fff;
  const err = new phyr.NvmeStatusError(status, { admin: false, opcode: NVME.IO_READ, name: 'Read', nsid: 1, lba: ns.blocks, blocks: 8 });
  t.equal(err.statusName, 'LBA Out of Range');
  t.match(err.message, /Read on namespace 1 \(LBA \d+, 8 blocks\) failed: LBA Out of Range/);
  t.equal(n, 1);

  await qp.close();
  t.throws(() => qp.reap(), { code: 'PHYR_QUEUE_CLOSED' });
  t.equal(fn.faultCount(), 0);
  // The queue id is free again.
  const again = await ctrl.createQueuePair({ size: 16 });
  t.equal(again.id, 2);
  await t.rejects(ctrl.createQueuePair({ size: 1 }), { code: 'PHYR_INVALID_ARGUMENT' });
  await t.rejects(ctrl.createQueuePair({ interrupts: true }), { code: 'PHYR_INVALID_ARGUMENT', message: /completion: 'interrupt'/ });
  t.equal(REQ_WORDS, 16);
});

t.test('interrupt-driven completion leaves an idle process idle', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { completion: 'interrupt' });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  const before = fn.stats().interrupts;
  const data = crypto.randomBytes(16384);
  await ns.write(3, data);
  const back = Buffer.alloc(16384);
  await ns.read(3, back);
  t.ok(back.equals(data));
  t.ok(fn.stats().interrupts > before, 'completions arrived by MSI-X eventfd');
  // Idle: no poller spins on the JS thread, so its event loop sleeps in epoll. (Process
  // CPU would also count the emulated device's own thread, so the loop's utilization is
  // what is measured.)
  const elu = performance.eventLoopUtilization();
  await new Promise((r) => setTimeout(r, 300));
  const used = performance.eventLoopUtilization(elu);
  // A polling loop keeps the event loop near 100 % busy; an idle one stays near 0 %. The
  // bound leaves room for a 2-core machine busy with other test files (seen up to 25 %).
  t.ok(used.utilization < 0.35, `event loop ${(used.utilization * 100).toFixed(1)} % busy while idle`);
  // And an IO issued after idling still completes.
  await ns.read(3, back);
  t.ok(back.equals(data));
  const qp = await ctrl.createQueuePair({ size: 16, interrupts: true });
  let fired = 0;
  qp.onInterrupt = () => fired++;
  const b = ctrl.pool.alloc(4096);
  qp.setEntry(0, b.iova, 4096);
  qp.setIo(0, NVME.IO_READ, 1, 3, 8, 512, 0, 1, 1);
  qp.submitBatch(0, 1);
  while (fired === 0) await new Promise((r) => setTimeout(r, 1));
  t.equal(qp.reap(), 1);
  t.ok(Buffer.from(b.bytes).equals(data.subarray(0, 4096)));
  t.equal(fn.faultCount(), 0);
});
