// The tier's topology as the guest sees it: every controller where topology.ts says, each
// bound to its driver, no two controllers in one IOMMU group (so phyr validate and
// the cases can open them from separate processes), and the hugepages reserved.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { nvmeQemuArgs, parseNvmeSpec } from '../../../tools/vm/nvme-spec';
import { note, test } from '../harness';
import { VM_TIER_CONTROLLERS, VM_TIER_HUGEPAGES } from '../topology';

test('topology: every controller at its address, bound to its driver, no two in one IOMMU group; hugepages reserved', () => {
  const placed = nvmeQemuArgs(VM_TIER_CONTROLLERS.map(parseNvmeSpec), '/unused').placed;
  const groups = new Map<string, string>();
  for (const c of placed) {
    const dev = `/sys/bus/pci/devices/${c.bdf}`;
    assert.ok(fs.existsSync(dev), `${c.bdf} (${VM_TIER_CONTROLLERS[placed.indexOf(c)]}) is present`);
    const driver = fs.existsSync(`${dev}/driver`) ? path.basename(fs.readlinkSync(`${dev}/driver`)) : 'none';
    assert.equal(driver, c.driver, `${c.bdf} is bound to ${c.driver}`);
    const group = path.basename(fs.readlinkSync(`${dev}/iommu_group`));
    // Behind a root port (hotplug) the port may share the group; no other controller may.
    const members = fs.readdirSync(`${dev}/iommu_group/devices`);
    const others = members.filter((m) => m !== c.bdf && placed.some((p) => p.bdf === m));
    assert.deepEqual(others, [], `${c.bdf} shares IOMMU group ${group} with no other controller`);
    assert.ok(!groups.has(group), `group ${group} is not shared with ${groups.get(group)}`);
    groups.set(group, c.bdf);
  }
  const huge = Number(fs.readFileSync('/proc/sys/vm/nr_hugepages', 'utf8'));
  assert.equal(huge, VM_TIER_HUGEPAGES, `${VM_TIER_HUGEPAGES} hugepages reserved`);
  note(`kernel ${fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}: ${placed.length} controllers in ${groups.size} IOMMU groups, ${huge} hugepages`);
});
