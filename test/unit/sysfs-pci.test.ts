// PCI enumeration from a fake sysfs tree.
import t from 'tap';
import { iommuGroupMembers, listNvmeControllers, listPciAddresses, parseResources, pciMmioRanges, readPciDevice } from '../../lib/sysfs/pci';
import { devPath, procPath, sysPath } from '../../lib/sysfs/root';
import { FakeRoot } from '../helpers/fake-sysfs';

t.test('resource files parse to BAR ranges', async (t) => {
  const r = parseResources('0x00000000fe000000 0x00000000fe003fff 0x0000000000140204\n0x0000000000000000 0x0000000000000000 0x0000000000000000\n0x0000000800000000 0x0000000800ffffff 0x000000000014220c\n');
  t.same(r, [
    { index: 0, start: 0xfe000000, end: 0xfe003fff, flags: 0x140204 },
    { index: 2, start: 0x800000000, end: 0x800ffffff, flags: 0x14220c },
  ]);
  t.same(parseResources(''), []);
});

t.test('devices, drivers, groups and MMIO ranges come from sysfs', async (t) => {
  const fake = new FakeRoot()
    .pci({ bdf: '0000:00:10.0', driver: 'vfio-pci', group: 3 })
    .pci({ bdf: '0000:00:11.0', driver: 'nvme', group: 4, resources: ['0x00000000fe004000 0x00000000fe007fff 0x0000000000140204'] })
    .pci({ bdf: '0000:00:1f.2', classCode: 0x010601, group: 5, resources: ['0x000000000000c040 0x000000000000c05f 0x0000000000040101'] })
    .use();
  t.teardown(() => fake.restore());
  t.equal(sysPath('bus'), `${fake.root}/sys/bus`);
  t.equal(procPath('mounts'), `${fake.root}/proc/mounts`);
  t.equal(devPath('vfio'), `${fake.root}/dev/vfio`);
  t.same(listPciAddresses(), ['0000:00:10.0', '0000:00:11.0', '0000:00:1f.2']);
  const d = readPciDevice('0000:00:10.0')!;
  t.equal(d.vendor, 0x1b36);
  t.equal(d.classCode, 0x010802);
  t.equal(d.driver, 'vfio-pci');
  t.equal(d.driverOverride, null);
  t.equal(d.iommuGroup, 3);
  t.equal(readPciDevice('0000:09:00.0'), null);
  t.same(listNvmeControllers().map((c) => c.bdf), ['0000:00:10.0', '0000:00:11.0']);
  t.same(iommuGroupMembers(5), ['0000:00:1f.2']);
  t.same(iommuGroupMembers(99), []);
  t.same(pciMmioRanges(), [
    { start: 0xfe000000, end: 0xfe003fff },
    { start: 0xfe004000, end: 0xfe007fff },
  ], 'IO-port BARs are not memory');
});

t.test('an empty tree lists nothing', async (t) => {
  const fake = new FakeRoot().use();
  t.teardown(() => fake.restore());
  t.same(listPciAddresses(), []);
  t.same(listNvmeControllers(), []);
});
