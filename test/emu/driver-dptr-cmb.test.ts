// Data-pointer modes (auto / prp / sgl) and device memory as IO data: the controller's own
// CMB and a peer controller's CMB in the same IOMMU domain. CMB contents are checked through
// the BAR, never through a staging copy.
import t from 'tap';
import * as crypto from 'crypto';
import * as phyr from '../../index';
import { CmbUnavailableError, SglUnavailableError } from '../../drivers/nvme';
import type { EmuFunction } from '../../emu';
import { PhyrFlags } from '../../lib/phyr';

t.test("dptr 'sgl' describes even a 4 KiB PRP-able buffer with SGL, and the data round-trips", async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,sgl=on', { dptr: 'sgl' });
  t.teardown(() => ctrl.close());
  t.equal(ctrl.dataPointerMode, 'sgl');
  const ns = ctrl.namespace(1);
  const buf = ctrl.pool.alloc(4096);
  crypto.randomFillSync(buf.bytes);
  t.match(ns.explain(buf), { format: 'sgl', reason: 'SglRequested', children: 1 });
  await ns.write(8, buf);
  const back = Buffer.alloc(4096);
  await ns.read(8, back);
  t.ok(back.equals(Buffer.from(buf.bytes)), 'read back equal');
  t.equal((ctrl.fn as EmuFunction).faultCount(), 0, 'no IOMMU fault');
});

t.test("dptr per queue pair: 'sgl' on an 'auto' controller, 'prp' too; bad values refused", async (t) => {
  const ctrl = await phyr.open('emu:backend=null,size=16M,sgl=on');
  t.teardown(() => ctrl.close());
  t.equal(ctrl.dataPointerMode, 'auto');
  t.match(ctrl.queueCapsFor('sgl'), { preferSgl: true, sglSupport: 1 });
  t.match(ctrl.queueCapsFor('prp'), { preferSgl: false, sglSupport: 0 });
  t.match(ctrl.queueCapsFor('auto'), { preferSgl: false, sglSupport: 1 });
  const qp = await ctrl.createQueuePair({ size: 16, dptr: 'sgl' });
  qp.close();
  await t.rejects(ctrl.createQueuePair({ dptr: 'both' as never }), { code: 'PHYR_INVALID_ARGUMENT', message: /dptr must be 'auto', 'prp' or 'sgl', got "both"/ });
});

t.test("dptr 'sgl' on a controller without SGL fails at open with what to do, and leaves nothing open", async (t) => {
  const err = await phyr.open('emu:backend=null,size=16M,sgl=off', { dptr: 'sgl' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof SglUnavailableError, 'SglUnavailableError');
  t.match(err, { code: 'PHYR_SGL_UNSUPPORTED', message: /SGLS bits 1:0 = 0.*'auto' or 'prp'.*emu:sgl=on/ });
  const ctrl = await phyr.open('emu:backend=null,size=16M,sgl=off');
  t.teardown(() => ctrl.close());
  await t.rejects(ctrl.createQueuePair({ dptr: 'sgl' }), { code: 'PHYR_SGL_UNSUPPORTED' });
  await t.rejects(phyr.open('emu:backend=null,size=16M,sgl=on', { sgl: false, dptr: 'sgl' }), { code: 'PHYR_INVALID_ARGUMENT', message: /disagree/ });
});

/** The CMB's bytes [offset, offset + n) as the CPU sees them through the BAR. */
function cmbBytes(view: ArrayBuffer, barOffset: number, offset: number, n: number): Buffer {
  return Buffer.from(new Uint8Array(view, barOffset + offset, n));
}

t.test('the controller memory buffer as IO data: reads land in it, writes come from it', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,cmb=1M');
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  t.equal(ctrl.cmb, undefined, 'off until asked for');
  const cmb = await ctrl.enableCmb();
  t.equal(await ctrl.enableCmb(), cmb, 'idempotent');
  t.equal(ctrl.cmb, cmb);
  t.match(cmb, { size: 1 << 20, bar: 2, barOffset: 0, readData: true, writeData: true });
  t.equal(cmb.slice(0, 4096).flagsAt(0), PhyrFlags.CMB);
  const ns = ctrl.namespace(1);
  const host = ctrl.pool.alloc(16384);
  crypto.randomFillSync(host.bytes);
  await ns.write(32, host);
  await ns.read(32, cmb.slice(0x4000, 16384));
  t.ok(cmbBytes(cmb.view, cmb.barOffset, 0x4000, 16384).equals(Buffer.from(host.bytes)), 'read data is in the CMB');
  const fromCmb = crypto.randomBytes(8192);
  new Uint8Array(cmb.view, cmb.barOffset + 0x20000, 8192).set(fromCmb);
  await ns.write(200, cmb.slice(0x20000, 8192));
  const back = Buffer.alloc(8192);
  await ns.read(200, back);
  t.ok(back.equals(fromCmb), 'write data came from the CMB');
  t.match(ns.explain(cmb.slice(0, 8192)), { format: 'prp', children: 1 });
  await ctrl.reset('test: CMB survives a reset');
  await ns.read(32, cmb.slice(0x80000, 16384));
  t.ok(cmbBytes(cmb.view, cmb.barOffset, 0x80000, 16384).equals(Buffer.from(host.bytes)), 'after a reset too');
  t.throws(() => cmb.slice(1 << 20, 1), { code: 'PHYR_CMB_UNAVAILABLE', message: /outside the 1048576-byte CMB/ });
  t.equal(fn.faultCount(), 0, 'no IOMMU fault');
});

t.test('enableCmb on a controller without one says so', async (t) => {
  const ctrl = await phyr.open('emu:backend=null,size=16M');
  t.teardown(() => ctrl.close());
  await t.rejects(ctrl.enableCmb(), CmbUnavailableError);
  await t.rejects(ctrl.enableCmb(), { code: 'PHYR_CMB_UNAVAILABLE', message: /CAP.CMBS = 0/ });
  t.equal(ctrl.cmb, undefined);
});

t.test("a peer controller's CMB mapped in the same IOMMU domain takes IO data peer-to-peer", async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M');
  const fn = ctrl.fn as EmuFunction;
  const peer = fn.attachPeer('emu:backend=null,cmb=2M');
  t.teardown(async () => {
    await ctrl.close();
    peer.close();
  });
  const before = fn.mappingCount();
  const win = ctrl.pool.mapDeviceMemory(peer.bar(2), 0x10000, 0x40000, PhyrFlags.PEER_TO_PEER);
  t.equal(fn.mappingCount(), before + 1, 'one IOMMU mapping');
  t.equal(win.phyr.flagsAt(0), PhyrFlags.PEER_TO_PEER);
  const ns = ctrl.namespace(1);
  const host = ctrl.pool.alloc(65536);
  crypto.randomFillSync(host.bytes);
  await ns.write(0, host);
  const into = new phyr.PhyrArray();
  into.push(win.iova + 0x8000, 65536, PhyrFlags.PEER_TO_PEER);
  await ns.read(0, into);
  t.ok(Buffer.from(new Uint8Array(peer.bar(2), 0x10000 + 0x8000, 65536)).equals(Buffer.from(host.bytes)), "data landed in the peer's CMB");
  win.release();
  t.equal(fn.mappingCount(), before, 'release unmaps it');
  t.throws(() => win.release(), { code: 'PHYR_DMA_RELEASED' });
});

t.test('mapDeviceMemory refuses bad windows and flags', async (t) => {
  const ctrl = await phyr.open('emu:backend=null,size=16M,cmb=1M');
  t.teardown(() => ctrl.close());
  const bar = ctrl.fn.bar(2);
  const P2P = PhyrFlags.PEER_TO_PEER;
  t.throws(() => ctrl.pool.mapDeviceMemory(new Uint8Array(8) as never, 0, 4096, P2P), { message: /needs a BAR's ArrayBuffer/ });
  t.throws(() => ctrl.pool.mapDeviceMemory(bar, 100, 4096, P2P), { message: /offset 100 must be a non-negative multiple of 4096/ });
  t.throws(() => ctrl.pool.mapDeviceMemory(bar, 0, (1 << 20) + 4096, P2P), { message: /does not fit the 1048576-byte BAR/ });
  t.throws(() => ctrl.pool.mapDeviceMemory(bar, 0, 0, P2P), { message: /does not fit/ });
  t.throws(() => ctrl.pool.mapDeviceMemory(bar, 0, 4096, 0), { message: /must be PhyrFlags.CMB and\/or PhyrFlags.PEER_TO_PEER/ });
  t.throws(() => ctrl.pool.mapDeviceMemory(bar, 0, 4096, PhyrFlags.HUGEPAGE | P2P), { message: /and nothing else/ });
  t.equal(ctrl.pool.stats().pinnedMappings, 0, 'nothing left mapped by the failures');
});
