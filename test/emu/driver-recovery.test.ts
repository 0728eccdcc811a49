// Recovery: a stalled device (bus mastering cleared, so it does no DMA and completes
// nothing) drives the timeout -> Abort -> reset path; a device fault raises CSTS.CFS and
// the driver resets; a vanished device fails every command with DeviceGoneError; an
// explicit reset cancels what is in flight. No promise hangs.
import t from 'tap';
import * as phyr from '../../index';
import { openEmu, type EmuFunction } from '../../emu';
import { Controller } from '../../drivers/nvme/controller';
import { createCqSqe, createSqSqe } from '../../drivers/nvme/admin';
import { read32, write32 } from '../../lib/mmio';
import { NVME } from '../../spec/nvme';

const PCI_COMMAND = 0x04;
const BUS_MASTER = 0x4;

function stall(fn: EmuFunction): void {
  fn.configWrite(PCI_COMMAND, 2, fn.configRead(PCI_COMMAND, 2) & ~BUS_MASTER);
}

t.test('a command that never completes: Abort, then reset, then a timeout error', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 100 });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  await ns.write(0, Buffer.alloc(4096, 0x33));
  stall(fn);
  const started = Date.now();
  const err = await ns.read(0, Buffer.alloc(4096)).then(() => undefined, (e: unknown) => e);
  const took = Date.now() - started;
  t.type(err, phyr.NvmeTimeoutError, 'rejected with a timeout error');
  t.match((err as Error).message, /Read on namespace 1 .* did not complete within 100 ms/);
  t.ok(took >= 100 && took < 5000, `settled after ${took} ms`);
  t.equal(ctrl.recovery.aborts, 1, 'an Abort was sent first');
  t.equal(ctrl.recovery.resets, 1, 'then the controller was reset');
  t.match(ctrl.recovery.lastResetReason, /timed out/);
  await ctrl.ready();
  // The reset restored the device: IO works again.
  const back = Buffer.alloc(4096);
  await ns.read(0, back);
  t.ok(back.every((b) => b === 0x33), 'data intact after the reset');
  t.equal(fn.faultCount(), 0);
});

t.test("the emulator's dropped-completion fault: Abort, reset, timeout error, then IO works", async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 100 });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  await ns.write(0, Buffer.alloc(512, 0x44));
  fn.inject('drop:nth=1:op=read');
  const err = await ns.read(0, Buffer.alloc(512)).then(() => undefined, (e: unknown) => e);
  t.type(err, phyr.NvmeTimeoutError);
  t.equal(ctrl.recovery.aborts, 1);
  t.equal(ctrl.recovery.resets, 1);
  fn.inject('clear');
  await ctrl.ready();
  const back = Buffer.alloc(512);
  await ns.read(0, back);
  t.equal(back[0], 0x44);
  t.equal(fn.faultCount(), 0);
});

t.test('injected CSTS.CFS: in-flight IO is cancelled, the controller resets', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 200 });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  fn.inject('cfs');
  const r = await ns.read(0, Buffer.alloc(512)).then(() => 'ok', (e: unknown) => e);
  t.ok(r instanceof phyr.ControllerResetError || r instanceof phyr.ControllerResettingError, `settles with a reset error (${String(r)})`);
  await ctrl.ready();
  t.equal(ctrl.recovery.resets, 1);
  await ns.read(0, Buffer.alloc(512));
});

t.test('media errors arrive as NvmeStatusError with the spec name', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,faults=fail:lba=77:status=0x281');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const err = await ns.read(76, Buffer.alloc(1024)).then(() => undefined, (e: unknown) => e);
  t.type(err, phyr.NvmeStatusError);
  t.match(err, { sct: 2, sc: 0x81, statusName: 'Unrecovered Read Error', nsid: 1 });
  await ns.read(78, Buffer.alloc(512));
});

t.test('CSTS.CFS is noticed and the controller is reset', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 200 });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  // Provoke a device fault: an SQ whose ring points at an unmapped address. Fetching
  // from it is an IOMMU fault, which this controller treats as fatal.
  const cq = ctrl.pool.alloc(4096);
  await ctrl.adminCommand(createCqSqe(9, 16, -1), cq);
  await ctrl.adminCommand(createSqSqe(9, 16, 9), { iova: 0x7f0000000000, size: 4096 });
  write32(fn.bar(0), NVME.REG_DOORBELLS + 2 * 9 * 4, 1);
  for (let i = 0; i < 200 && (read32(fn.bar(0), NVME.REG_CSTS) & NVME.CSTS_CFS) === 0; i++) await new Promise((r) => setTimeout(r, 1));
  t.ok(fn.faultCount() > 0, 'the provoked IOMMU fault is logged');
  const inflight = ns.read(0, Buffer.alloc(512)).then(() => 'ok', (e: unknown) => e);
  const r = await inflight;
  t.ok(r instanceof phyr.ControllerResetError || r instanceof phyr.ControllerResettingError, `the IO on the halted controller settles with a reset error (${String(r)})`);
  for (let i = 0; i < 100 && ctrl.recovery.resets === 0; i++) await new Promise((res) => setTimeout(res, 10));
  t.equal(ctrl.recovery.resets, 1);
  t.match(ctrl.recovery.lastResetReason, /CSTS\.CFS/);
  await ctrl.ready();
  t.equal(read32(fn.bar(0), NVME.REG_CSTS) & NVME.CSTS_CFS, 0, 'CFS cleared by the reset');
  await ns.write(1, Buffer.alloc(512, 9));
  const back = Buffer.alloc(512);
  await ns.read(1, back);
  t.equal(back[0], 9, 'IO works after recovery');
  cq.free();
});

t.test('an explicit reset cancels commands in flight; IO during the reset is refused', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M');
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  stall(fn);
  const pending = [0, 1, 2].map((i) => ns.read(i, Buffer.alloc(512)).then(() => undefined, (e: unknown) => e));
  await new Promise((r) => setTimeout(r, 5));
  const reset = ctrl.reset();
  await t.rejects(ns.read(0, Buffer.alloc(512)), { code: 'PHYR_CONTROLLER_RESETTING' });
  await reset;
  for (const e of await Promise.all(pending)) t.type(e, phyr.ControllerResetError);
  await ns.read(0, Buffer.alloc(512));
  t.equal(ctrl.recovery.resets, 1);
});

t.test('a vanished device fails commands with DeviceGoneError', async (t) => {
  const fn = openEmu('emu:backend=ram,size=16M');
  const ctrl = await Controller.open(fn, { timeoutMs: 100 });
  const ns = ctrl.namespace(1);
  stall(fn);
  const p = ns.read(0, Buffer.alloc(512)).then(() => undefined, (e: unknown) => e);
  await new Promise((r) => setTimeout(r, 5));
  fn.close();
  const err = await p;
  t.type(err, phyr.DeviceGoneError);
  await t.rejects(ns.read(0, Buffer.alloc(512)), { code: 'PHYR_DEVICE_GONE' });
  await ctrl.close();
  await ctrl.close();
});

t.test('manual polling: nothing completes until the application polls', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { poller: 'manual' });
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  let done = false;
  const p = ns.write(0, Buffer.alloc(512, 1)).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(done, false, 'not settled without poll()');
  let settled = 0;
  while (!done) {
    settled += ctrl.poll();
    await new Promise((r) => setImmediate(r));
  }
  await p;
  t.equal(settled, 1);
  await t.rejects(phyr.open('emu', { poller: 'sometimes' as 'auto' }), { code: 'PHYR_INVALID_ARGUMENT' });
});
