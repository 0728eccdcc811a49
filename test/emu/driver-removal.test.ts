// Surprise removal, driver side (emulator fault 'remove': BAR and config space read all
// ones, writes ignored, no DMA, no interrupts): pending IO fails with DeviceGoneError
// within the timeout in every phase (under load, polled or by interrupts, during a reset,
// during close), nothing hangs, another controller keeps working, close() completes.
import t from 'tap';
import * as phyr from '../../index';
import { within } from '../helpers/settle';
import type { EmuFunction } from '../../emu';

const outcome = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'ok', (e: unknown) => e);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const completion of ['poll', 'interrupt'] as const) {
  t.test(`removed under load (${completion}): 64 pending IOs fail with DeviceGoneError; the other controller goes on`, async (t) => {
    const timeoutMs = 300;
    const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs, completion });
    const other = await phyr.open('emu:backend=ram,size=16M', { completion });
    const fn = ctrl.fn as EmuFunction;
    const ns = ctrl.namespace(1);
    const ons = other.namespace(1);
    // The other controller keeps IO going all along.
    let otherOk = 0;
    let stop = false;
    const otherLoop = (async () => {
      const b = Buffer.alloc(4096, 7);
      while (!stop) {
        await ons.write(otherOk % 64, b);
        otherOk++;
      }
    })();
    // Every 4th read is held 10 s in the device: certainly in flight at the removal.
    fn.inject('delay:time=10s:nth=4:op=read');
    const pending = Array.from({ length: 64 }, (_, i) => outcome(ns.read(i * 8, Buffer.alloc(4096))));
    const until = Date.now() + 2000;
    while (fn.pendingCompletions() < 16 && Date.now() < until) await sleep(1);
    const started = Date.now();
    fn.inject('remove');
    const res = await within(5000, 'pending IO', Promise.all(pending));
    const took = Date.now() - started;
    const gone = res.filter((r) => r instanceof phyr.DeviceGoneError).length;
    const ok = res.filter((r) => r === 'ok').length;
    t.equal(gone + ok, 64, `every IO completed before the removal or failed with DeviceGoneError (${ok} ok, ${gone} gone)`);
    t.ok(gone >= 16, `the held IO was in flight (${gone})`);
    t.ok(took <= timeoutMs + 200, `within the timeout (${took} ms)`);
    t.equal(ctrl.status, 'dead');
    t.type(ctrl.deadReason, phyr.DeviceGoneError);
    t.type(await outcome(ns.write(0, Buffer.alloc(512))), phyr.DeviceGoneError, 'later IO too');
    t.type(await outcome(ctrl.reset()), phyr.DeviceGoneError, 'reset() too');
    const before = otherOk;
    await sleep(50);
    t.ok(otherOk > before, `the other controller kept working (${otherOk} writes)`);
    stop = true;
    await otherLoop;
    await within(5000, 'close()', ctrl.close());
    await other.close();
  });
}

t.test('removed during a reset: reset() and IO settle with DeviceGoneError, close() completes', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 300 });
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  fn.inject('stop:qid=1');
  const io = outcome(ns.read(0, Buffer.alloc(512)));
  const reset = outcome(ctrl.reset('test'));
  fn.inject('remove');
  const [r, i] = await within(10_000, 'reset() and IO', Promise.all([reset, io]));
  t.type(r, phyr.DeviceGoneError, `reset(): ${String(r)}`);
  t.ok(i instanceof phyr.ControllerResetError || i instanceof phyr.DeviceGoneError, `IO: ${String(i)}`);
  await within(5000, 'close()', ctrl.close());
});

t.test('removed while close() runs: close() completes, pending IO settles', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,latency=5ms', { timeoutMs: 300 });
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  const io = Array.from({ length: 16 }, (_, i) => outcome(ns.read(i, Buffer.alloc(512))));
  await sleep(1);
  const closing = ctrl.close();
  fn.inject('remove');
  await within(10_000, 'close()', closing);
  for (const r of await within(5000, 'IO', Promise.all(io))) {
    t.ok(r === 'ok' || r instanceof phyr.ControllerClosedError || r instanceof phyr.DeviceGoneError, String(r));
  }
});

t.test('removed while idle: detected by the CSTS watch, the next IO fails at once', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 200 });
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  fn.inject('remove');
  await sleep(150);
  t.equal(ctrl.status, 'dead', 'the watch saw it without any IO');
  const started = Date.now();
  t.type(await outcome(ns.read(0, Buffer.alloc(512))), phyr.DeviceGoneError);
  t.throws(() => ctrl.namespace(1), { code: 'PHYR_DEVICE_GONE' }, 'namespace() names it too');
  t.ok(Date.now() - started < 50, 'refused without waiting for a timeout');
  await within(5000, 'close()', ctrl.close());
});

t.test('a batch queue pair of a removed controller gets its commands cancelled', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,latency=20ms', { timeoutMs: 200 });
  const fn = ctrl.fn as EmuFunction;
  const qp = await ctrl.createQueuePair({ size: 16 });
  const buf = ctrl.pool.alloc(4096);
  qp.setEntry(0, buf.iova, 4096);
  qp.setIo(0, phyr.NVME.IO_READ, 1, 0, 8, 512, 0, 1, 42);
  t.equal(qp.submitBatch(0, 1), 1);
  let cancelled = -1;
  qp.onReset = (n) => {
    cancelled = n;
  };
  fn.inject('remove');
  const deadline = Date.now() + 2000;
  while (cancelled < 0 && Date.now() < deadline) await sleep(5);
  t.equal(cancelled, 1, 'onReset reported the cancelled command');
  t.equal(qp.completions[0], 42, 'with its tag');
  await within(5000, 'close()', ctrl.close());
});
