// Controller usage checks, phyr list and phyr setup against a fake sysfs/proc tree.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { listControllerStatus, unusableReason } from '../../lib/sysfs/controllers';
import { describeAction, planBind } from '../../lib/sysfs/bind';
import { readPciDevice } from '../../lib/sysfs/pci';
import { controllerUses, describeUses, mountsByDevice, namespaceBlockDevices, swapDevices } from '../../lib/sysfs/usage';
import * as list from '../../tools/commands/list';
import * as setup from '../../tools/commands/setup';
import { FakeRoot } from '../helpers/fake-sysfs';

const A = '0000:00:10.0'; // nvme, nvme0n1 mounted (partition), swap on nvme0n1p2
const B = '0000:00:11.0'; // nvme, multipath naming, held by dm (LVM) and open by a process
const C = '0000:00:12.0'; // nvme, unused
const D = '0000:00:13.0'; // vfio-pci

function tree(): FakeRoot {
  const f = new FakeRoot()
    .pci({ bdf: A, driver: 'nvme', group: 3 })
    .pci({ bdf: B, driver: 'nvme', group: 4 })
    .pci({ bdf: C, driver: 'nvme', group: 5 })
    .pci({ bdf: D, driver: 'vfio-pci', group: 6 })
    .dir('sys/bus/pci/drivers/nvme')
    .dir('sys/bus/pci/drivers/vfio-pci')
    .file('sys/bus/pci/drivers_probe', '')
    .file('dev/vfio/vfio', '')
    .file('dev/vfio/6', '');
  f.file(`sys/bus/pci/devices/${A}/nvme/nvme0/model`, 'QEMU NVMe Ctrl\n').file(`sys/bus/pci/devices/${A}/nvme/nvme0/serial`, 'phyr-vm-0\n');
  f.dir(`sys/bus/pci/devices/${A}/nvme/nvme0/nvme0n1`);
  f.file('sys/block/nvme0n1/dev', '259:0\n').file('sys/block/nvme0n1/nvme0n1p1/dev', '259:1\n').file('sys/block/nvme0n1/nvme0n1p2/dev', '259:2\n');
  f.dir(`sys/bus/pci/devices/${B}/nvme/nvme1/nvme1c1n1`);
  f.file('sys/block/nvme1n1/dev', '259:3\n').file('sys/block/nvme1n1/holders/dm-0', '').file('sys/block/dm-0/dm/name', 'vg0-data\n');
  f.dir(`sys/bus/pci/devices/${C}/nvme/nvme2/nvme2n1`).file('sys/block/nvme2n1/dev', '259:4\n');
  f.file('sys/block/nvme2n1/holders/md0', '');
  f.file('proc/self/mountinfo', '22 1 259:1 / /data rw,relatime - ext4 /dev/nvme0n1p1 rw\n23 1 0:5 / /proc rw - proc proc rw\n');
  f.file('proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n/dev/nvme0n1p2 partition 1000 0 -2\n');
  f.file('proc/4242/comm', 'dd\n').link('proc/4242/fd/5', '/dev/nvme1n1');
  return f.use();
}

t.test('usage checks find mounts, swap, holders and openers', async (t) => {
  const f = tree();
  t.teardown(() => f.restore());
  t.same(namespaceBlockDevices(A), ['nvme0n1']);
  t.same(namespaceBlockDevices(B), ['nvme1n1'], 'multipath path node maps to its head');
  t.same(mountsByDevice('1 2 8:1 / /a rw - ext4 x\n3 4 8:1 / /b\\040c rw - ext4 x\n').get('8:1'), ['/a', '/b c']);
  t.same(swapDevices('Filename Type\n/dev/sda2 partition\n'), ['/dev/sda2']);
  const a = controllerUses(A);
  t.same(a, [
    { device: 'nvme0n1p1', kind: 'mounted', detail: '/data' },
    { device: 'nvme0n1p2', kind: 'swap', detail: 'active swap' },
  ]);
  t.equal(describeUses(a), '/dev/nvme0n1p1 is mounted on /data; /dev/nvme0n1p2 is in use as swap');
  const b = controllerUses(B);
  t.same(b.map((u) => u.kind), ['holder', 'open']);
  t.match(describeUses(b), /held by dm-0 \(device-mapper vg0-data, LVM\); \/dev\/nvme1n1 is open by pid 4242 \(dd\)/);
  t.match(describeUses(controllerUses(C)), /held by md0 \(md RAID\)/);
  t.same(controllerUses(D), []);
});

t.test('controller status says whether phyr can use each one, and why not', async (t) => {
  const f = tree();
  t.teardown(() => f.restore());
  const all = listControllerStatus();
  t.same(all.map((c) => c.bdf), [A, B, C, D]);
  t.equal(all[0].model, 'QEMU NVMe Ctrl');
  t.equal(all[0].serial, 'phyr-vm-0');
  t.equal(all[0].id, '1b36:0010');
  t.match(all[0].reason, /bound to nvme and in use \(\/dev\/nvme0n1p1 is mounted on \/data/);
  t.equal(all[3].usable, true);
  t.equal(all[3].reason, '');
  const d = readPciDevice(D)!;
  t.match(unusableReason({ ...d, iommuGroup: null }, []), /IOMMU is off/);
  t.match(unusableReason({ ...d, driver: null }, []), /bound to no driver: run `phyr setup --bind 0000:00:13.0`/);
  t.match(unusableReason({ ...d, iommuGroup: 9 }, []), /\/dev\/vfio\/9 is missing/);
  t.match(unusableReason({ ...d, driver: 'nvme' }, []), /bound to nvme: run `phyr setup --bind/);
  f.pci({ bdf: '0000:00:13.1', classCode: 0x0c0500, driver: 'i801_smbus', group: 6 });
  t.match(unusableReason(d, []), /IOMMU group 6 also holds 0000:00:13\.1 \(i801_smbus\): bind those to vfio-pci too/);
});

t.test('phyr list prints a table and JSON', async (t) => {
  const f = tree();
  t.teardown(() => f.restore());
  const out: string[] = [];
  const log = console.log;
  console.log = (s: string) => void out.push(s);
  try {
    t.equal(await list.run([]), 0);
    t.match(out[0], /^ADDRESS\s+ID\s+MODEL\s+SERIAL\s+FW\s+DRIVER\s+GROUP\s+USABLE/);
    // A vfio-bound controller is opened for its model, serial and firmware; in the fake
    // tree there is no VFIO node, and the row says so instead of inventing them.
    t.match(out.join('\n'), /0000:00:13\.0\s+1b36:0010\s+-\s+-\s+-\s+vfio-pci\s+6\s+yes \(Identify failed: .*not a character device/);
    t.match(out.join('\n'), /\nemu\s+-\s+phyr embedded NVMe controller\s+PHYREMU0001\s+\S+\s+\(embedded\)\s+-\s+yes/);
    out.length = 0;
    t.equal(await list.run(['--json']), 0);
    const j = JSON.parse(out.join('\n'));
    t.equal(j.controllers.length, 4);
    t.equal(j.backend.using, 'type1');
    out.length = 0;
    t.equal(await list.run(['--help']), 0);
    t.match(out[0], /usage: phyr list/);
  } finally {
    console.log = log;
  }
});

t.test('phyr setup --bind refuses controllers in use, plans driver_override steps, and --dry-run changes nothing', async (t) => {
  const f = tree();
  t.teardown(() => f.restore());
  const out: string[] = [];
  const log = (l: string) => void out.push(l);
  t.equal(await setup.run(['--bind', A], log), 1, 'refused');
  t.match(out.join('\n'), /0000:00:10\.0: refusing to unbind it from nvme: \/dev\/nvme0n1p1 is mounted on \/data; .*swap.*--force/);
  out.length = 0;
  t.equal(await setup.run(['--bind', 'all', '--dry-run'], log), 1);
  t.equal(out.filter((l) => /refusing/.test(l)).length, 3, 'A, B and C refused (in use)');
  t.match(out.join('\n'), /0000:00:13\.0: already bound to vfio-pci/);
  out.length = 0;
  t.equal(await setup.run(['--bind', C, '--force', '--dry-run'], log), 0);
  const text = out.join('\n');
  t.match(text, /--force: taking it although \/dev\/nvme2n1 is held by md0/);
  t.match(text, /echo "vfio-pci" > .*0000:00:12\.0\/driver_override/);
  t.match(text, /echo "0000:00:12\.0" > .*0000:00:12\.0\/driver\/unbind/);
  t.match(text, /echo "0000:00:12\.0" > .*drivers_probe/);
  t.equal(fs.readFileSync(path.join(f.root, `sys/bus/pci/devices/${C}/driver_override`), 'utf8'), '(null)\n', 'dry run wrote nothing');
  out.length = 0;
  // A real run writes the steps; the fake kernel does not rebind, which setup reports.
  t.equal(await setup.run(['--bind', C, '--force'], log), 1);
  t.equal(fs.readFileSync(path.join(f.root, `sys/bus/pci/devices/${C}/driver_override`), 'utf8'), 'vfio-pci');
  t.equal(fs.readFileSync(path.join(f.root, 'sys/bus/pci/drivers_probe'), 'utf8'), C);
  t.match(out.join('\n'), /after probing it is bound to nvme, not vfio-pci \(see dmesg\)/);
  out.length = 0;
  t.equal(await setup.run(['--reset', '--dry-run'], log), 0);
  t.match(out.join('\n'), /0000:00:13\.0: would run:\n  echo "" > .*driver_override/);
  out.length = 0;
  t.equal(await setup.run(['--status'], log), 0);
  t.match(out.join('\n'), /0000:00:13\.0  vfio-pci  group 6  usable by phyr/);
  t.match(out.join('\n'), /hugepages: +\d+ reserved/);
  t.equal(await setup.run(['--hugepages', '8', '--dry-run'], log), 0);
  t.match(out.join('\n'), /would run: echo 8 > \/proc\/sys\/vm\/nr_hugepages/);
});

t.test('phyr setup argument errors', async (t) => {
  const f = tree();
  t.teardown(() => f.restore());
  const log = () => undefined;
  await t.rejects(setup.run(['--bind', 'emu'], log), /'emu' is not a PCI address/);
  await t.rejects(setup.run(['--bind', '0000:07:00.0'], log), /there is no PCI device 0000:07:00\.0/);
  f.pci({ bdf: '0000:00:1f.2', classCode: 0x010601, group: 7 });
  await t.rejects(setup.run(['--bind', '00:1f.2'], log), /is not an NVMe controller \(class 0x10601\)/);
  await t.rejects(setup.run(['--hugepages', 'x'], log), /must be a non-negative integer/);
  await t.rejects(setup.run(['stray'], log), /unexpected argument 'stray'/);
  t.equal(await setup.run([], log), 2);
  t.equal(await setup.run(['--help'], log), 0);
  const plan = planBind(readPciDevice('0000:00:1f.2')!, 'vfio-pci');
  t.same(plan.map((a) => a.kind), ['write', 'write'], 'no unbind step for a device with no driver');
  fs.rmSync(path.join(f.root, 'sys/bus/pci/drivers/nvme'), { recursive: true });
  const back = planBind(readPciDevice(D)!, 'nvme');
  t.equal(describeAction(back[0]), 'modprobe nvme    # load the nvme driver');
});
