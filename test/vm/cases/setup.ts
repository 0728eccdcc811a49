// phyr list / phyr setup in the guest, against the controller left to the kernel nvme
// driver: an ext4 filesystem on it is mounted, and setup --bind must refuse; an open file
// descriptor must also make it refuse; once free, bind and give back work.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readPciDevice } from '../../../lib/sysfs/pci';
import { namespaceBlockDevices } from '../../../lib/sysfs/usage';
import { test, waitFor } from '../harness';
import { KERNEL_OWNED, TARGET, VM_TIER_CONTROLLERS } from '../topology';

const PHYR = path.resolve(__dirname, '..', '..', '..', 'tools', 'phyr.js');
const phyr = (...args: string[]) => spawnSync(process.execPath, [PHYR, ...args], { encoding: 'utf8' });
const sh = (cmd: string) => {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};

let disk = '';

test('setup: the kernel nvme driver exposes the fourth controller as a block device', async () => {
  await waitFor(() => namespaceBlockDevices(KERNEL_OWNED).length > 0 && fs.existsSync(`/dev/${namespaceBlockDevices(KERNEL_OWNED)[0]}`), 20000, 'the nvme block device');
  disk = `/dev/${namespaceBlockDevices(KERNEL_OWNED)[0]}`;
});

test('setup: phyr list shows every controller, its driver and why it is or is not usable', () => {
  const r = phyr('list');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${TARGET.replace(/\./g, '\\.')}\\s+1b36:0010\\s+.*vfio-pci\\s+\\d+\\s+(yes|no: IOMMU group)`));
  assert.match(r.stdout, new RegExp(`${KERNEL_OWNED.replace(/\./g, '\\.')}\\s+1b36:0010\\s+QEMU NVMe Ctrl\\s+phyr-vm-3\\s+\\S+\\s+nvme\\s+\\d+\\s+no: bound to nvme: run \`phyr setup --bind`));
  assert.match(r.stdout, /VFIO: VFIO legacy container \(type1 IOMMU\)/);
  const j = JSON.parse(phyr('list', '--json').stdout);
  assert.equal(j.controllers.length, VM_TIER_CONTROLLERS.length);
});

test('setup: --bind refuses a controller with a mounted ext4 filesystem', () => {
  sh(`modprobe ext4 && mkfs.ext4 -q -F ${disk} && mkdir -p /tmp/phyr-mnt && mount ${disk} /tmp/phyr-mnt && echo data > /tmp/phyr-mnt/file`);
  try {
    const r = phyr('setup', '--bind', KERNEL_OWNED);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`refusing to unbind it from nvme: ${disk} is mounted on /tmp/phyr-mnt`));
    assert.equal(readPciDevice(KERNEL_OWNED)!.driver, 'nvme', 'still with the kernel');
    assert.equal(fs.readFileSync('/tmp/phyr-mnt/file', 'utf8'), 'data\n', 'the filesystem is untouched');
    const all = phyr('setup', '--bind', 'all', '--dry-run');
    assert.match(all.stdout, new RegExp(`${KERNEL_OWNED.replace(/\./g, '\\.')}: refusing`));
  } finally {
    sh('umount /tmp/phyr-mnt');
  }
});

test('setup: --bind refuses a controller another process has open', async () => {
  const holder = spawn('sh', ['-c', `exec 3<${disk}; exec sleep 60`], { stdio: 'ignore' });
  try {
    await waitFor(() => {
      try {
        return fs.readlinkSync(`/proc/${holder.pid}/fd/3`) === disk;
      } catch {
        return false;
      }
    }, 5000, 'the holder to open the disk');
    const r = phyr('setup', '--bind', KERNEL_OWNED);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`${disk} is open by pid ${holder.pid} \\(sleep\\)`));
  } finally {
    holder.kill('SIGKILL');
  }
});

test('setup: --status, then --bind, phyr identify through VFIO, and --reset move a free controller between nvme and vfio-pci', async () => {
  const st = phyr('setup', '--status');
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /hugepages: +\d+ reserved, \d+ free \(2048 KiB each\)/);
  assert.match(st.stdout, new RegExp(`${KERNEL_OWNED.replace(/\./g, '\\.')}  nvme  group \\d+  not usable: bound to nvme`));
  const dry = phyr('setup', '--bind', KERNEL_OWNED, '--dry-run');
  assert.match(dry.stdout, /echo "vfio-pci" > \/sys\/bus\/pci\/devices\/0000:00:13\.0\/driver_override/);
  const b = phyr('setup', '--bind', KERNEL_OWNED);
  assert.equal(b.status, 0, b.stdout + b.stderr);
  assert.match(b.stdout, /bound to vfio-pci \(\/dev\/vfio\/\d+\)/);
  assert.equal(readPciDevice(KERNEL_OWNED)!.driver, 'vfio-pci');
  // Now phyr can drive it: `phyr identify` through VFIO.
  const id = phyr('identify', KERNEL_OWNED);
  assert.equal(id.status, 0, id.stdout + id.stderr);
  assert.match(id.stdout, /phyr-vm-3/);
  assert.match(id.stdout, /QEMU NVMe Ctrl/);
  const back = phyr('setup', '--reset', KERNEL_OWNED);
  assert.equal(back.status, 0, back.stdout + back.stderr);
  assert.equal(readPciDevice(KERNEL_OWNED)!.driver, 'nvme');
  const h = phyr('setup', '--hugepages', '72');
  assert.match(h.stdout, /hugepages: 72 reserved/);
});
