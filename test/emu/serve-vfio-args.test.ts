// The parts of serving a VFIO controller that run without one: `phyr serve` takes a PCI
// address (and names a missing device as such, a usage error), the daemon tells an
// embedded-controller client how to map its doorbells, and a client refuses a descriptor
// sent as a VFIO device fd that is not one. The VFIO data path itself is the VM tier's
// (test/vm/cases/serve.ts).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { connect, NVME } from '../../index';
import { createSharedMemory } from '../../lib/channel';
import { mapSharedRegion } from '../../lib/vfio';
import { ServeDaemon, sharedTarget } from '../../serve';
import { CLI, startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

t.test('phyr serve takes a PCI address: a missing device is a usage error naming it', async (t) => {
  t.equal(sharedTarget('0000:01:00.0'), '0000:01:00.0', 'a PCI address is served as given');
  t.equal(sharedTarget('emu:size=16M'), 'emu:size=16M,shared=on', 'emu gets shared=on');
  t.throws(() => sharedTarget('nvme0'), { code: 'PHYR_BAD_TARGET' });
  const socket = path.join(dir, 'absent.sock');
  const r = spawnSync(process.execPath, [CLI, 'serve', '0000:ff:1f.7', '--socket', socket], { encoding: 'utf8' });
  t.equal(r.status, 2, 'exit status 2 (usage)');
  t.match(r.stderr, /there is no PCI device 0000:ff:1f\.7/, 'the device is named, not refused as VFIO');
  t.notMatch(r.stderr, /not implemented/);
  t.notOk(fs.existsSync(socket), 'no socket was created');
});

t.test('an embedded-controller client is told to map BAR0 whole from its memfd', async (t) => {
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  await d.waitFor(/doorbells by memfd/);
  const c = await connect(d.socket, { hugepages: 'off' });
  t.equal(c.info.kind, 'emu');
  t.same(c.info.doorbells, { via: 'memfd', offset: 0, length: c.info.barSize, base: NVME.REG_DOORBELLS });
  const buf = c.pool.alloc(4096);
  buf.bytes.fill(0xa7);
  await c.namespace(1).write(8, buf);
  const back = c.pool.alloc(4096);
  await c.namespace(1).read(8, back);
  t.ok(back.bytes.every((b) => b === 0xa7), 'IO rings its doorbells at the base the daemon gave');
  await c.close();
});

t.test('a descriptor that is not a VFIO device fd is refused before any mmap', async (t) => {
  const mem = createSharedMemory(4096);
  t.throws(() => mapSharedRegion(mem.fd, { offset: 0, length: 4096 }), { code: 'PHYR_VFIO_SHARED_REGION', message: /not a VFIO device fd/ });
  t.throws(() => mapSharedRegion(0x7fff0000, { offset: 0, length: 4096 }), { code: 'PHYR_VFIO_SHARED_REGION' }, 'nor a number that is no descriptor');
});

t.test("a controller that offers shadow doorbells: the daemon leaves them off, so clients' MMIO doorbells count", async (t) => {
  // With Doorbell Buffer Config on (NVMe 2.0 §5.8) a controller may take IO queue tails
  // from the daemon's shadow buffer, which a client cannot write: QEMU's NVMe then never
  // sees a client's commands (the embedded controller also reads MMIO writes, so only the
  // daemon's choice is checked here; the VM tier runs the IO).
  const own = tmpDir();
  t.teardown(() => fs.rmSync(own, { recursive: true, force: true }));
  const daemon = await ServeDaemon.start('emu:backend=ram,size=16M,dbbuf=on', { socket: path.join(own, 'phyr.sock') });
  t.teardown(() => daemon.stop());
  t.equal(daemon.ctrl.identify.oacs & NVME.OACS_DOORBELL_BUFFER_CONFIG, NVME.OACS_DOORBELL_BUFFER_CONFIG, 'the controller offers Doorbell Buffer Config');
  t.equal(daemon.ctrl.shadowDoorbells, false, 'the daemon did not turn shadow doorbells on');
});
