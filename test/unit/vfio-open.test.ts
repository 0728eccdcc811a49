// The VFIO layer on a host without VFIO: every refusal before an ioctl is reached says
// what to do; native argument checks refuse bad input; backend detection reports.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { detectBackend } from '../../lib/vfio/backend';
import { barReadsAllOnes } from '../../lib/vfio/alive';
import { mapPeerBar } from '../../lib/vfio/peer';
import { preflight, requireVfio } from '../../lib/vfio/preflight';
import { deviceGone, groupNotViable, memoryDisabled } from '../../lib/vfio/errors';
import { memoryNative } from '../../lib/dma/native';
import { vfioNative } from '../../lib/vfio/native';
import { write32 } from '../../lib/mmio';
import { FakeRoot } from '../helpers/fake-sysfs';


t.test('preflight refuses with advice before touching VFIO', async (t) => {
  const fake = new FakeRoot()
    .pci({ bdf: '0000:00:10.0', driver: 'nvme', group: 3 })
    .pci({ bdf: '0000:00:11.0', group: 4 })
    .pci({ bdf: '0000:00:12.0', driver: 'vfio-pci' })
    .pci({ bdf: '0000:00:13.0', driver: 'vfio-pci', group: 6 })
    .use();
  t.teardown(() => fake.restore());
  t.throws(() => preflight('0000:05:00.0'), /there is no PCI device 0000:05:00\.0: see `phyr list`/);
  t.throws(() => preflight('0000:00:10.0'), /bound to the kernel nvme driver: give it to vfio-pci with `phyr setup --bind 0000:00:10\.0`/);
  t.throws(() => preflight('0000:00:11.0'), /bound to no driver, not vfio-pci: run `phyr setup --bind 0000:00:11\.0`/);
  t.throws(() => preflight('0000:00:12.0'), /has no IOMMU group, so the IOMMU is off: boot with intel_iommu=on/);
  t.throws(() => preflight('0000:00:13.0'), /\/dev\/vfio\/vfio does not exist: load the VFIO driver \(`modprobe vfio-pci`\)/);
  t.throws(() => requireVfio(), { code: 'PHYR_VFIO_UNAVAILABLE' });
  fake.file('dev/vfio/vfio', '');
  t.equal(preflight('0000:00:13.0').iommuGroup, 6, 'a bound device with VFIO loaded passes');
  fs.rmSync(path.join(fake.root, 'dev/vfio/vfio'));
  t.equal(detectBackend().using, 'none');
  t.match(detectBackend().summary, /modprobe vfio-pci/);
});

t.test('backend detection reports the container and iommufd nodes', async (t) => {
  const fake = new FakeRoot().file('dev/vfio/vfio', '').use();
  t.teardown(() => fake.restore());
  t.equal(detectBackend().using, 'type1');
  t.match(detectBackend().summary, /legacy container.*iommufd absent/);
  fake.file('dev/iommu', '').dir('dev/vfio/devices');
  t.equal(detectBackend().iommufd, true);
  t.match(detectBackend().summary, /iommufd is present too/);
  fs.rmSync(path.join(fake.root, 'dev/vfio/vfio'));
  t.match(detectBackend().summary, /only iommufd/);
});

t.test('error builders name devices and drivers', async (t) => {
  t.match(groupNotViable(5, [{ bdf: '0000:00:1f.3', driver: 'i801_smbus' }, { bdf: '0000:00:1f.4', driver: null }]).message,
    /IOMMU group 5 is not viable: .*0000:00:1f\.3 is bound to i801_smbus, 0000:00:1f\.4 is bound to no driver/);
  t.match(deviceGone('0000:01:00.0', 'BAR0').message, /stopped answering \(BAR0 reads all-ones\)/);
  t.match(memoryDisabled('0000:01:00.0', 0x404).message, /command register 0x404 has memory space off/);
  const bar = new ArrayBuffer(16);
  t.equal(barReadsAllOnes(bar), false);
  write32(bar, 0, 0xffffffff);
  write32(bar, 4, 0xffffffff);
  t.equal(barReadsAllOnes(bar), true, 'a BAR of all-ones is a device that fell off the bus');
});

t.test('native VFIO calls validate every argument', async (t) => {
  const n = vfioNative();
  const mem = new ArrayBuffer(8192);
  t.throws(() => n.closeFd(-1), /fd must be an integer from 0/);
  t.throws(() => n.containerCaps('x' as unknown as number), /containerFd must be a number/);
  t.throws(() => n.setIommu(3, 0), /type must be an integer from 1/);
  t.throws(() => n.regionInfo(3, 256), /region index must be an integer from 0 to 255/);
  t.throws(() => n.mapDma(3, {} as ArrayBuffer, 0, 1, 0, true, true), /memory must be an ArrayBuffer/);
  t.throws(() => n.mapDma(3, mem, 0, 8193, 0, true, true), /length must be an integer from 1 to 8192/);
  t.throws(() => n.mapDma(3, mem, 8192, 1, 0, true, true), /length must be an integer from 1 to 0/);
  t.throws(() => n.mapDma(3, mem, 0, 1, -1, true, true), /iova must be an integer/);
  t.throws(() => n.mapDma(3, mem, 0, 1, 0, 1 as unknown as boolean, true), /read must be a boolean/);
  t.throws(() => n.mapDma(3, mem, 0, 1, 0, false, false), /must allow read or write/);
  t.throws(() => n.unmapDma(3, 0, 0), /length must be an integer from 1/);
  t.throws(() => n.groupDeviceFd(3, ''), /1 to 64 characters/);
  t.throws(() => n.groupDeviceFd(3, 5 as unknown as string), /device name must be a string/);
  t.throws(() => n.setIrqEventfds(3, 2, 0, 'x' as unknown as number[]), /eventfds must be an array/);
  t.throws(() => n.setIrqEventfds(3, 2, 0, [1.5]), /eventfds\[0\] is not a file descriptor/);
  t.throws(() => n.setIrqEventfds(3, 2, 2047, [1, 2]), /at most 2048 vectors/);
  t.throws(() => n.configRead(3, 0, 4096, 4), /offset must be an integer from 0 to 4095/);
  t.throws(() => n.configRead(3, 0, 2, 4), /naturally aligned/);
  t.throws(() => n.configRead(3, 0, 0, 3), /naturally aligned/);
  t.throws(() => n.configWrite(3, 0, 0, 1, 256), /value must be an integer from 0 to 255/);
  t.throws(() => n.mmapRegion(3, 0, 0), /size must be an integer from 1/);
  t.throws(() => n.mapDma(3, new ArrayBuffer(4096), 0, 4096, 0, 'yes' as unknown as boolean, true), /read must be a boolean/);
  t.throws(() => n.unmapBuffer(new ArrayBuffer(8)), /not a mapping made by the VFIO layer/);
  t.throws(() => n.openPath(7 as unknown as string), /path must be a string/);
});

t.test('native VFIO calls on non-VFIO fds report errno, code and syscall', async (t) => {
  const n = vfioNative();
  const fd = n.openPath('/dev/null');
  t.teardown(() => n.closeFd(fd));
  const check = (f: () => unknown, syscall: RegExp) =>
    t.throws(f, { code: 'ENOTTY', errno: 25, syscall });
  check(() => n.containerCaps(fd), /VFIO_GET_API_VERSION/);
  check(() => n.setIommu(fd, 3), /VFIO_SET_IOMMU/);
  check(() => n.iommuInfo(fd), /VFIO_IOMMU_GET_INFO/);
  check(() => n.groupStatus(fd), /VFIO_GROUP_GET_STATUS/);
  check(() => n.groupSetContainer(fd, fd), /VFIO_GROUP_SET_CONTAINER/);
  check(() => n.groupUnsetContainer(fd), /VFIO_GROUP_UNSET_CONTAINER/);
  check(() => n.groupDeviceFd(fd, '0000:00:10.0'), /VFIO_GROUP_GET_DEVICE_FD/);
  check(() => n.deviceInfo(fd), /VFIO_DEVICE_GET_INFO/);
  check(() => n.regionInfo(fd, 0), /VFIO_DEVICE_GET_REGION_INFO/);
  check(() => n.irqInfo(fd, 2), /VFIO_DEVICE_GET_IRQ_INFO/);
  check(() => n.reset(fd), /VFIO_DEVICE_RESET/);
  check(() => n.setIrqEventfds(fd, 2, 0, []), /VFIO_DEVICE_SET_IRQS/);
  // Page-aligned DMA memory from the memory room (the one DMA memory path).
  const mem = memoryNative().allocate(8192, false)!;
  check(() => n.mapDma(fd, mem, 0, 8192, 0, true, true), /VFIO_IOMMU_MAP_DMA/);
  check(() => n.unmapDma(fd, 0, 4096), /VFIO_IOMMU_UNMAP_DMA/);
  t.throws(() => n.mapDma(fd, mem, 1, 10, 0, true, false), /same offset within a 4 KiB page/);
  t.throws(() => n.openPath('/nonexistent/vfio'), { code: 'ENOENT' });
  // Config space goes only through device fds (never pread on a VFIO node or a stranger).
  t.throws(() => n.configRead(fd, 0, 0, 4), { code: 'EBADF', message: /is a VFIO node from openPath; expected a device fd from groupDeviceFd/ });
});

// DMA memory (hugepage or locked 4 KiB pages, sizes, the no-hugepage advice) is the memory
// room's: dma-native, dma-hugepages and memory_region_test. unmapBuffer takes only what the
// VFIO layer mapped (BARs); a detached buffer is already unmapped.
t.test('unmapBuffer refuses memory the VFIO layer did not map; eventfds read without blocking', async (t) => {
  const n = vfioNative();
  t.throws(() => n.unmapBuffer(memoryNative().allocate(4096, false)!), /not a mapping made by the VFIO layer/);
  const gone = new ArrayBuffer(8);
  structuredClone(gone, { transfer: [gone] });
  n.unmapBuffer(gone); // idempotent on a detached buffer
  const fd = vfioNative().eventfd();
  t.equal(vfioNative().readEventfd(fd), 0, 'nothing signalled yet');
  vfioNative().closeFd(fd);
  t.type(mapPeerBar, 'function');
});

t.test('mapPeerBar maps a window of a peer BAR into the shared container', async (t) => {
  const calls: string[] = [];
  let closed = false;
  const container = {
    allocIova: (size: number, align: number) => (calls.push(`alloc ${size} ${align}`), 0x10000000),
    freeIova: (iova: number, size: number) => void calls.push(`free ${iova.toString(16)} ${size}`),
    map: (buf: ArrayBuffer, off: number, len: number, iova: number) => {
      if (len > 1 << 20) throw new Error('map refused');
      calls.push(`map ${buf.byteLength} ${off} ${len} ${iova.toString(16)}`);
    },
    unmap: (iova: number, len: number) => void calls.push(`unmap ${iova.toString(16)} ${len}`),
    get isClosed() {
      return closed;
    },
  };
  const bar = new ArrayBuffer(4 << 20);
  const peer = { bar: () => bar, container } as unknown as Parameters<typeof mapPeerBar>[0];
  const m = mapPeerBar(peer, 2, { offset: 4096, length: 5000 });
  t.equal(m.iova, 0x10000000);
  t.equal(m.length, 5000);
  t.equal(m.phyr.length, 1);
  t.equal(m.phyr.addrAt(0), 0x10000000);
  t.equal(m.phyr.lenAt(0), 5000);
  t.equal(m.phyr.flagsAt(0), 2, 'PEER_TO_PEER');
  t.same(calls, ['alloc 8192 4096', `map ${4 << 20} 4096 8192 10000000`]);
  m.release();
  m.release();
  t.same(calls.slice(2), ['unmap 10000000 8192', 'free 10000000 8192'], 'released once');
  t.throws(() => mapPeerBar(peer, 2, { offset: 100 }), /multiple of 4096/);
  t.throws(() => mapPeerBar(peer, 2, { offset: 0, length: (4 << 20) + 1 }), /does not fit BAR 2/);
  calls.length = 0;
  t.throws(() => mapPeerBar(peer, 2, { offset: 0, length: 2 << 20 }), /map refused/);
  t.same(calls, ['alloc 2097152 4096', 'free 10000000 2097152'], 'IOVA returned when the map fails');
  const whole = mapPeerBar(peer, 2, { offset: 0, length: 1 << 20 });
  closed = true;
  calls.length = 0;
  whole.release();
  t.same(calls, [], 'nothing to unmap once the container is closed');
});
