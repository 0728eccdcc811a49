// Controller bring-up, identify, namespaces, close, recovery of a controller left enabled,
// and the typed errors of a closed controller.
import t from 'tap';
import * as phyr from '../../index';
import { openEmu, type EmuFunction } from '../../emu';
import { Controller } from '../../drivers/nvme/controller';
import { identifySqe } from '../../drivers/nvme/admin';
import { read32 } from '../../lib/mmio';
import { NVME } from '../../spec/nvme';

t.test('open brings the controller up and parses identify data', async (t) => {
  const ctrl = await phyr.open('emu:ns=2,size=64M,serial=DRV42');
  t.teardown(() => ctrl.close());
  const id = ctrl.identify;
  t.equal(id.sn, 'DRV42');
  t.match(id.mn, /phyr/);
  t.equal(id.mdts, 7);
  t.equal(id.nn, 2);
  t.equal(id.sqes, 0x66);
  t.equal(id.cqes, 0x44);
  t.ok(id.vid > 0);
  t.equal(typeof id.sgls, 'number');
  const csts = read32(ctrl.fn.bar(0), NVME.REG_CSTS);
  t.equal(csts & NVME.CSTS_RDY, 1, 'CSTS.RDY = 1');
  t.ok(ctrl.queuesGranted.sq >= 1);
  t.same(ctrl.namespaces().map((n) => n.nsid), [1, 2]);
  const ns = ctrl.namespace(2);
  t.equal(ns.lbaSize, 512);
  t.equal(ns.blocks, (64 << 20) / 512);
  t.equal(ns.identify.nsze, ns.blocks);
  t.equal(ns.identify.lbafs[ns.formatIndex].ds, 9);
  t.throws(() => ctrl.namespace(3), { code: 'PHYR_UNKNOWN_NAMESPACE', message: /active: 1, 2/ });
  t.equal((ctrl.fn as EmuFunction).faultCount(), 0, 'no IOMMU faults');
});

t.test('close shuts down, unmaps everything, and is idempotent', async (t) => {
  const fn = openEmu('emu');
  t.teardown(() => fn.close());
  const ctrl = await Controller.open(fn);
  const mappedWhileOpen = fn.mappingCount();
  t.ok(mappedWhileOpen > 0);
  await ctrl.close();
  await ctrl.close();
  const csts = read32(fn.bar(0), NVME.REG_CSTS);
  t.equal((csts & NVME.CSTS_SHST_MASK) >> NVME.CSTS_SHST_SHIFT, NVME.SHST_COMPLETE, 'SHST = shutdown complete');
  t.equal(fn.mappingCount(), 0, 'no IOMMU mapping left');
  t.equal(fn.faultCount(), 0);
  const ns = ctrl.namespaces()[0];
  await t.rejects(ns.read(0, Buffer.alloc(512)), { code: 'PHYR_CONTROLLER_CLOSED' });
  t.throws(() => ctrl.namespace(1), { code: 'PHYR_CONTROLLER_CLOSED' });
  await t.rejects(ctrl.createQueuePair(), { code: 'PHYR_CONTROLLER_CLOSED' });
  await t.rejects(ctrl.reset(), { code: 'PHYR_CONTROLLER_CLOSED' });
});

t.test('a controller left enabled (process died) is recovered by the next open', async (t) => {
  const fn = openEmu('emu');
  t.teardown(() => fn.close());
  const first = await Controller.open(fn);
  const buf = first.pool.alloc(4096);
  buf.bytes.fill(0x5a);
  await first.namespace(1).write(8, buf);
  // The process "dies": its mappings vanish with it (VFIO drops them when the container
  // fd closes), but nobody disables the controller, which stays enabled with live queues.
  first.pool.close();
  t.equal(read32(fn.bar(0), NVME.REG_CSTS) & NVME.CSTS_RDY, 1, 'still enabled');
  const second = await Controller.open(fn);
  t.teardown(() => second.close());
  const back = Buffer.alloc(4096);
  await second.namespace(1).read(8, back);
  t.ok(back.every((b) => b === 0x5a), 'data written before the takeover reads back');
  t.equal(fn.faultCount(), 0);
});

t.test('admin errors carry the spec status names', async (t) => {
  const ctrl = await phyr.open('emu');
  t.teardown(() => ctrl.close());
  const err = await ctrl.adminCommand(identifySqe(NVME.CNS_NAMESPACE, 77), ctrl.pool.alloc(4096)).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, phyr.NvmeStatusError);
  const s = err as InstanceType<typeof phyr.NvmeStatusError>;
  t.equal(s.sct, 0);
  t.equal(s.sc, NVME.SC_INVALID_NAMESPACE);
  t.equal(s.statusName, 'Invalid Namespace or Format');
  t.match(s.message, /Identify failed: Invalid Namespace or Format/);
});

t.test('bad options are refused', async (t) => {
  await t.rejects(phyr.open('emu', { completion: 'sometimes' as 'poll' }), { code: 'PHYR_INVALID_ARGUMENT' });
  await t.rejects(phyr.open('emu', { timeoutMs: -1 }), { code: 'PHYR_INVALID_ARGUMENT' });
  await t.rejects(phyr.open('nonsense'), { code: 'PHYR_BAD_TARGET' });
});
