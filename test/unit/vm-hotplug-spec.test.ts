// The testbed's `hotplug` controller key: the controller sits behind its own PCIe root
// port in its slot (devices on the root bus cannot be unplugged), with a known address.
import t from 'tap';
import { nvmeQemuArgs, parseNvmeSpec } from '../../tools/vm/nvme-spec';

t.test('hotplug puts the controller behind a root port and names its address', async (t) => {
  const specs = ['size=16M', 'size=16M,hotplug', 'size=16M', 'size=16M,hotplug=on'].map(parseNvmeSpec);
  t.equal(specs[1].hotplug, true);
  t.equal(specs[0].hotplug, undefined);
  const { args, placed } = nvmeQemuArgs(specs, '/var/tmp/x');
  const devices = args.filter((_, i) => args[i - 1] === '-device');
  t.ok(devices.includes('pcie-root-port,id=rp1,bus=pcie.0,addr=0x11,chassis=2,slot=2'), 'root port in the slot the controller would have had');
  t.ok(devices.includes('nvme,id=nvme1,serial=phyr-vm-1,bus=rp1,addr=0x0'), 'the controller on the root port bus');
  t.ok(devices.indexOf('pcie-root-port,id=rp1,bus=pcie.0,addr=0x11,chassis=2,slot=2') < devices.indexOf('nvme,id=nvme1,serial=phyr-vm-1,bus=rp1,addr=0x0'), 'the port comes first');
  t.same(placed.map((p) => p.bdf), ['0000:00:10.0', '0000:01:00.0', '0000:00:12.0', '0000:02:00.0'], 'root port buses are numbered in slot order');
  t.throws(() => parseNvmeSpec('hotplug=yes'), { code: 'PHYR_VM_SPEC' });
});
