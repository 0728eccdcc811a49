// Surprise removal of the embedded controller (fault 'remove'): once inject('remove')
// returns, BAR0 and config space read all ones, writes go nowhere, held commands never
// complete and no interrupt arrives; the driver fails pending and later IO with
// DeviceGoneError within its timeout, other controllers keep working, close() completes.
import t from 'tap';
import * as phyr from '../../index';
import { openEmu, parseFault, parseEmuTarget, EmuTargetError, type EmuFunction } from '../../emu';
import { Controller } from '../../drivers/nvme/controller';
import { read32, read64, write32 } from '../../lib/mmio';
import { NVME } from '../../spec/nvme';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('remove: parsed now or after N commands; bad parameters refused', async (t) => {
  t.same(parseFault('remove'), { kind: 'remove', after: 0 });
  t.same(parseFault('remove:after=7'), { kind: 'remove', after: 7 });
  t.same(parseEmuTarget('emu:faults=remove:after=3').faults, ['remove:after=3']);
  for (const [spec, re] of [
    ['remove:after=0', /after=0 must be an integer 1\.\./],
    ['remove:after=x', /after=x must be an integer/],
    ['remove:nth=2', /'nth=2' is not a parameter of remove \(after\)/],
    ['remove:after', /'after' is not a parameter of remove/],
  ] as Array<[string, RegExp]>) {
    const err = t.throws(() => parseFault(spec), re, spec) as unknown;
    t.type(err, EmuTargetError, `${spec}: typed`);
    t.match((err as Error).message, /remove\[:after=N\]/, `${spec}: the grammar names remove`);
  }
});

t.test('the function after inject(remove): all ones, writes ignored, nothing completes', async (t) => {
  const fn = openEmu('emu:backend=ram,size=16M');
  t.teardown(() => fn.close());
  const ctrl = await Controller.open(fn, { timeoutMs: 300 });
  const ns = ctrl.namespace(1);
  await ns.write(0, Buffer.alloc(4096, 0x21));
  const bar = fn.bar(0);
  t.equal(read32(bar, NVME.REG_VS), 0x00010400, 'present before');
  // Reads held 10 s by a delay rule: in flight when the device goes.
  fn.inject('delay:time=10s');
  const pending = [0, 8, 16].map((lba) => ns.read(lba, Buffer.alloc(4096)).then(() => 'ok', (e: unknown) => e));
  while (fn.pendingCompletions() < 3) await sleep(1);
  const before = fn.stats();
  const started = Date.now();
  fn.inject('remove');
  t.equal(read32(bar, NVME.REG_CSTS), 0xffffffff, 'CSTS reads all ones at once');
  t.equal(read64(bar, NVME.REG_CAP), 0xffff_ffff_ffff_ffffn, 'CAP reads all ones');
  t.equal(fn.configRead(0, 4), 0xffffffff, 'config space reads all ones');
  t.equal(fn.configRead(0x04, 2), 0xffff);
  fn.configWrite(0x04, 2, 0x6);
  t.equal(fn.configRead(0x04, 2), 0xffff, 'config writes ignored');
  write32(bar, NVME.REG_CC, 0);
  const deadline = Date.now() + 2000;
  while (read32(bar, NVME.REG_CC) !== 0xffffffff && Date.now() < deadline) await sleep(1);
  t.equal(read32(bar, NVME.REG_CC), 0xffffffff, 'a register write reads all ones again');
  for (const e of await Promise.all(pending)) t.type(e, phyr.DeviceGoneError, `held read: ${String(e)}`);
  const took = Date.now() - started;
  t.ok(took < 3000, `pending IO settled in ${took} ms (timeout 300 ms)`);
  await t.rejects(ns.write(0, Buffer.alloc(512)), { code: 'PHYR_DEVICE_GONE' }, 'later IO fails too');
  const after = fn.stats();
  t.equal(after.interrupts, before.interrupts, 'no interrupt after the removal');
  t.equal(after.commands, before.commands, 'no command fetched after the removal');
  t.equal(fn.pendingCompletions(), 3, 'the held completions are never posted');
  await ctrl.close();
  t.equal(read32(bar, NVME.REG_CSTS), 0xffffffff, 'still gone after close');
});

t.test('faults=remove:after=N: N-1 IO commands complete, then the device is gone', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,faults=remove:after=5', { timeoutMs: 200 });
  const other = await phyr.open('emu:backend=ram,size=16M');
  t.teardown(async () => {
    await ctrl.close();
    await other.close();
  });
  const ns = ctrl.namespace(1);
  for (let i = 0; i < 4; i++) await ns.write(i, Buffer.alloc(512, i + 1));
  const fn = ctrl.fn as EmuFunction;
  t.equal(read32(fn.bar(0), NVME.REG_CSTS) & NVME.CSTS_RDY, NVME.CSTS_RDY, 'present after 4');
  const err = await ns.write(4, Buffer.alloc(512)).then(() => undefined, (e: unknown) => e);
  t.type(err, phyr.DeviceGoneError, `the 5th: ${String(err)}`);
  t.equal(fn.configRead(0, 2), 0xffff);
  // Another controller is not affected.
  await other.namespace(1).write(0, Buffer.alloc(512, 9));
  const back = Buffer.alloc(512);
  await other.namespace(1).read(0, back);
  t.equal(back[0], 9);
});

t.test('faults=remove at creation: open fails with DeviceGoneError', async (t) => {
  const err = await phyr.open('emu:faults=remove', { timeoutMs: 200 }).then(async (c) => {
    await c.close();
    return undefined;
  }, (e: unknown) => e);
  t.type(err, phyr.DeviceGoneError, String(err));
});
