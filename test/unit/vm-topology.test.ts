// The VM tier's controllers: every configuration validate must pass is there, the twin
// pair is one spec on two drivers, the hotplug controller is the last slot, and the PCI
// addresses the cases use are where QEMU puts the controllers.
import t from 'tap';
import { nvmeQemuArgs, parseNvmeSpec } from '../../tools/vm/nvme-spec';
import * as topo from '../vm/topology';

t.test('the VM tier topology', async (t) => {
  const specs = topo.VM_TIER_CONTROLLERS.map(parseNvmeSpec);
  const placed = nvmeQemuArgs(specs, '/img').placed;
  const at = (bdf: string) => {
    const c = placed.find((p) => p.bdf === bdf);
    if (!c) throw new Error(`no controller at ${bdf}`);
    return c;
  };
  t.equal(at(topo.TARGET).cmbMiB, 16, 'a CMB');
  t.same(at(topo.PEER).lbads, [9, 12], 'two namespaces with 512 B and 4 KiB LBAs');
  t.equal(at(topo.PEER).namespaces, 2);
  t.same([at(topo.ONE_QUEUE_PAIR).mdts, at(topo.ONE_QUEUE_PAIR).maxQueuePairs], [1, 1], 'mdts=1 with one IO queue pair');
  t.same(at(topo.ONE_VECTOR).qemu, { msix_qsize: '1' }, 'one MSI-X vector');
  t.equal(at(topo.NULL_BACKEND).backing, 'null', 'a null backend');
  const twinK = at(topo.TWIN_KERNEL);
  const twinV = at(topo.TWIN_VFIO);
  t.equal(twinK.driver, 'nvme');
  t.equal(twinV.driver, 'vfio-pci');
  const strip = (c: typeof twinK) => ({ ...c, bdf: '', serial: '', driver: '' });
  t.same(strip(twinK), strip(twinV), 'the twins differ only in driver, address and serial');
  const last = placed[placed.length - 1];
  t.equal(last.hotplug, true, 'the hotplug controller is the last slot');
  t.equal(placed.filter((p) => p.hotplug).length, 1, 'and the only one behind a root port');
  t.equal(last.bdf, topo.HOTPLUG);
  t.equal(topo.HOTPLUG_ID, `nvme${placed.length - 1}`);
  t.match(nvmeQemuArgs(specs, '/img').args.join(' '), new RegExp(`pcie-root-port,id=rp${placed.length - 1},bus=pcie.0,addr=0x${(0x10 + placed.length - 1).toString(16)}`));
  t.ok(specs.length <= 12, 'within the testbed limit');
  t.equal(new Set(placed.map((p) => p.bdf)).size, placed.length, 'distinct addresses');
});
