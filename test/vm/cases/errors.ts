// Every VFIO error a person can meet, provoked for real in the guest, message checked.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { openVfio, VfioContainer } from '../../../lib/vfio';
import { closePool, poolFor, targetFn } from '../fixture';
import { test } from '../harness';
import { KERNEL_OWNED, PEER, SMALL_MDTS } from '../topology';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function withFakeRoot<T>(fn: (root: string) => T): T {
  const root = fs.mkdtempSync('/tmp/phyr-fake-');
  const before = process.env.PHYR_SYSFS_ROOT;
  process.env.PHYR_SYSFS_ROOT = root;
  try {
    return fn(root);
  } finally {
    if (before === undefined) delete process.env.PHYR_SYSFS_ROOT;
    else process.env.PHYR_SYSFS_ROOT = before;
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('errors: no /dev/vfio says to load vfio-pci and turn the IOMMU on', () => {
  withFakeRoot((root) => {
    fs.mkdirSync(path.join(root, 'dev'));
    assert.throws(() => new VfioContainer(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PHYR_VFIO_UNAVAILABLE');
      assert.match(e.message, /modprobe vfio-pci/);
      assert.match(e.message, /intel_iommu=on/);
      return true;
    });
  });
});

test('errors: a controller bound to the kernel nvme driver points at phyr setup --bind', () => {
  assert.throws(() => openVfio(KERNEL_OWNED), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'PHYR_VFIO_NOT_BOUND');
    assert.match(e.message, new RegExp(`bound to the kernel nvme driver: .*phyr setup --bind ${KERNEL_OWNED.replace(/\./g, '\\.')}`));
    return true;
  });
});

test('errors: an absent PCI address names phyr list', () => {
  assert.throws(() => openVfio('0000:00:1e.7'), /there is no PCI device 0000:00:1e\.7: see `phyr list`/);
});

test('errors: permission denied on /dev/vfio/N says how to get access', () => {
  const script = `try { require(${JSON.stringify(path.join(ROOT, 'lib', 'vfio'))}).openVfio(${JSON.stringify(SMALL_MDTS)}); console.log('opened'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/tmp', env: { ...process.env, HOME: '/tmp' } });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.code, 'PHYR_VFIO_EACCES', r.stdout);
  assert.match(out.message, /permission denied opening \/dev\/vfio\/\d+: run as root/);
});

test('errors: a group already open elsewhere is reported busy', () => {
  targetFn();
  const script = `try { require(${JSON.stringify(path.join(ROOT, 'lib', 'vfio'))}).openVfio(${JSON.stringify(PEER)}); console.log('opened'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.code, 'PHYR_VFIO_BUSY', r.stdout + r.stderr);
  assert.match(out.message, /in use by another process/);
});

test('errors: IOVA space exhausted names the size and the largest free range', () => {
  const c = targetFn().container;
  assert.throws(() => c.allocIova(2 ** 52), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'PHYR_VFIO_IOVA_EXHAUSTED');
    assert.match(e.message, /no free range of 4503599627370496 bytes \(largest free range \d+ bytes\)/);
    return true;
  });
});

test('errors: no free hugepages says how to reserve them', () => {
  const fn = targetFn();
  const pool = poolFor(fn); // hugepages: 'require'
  try {
    const free = Number(fs.readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', 'utf8'));
    // More than every free hugepage, and more than one chunk (so not the pool's spare one).
    assert.throws(() => pool.alloc((free + 2) * 2 ** 21), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PHYR_NO_HUGEPAGES');
      assert.match(e.message, /phyr setup --hugepages N/);
      return true;
    });
  } finally {
    closePool(fn); // a driver opened by a later case makes its own pool
  }
});

test('errors: a device whose memory decoding was turned off is reported before any BAR access', () => {
  const fn = targetFn();
  fn.checkAlive();
  // Behind VFIO's back, as another tool (setpci) or a reset would: sysfs config space.
  const cfg = fs.openSync(`/sys/bus/pci/devices/${fn.name}/config`, 'r+');
  const saved = Buffer.alloc(2);
  fs.readSync(cfg, saved, 0, 2, 4);
  const off = Buffer.alloc(2);
  off.writeUInt16LE(saved.readUInt16LE(0) & ~0x2);
  fs.writeSync(cfg, off, 0, 2, 4);
  try {
    assert.throws(() => fn.checkAlive(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PHYR_DEVICE_DISABLED');
      assert.match(e.message, /does not decode its BARs .* memory space off.*reopen it/);
      return true;
    });
  } finally {
    fs.writeSync(cfg, saved, 0, 2, 4);
    fs.closeSync(cfg);
  }
  fn.checkAlive();
});

test('errors: a group with a device on another driver is not viable, and the message names it', () => {
  // The ICH9 SATA (00:1f.2) and SMBus (00:1f.3) controllers share one IOMMU group.
  const sata = '0000:00:1f.2';
  const smbus = '0000:00:1f.3';
  const dev = (bdf: string) => `/sys/bus/pci/devices/${bdf}`;
  spawnSync('modprobe', ['i2c_i801']);
  const smbusDriver = fs.existsSync(`${dev(smbus)}/driver`) ? path.basename(fs.readlinkSync(`${dev(smbus)}/driver`)) : null;
  assert.ok(smbusDriver, 'the SMBus controller has a driver (i2c_i801)');
  fs.writeFileSync(`${dev(sata)}/driver_override`, 'vfio-pci');
  if (fs.existsSync(`${dev(sata)}/driver`)) fs.writeFileSync(`${dev(sata)}/driver/unbind`, sata);
  fs.writeFileSync('/sys/bus/pci/drivers_probe', sata);
  try {
    assert.throws(() => openVfio(sata), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PHYR_VFIO_GROUP_NOT_VIABLE', e.message);
      assert.match(e.message, new RegExp(`${smbus.replace(/\./g, '\\.')} is bound to ${smbusDriver}`));
      return true;
    });
  } finally {
    fs.writeFileSync(`${dev(sata)}/driver/unbind`, sata);
    fs.writeFileSync(`${dev(sata)}/driver_override`, '\n');
  }
});
